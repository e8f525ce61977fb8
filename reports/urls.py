"""The reports app's pages, under /reports/ (the REST API is in `api_urls`)."""

from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report_overview, name="overview"),
    path("repull/", views.report_repull, name="repull"),
    path("packages/<str:package_id>/", views.package_report, name="package"),
    path("packages/<str:package_id>/request/", views.report_request, name="request"),
    path("uplift/<int:instance_id>/", views.split_uplift_report, name="uplift"),
]
