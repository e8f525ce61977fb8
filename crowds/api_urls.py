from django.urls import path
from rest_framework.routers import SimpleRouter

from crowds.apis import ConditionCompileApi, CrowdViewSet, InstanceViewSet, TagViewSet

router = SimpleRouter()
router.register("tags", TagViewSet, basename="tag")
router.register("crowds", CrowdViewSet, basename="crowd")
router.register("instances", InstanceViewSet, basename="instance")

urlpatterns = [
    path("conditions/compile/", ConditionCompileApi.as_view(), name="condition-compile"),
    *router.urls,
]
