from django.urls import path
from rest_framework.routers import SimpleRouter

from brands.apis import BrandApi, BrandUserViewSet, LinkflowTestApi, MeApi

router = SimpleRouter()
router.register("brand/users", BrandUserViewSet, basename="brand-user")

urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
    path("brand/", BrandApi.as_view(), name="brand"),
    path("brand/linkflow-test/", LinkflowTestApi.as_view(), name="brand-linkflow-test"),
    *router.urls,
]
