"""CDP pages under /cdp/ (the reports and dashboards live in reports.cdp)."""

from django.urls import path
from django.views.generic import RedirectView

from brands import cdp_views

app_name = "cdp"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cdp:groups"), name="index"),
    path("groups/", cdp_views.groups, name="groups"),
    path("groups/<int:group_id>/", cdp_views.group_detail, name="group"),
    path("tags/", cdp_views.tags, name="tags"),
    path("links/", cdp_views.links, name="links"),
    path("links/<int:pk>/retry/", cdp_views.link_retry, name="link-retry"),
]
