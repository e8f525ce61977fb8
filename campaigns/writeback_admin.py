"""Admin of Linkflow write-back jobs (every brand's), with "retry" and the codes of the
contacts Linkflow refused."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from campaigns.writeback import writeback_can_retry, writeback_refusal_codes, writeback_retry
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
    readonly_fields = [f.name for f in WritebackJob._meta.fields] + ["refusal_codes"]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("Refused by Linkflow, by code"))
    def refusal_codes(self, job: WritebackJob) -> str:
        """Codes and counts only: the change form names no contact."""
        codes = writeback_refusal_codes(job_ids=[job.pk]).get(job.pk, [])
        return "; ".join(f"[{c['code']}] {c['message']} ×{c['count']}" for c in codes) or "—"

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
