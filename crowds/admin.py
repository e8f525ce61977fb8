"""Admin of the crowds app: every brand's crowds and instances, with repair actions."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from crowds import services
from crowds.models import Crowd, CrowdInstance, InstanceStatus, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("tag", "instruction", "table_cd", "tag_type", "active", "refreshed_at")
    list_filter = ("table_cd", "tag_type", "active")
    search_fields = ("tag", "instruction")


@admin.register(Crowd)
class CrowdAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "brand",
        "search_id",
        "crowd_type",
        "package_type",
        "sync_state",
        "created_at",
    )
    list_filter = ("sync_state", "crowd_type", "package_type", "brand")
    list_select_related = ("brand",)
    search_fields = ("name", "search_id", "brand__name", "brand__master_id")
    readonly_fields = ("search_id", "sync_error", "synced_at", "created_at", "updated_at")
    actions = ["retry_sync"]

    @admin.action(description=_("Send again to JD Cloud"))
    def retry_sync(self, request, queryset):
        results = [services.crowd_sync(crowd=crowd).sync_state for crowd in queryset]
        self.message_user(
            request,
            _("%(ok)d of %(all)d synced.") % {"ok": results.count("synced"), "all": len(results)},
            messages.INFO,
        )


@admin.register(CrowdInstance)
class CrowdInstanceAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "brand",
        "package_id",
        "origin",
        "status",
        "package_size",
        "poll_count",
        "stuck",
        "created_at",
    )
    list_filter = ("status", "origin", "stuck", "brand")
    list_select_related = ("brand",)
    search_fields = ("name", "package_id", "brand__name", "brand__master_id")
    readonly_fields = (
        "poll_count",
        "last_polled_at",
        "next_poll_at",
        "completed_at",
        "created_at",
        "updated_at",
    )
    raw_id_fields = ("crowd", "parents")
    actions = ["repoll"]

    @admin.action(description=_("Poll JD Cloud again"))
    def repoll(self, request, queryset):
        count = 0
        for instance in queryset.filter(status=InstanceStatus.GENERATING):
            services.instance_repoll(instance=instance)
            count += 1
        self.message_user(
            request, _("%(count)d instances will be polled again.") % {"count": count}
        )


import crowds.openid_admin  # noqa: E402, F401 - registers the Linkflow admin
