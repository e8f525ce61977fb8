"""Routes of the REST API under /api/v1/; each app adds its own."""

from django.urls import include, path

urlpatterns = [
    path("", include("brands.api_urls")),
    path("", include("crowds.api_urls")),
    path("", include("campaigns.api_urls")),
    path("", include("reports.api_urls")),
    path("cdp/", include("brands.cdp_api_urls")),
    path("cdp/", include("reports.cdp.api_urls")),
    path("", include("crowds.openid_api_urls")),
]
