"""Admin of reports: every brand's rows; re-pull a day from the admin."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django_scopes import scope

from portal.integrations.jdcloud.errors import JDCloudError
from reports import services
from reports.models import ReportRow


@admin.register(ReportRow)
class ReportRowAdmin(admin.ModelAdmin):
    list_display = (
        "package_id",
        "brand",
        "report_date",
        "report_type",
        "reach_type",
        "delivered_num",
        "pay_pins",
        "pay_amount",
        "top5_malformed",
    )
    # The report day as a filter, not a date_hierarchy: the hierarchy's bar is a DISTINCT
    # over every row's year / month / day on each page view (a pull adds a row per package).
    list_filter = ("report_date", "report_type", "reach_type", "top5_malformed", "brand")
    list_select_related = ("brand",)
    search_fields = ("package_id", "brand__name", "brand__master_id")
    readonly_fields = ("top5", "top5_raw")
    actions = ["repull"]

    @admin.action(description=_("Pull these days again from JD Cloud"))
    def repull(self, request, queryset):
        done = set()
        for brand, day in queryset.values_list("brand", "report_date").distinct():
            row = queryset.filter(brand=brand, report_date=day).select_related("brand").first()
            try:
                with scope(brand=row.brand):
                    services.report_repull(brand=row.brand, report_date=day)
                done.add((brand, day))
            except JDCloudError as exc:
                self.message_user(request, f"{row.brand} {day}: {exc}", messages.ERROR)
        self.message_user(request, _("%(count)d brand-days pulled again.") % {"count": len(done)})


import reports.cdp.admin  # noqa: E402, F401 - registers the Linkflow report admin
