"""Admin of Linkflow write-back jobs (every brand's), with "retry"."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from campaigns.writeback import writeback_can_retry, writeback_retry
from campaigns.writeback_models import WritebackJob


@admin.register(WritebackJob)
class WritebackJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "brand",
        "source_kind",
        "source_id",
        "status",
        "sent",
        "rejected",
        "total",
        "updated_at",
    )
    list_filter = ("status", "source_kind", "brand")
    search_fields = ("brand__name", "reason")
    list_select_related = ("brand",)
    readonly_fields = [f.name for f in WritebackJob._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Write the selected jobs back again"))
    def retry(self, request, queryset):
        retried = 0
        for job in queryset.select_related("brand"):
            if writeback_can_retry(job):
                writeback_retry(job=job)
                retried += 1
        self.message_user(
            request, _("%(count)d write-backs restarted.") % {"count": retried}, messages.SUCCESS
        )
