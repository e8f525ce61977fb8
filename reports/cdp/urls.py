"""Pages of Linkflow reports and dashboards, under /cdp/reports/ (REST: `api_urls`)."""

from django.urls import path

from reports.cdp import views

app_name = "cdp_reports"
urlpatterns = [
    path("", views.dashboards, name="dashboards"),
    path("dashboards/<int:dashboard_id>/", views.dashboard, name="dashboard"),
    path("<int:report_id>/", views.report, name="report"),
    path("<int:report_id>/refresh/", views.report_refresh, name="refresh"),
]
