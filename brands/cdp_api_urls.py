"""REST routes under /api/v1/cdp/ (reports and dashboards: reports.cdp.api_urls)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from brands import cdp_apis

router = SimpleRouter()
router.register("short-links", cdp_apis.TrackedLinkViewSet, basename="cdp-short-link")

urlpatterns = [
    path("groups/", cdp_apis.GroupsApi.as_view(), name="cdp-groups"),
    path(
        "groups/<int:group_id>/members/",
        cdp_apis.GroupMembersApi.as_view(),
        name="cdp-group-members",
    ),
    path("tags/", cdp_apis.TagsApi.as_view(), name="cdp-tags"),
    path(
        "short-links/<int:pk>/retry/",
        cdp_apis.TrackedLinkViewSet.as_view({"post": "retry"}),
        name="cdp-short-link-retry",
    ),
    *router.urls,
]
