"""REST routes of Linkflow reports and dashboards, under /api/v1/cdp/."""

from django.urls import path

from reports.cdp import apis

urlpatterns = [
    path("reports/<int:report_id>/", apis.ReportApi.as_view(), name="cdp-report"),
    path("dashboards/<int:dashboard_id>/", apis.DashboardApi.as_view(), name="cdp-dashboard"),
]
