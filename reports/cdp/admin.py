"""Admin of Linkflow report snapshots and remembered dashboards (every brand's; the admin
runs outside any brand scope). Imported by `reports.admin`."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from brands.linkflow import LinkflowNotConnected
from reports.cdp import services
from reports.cdp.models import LinkflowDashboard, LinkflowReport


@admin.register(LinkflowReport)
class LinkflowReportAdmin(admin.ModelAdmin):
    list_display = (
        "report_id",
        "name",
        "brand",
        "chart_type",
        "status",
        "poll_count",
        "requested_at",
        "ready_at",
    )
    list_filter = ("status", "chart_type", "brand")
    list_select_related = ("brand",)
    search_fields = ("report_id", "name", "brand__name", "brand__master_id")
    readonly_fields = (
        "brand",
        "report_id",
        "name",
        "chart_type",
        "status",
        "body",
        "error",
        "requested_at",
        "ready_at",
        "poll_count",
        "next_poll_at",
        "created_at",
        "updated_at",
    )
    actions = ["fetch_again"]

    def has_add_permission(self, request) -> bool:
        return False  # snapshots come from Linkflow, through a brand opening a report

    @admin.action(description=_("Fetch again from Linkflow"))
    def fetch_again(self, request, queryset):
        started = 0
        for report in queryset.select_related("brand"):
            try:
                again = services.linkflow_report_open(
                    brand=report.brand, report_id=report.report_id, refresh=True
                )
            except LinkflowNotConnected as exc:
                self.message_user(request, f"{report.brand}: {exc}", messages.ERROR)
                continue
            started += again.in_flight
        self.message_user(
            request, _("%(count)d reports are being fetched again.") % {"count": started}
        )


@admin.register(LinkflowDashboard)
class LinkflowDashboardAdmin(admin.ModelAdmin):
    list_display = ("dashboard_id", "name", "brand", "opened_at")
    list_filter = ("brand",)
    list_select_related = ("brand",)
    search_fields = ("dashboard_id", "name", "brand__name")
    readonly_fields = ("brand", "dashboard_id", "name", "reports", "opened_at")

    def has_add_permission(self, request) -> bool:
        return False
