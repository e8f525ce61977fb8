"""Admin of the campaigns app: every brand's reaches, links, activities and campaigns."""

from django.contrib import admin

from campaigns.models import Activity, Notice, Reach, ShortLink, SystemState, WechatCampaign


@admin.register(Reach)
class ReachAdmin(admin.ModelAdmin):
    list_display = (
        "instance",
        "brand",
        "reach_type",
        "template_id",
        "cost",
        "status",
        "jd_code",
        "created_at",
    )
    list_filter = ("status", "reach_type", "brand")
    list_select_related = ("brand", "instance")
    search_fields = ("template_id", "text", "brand__name", "instance__package_id")
    raw_id_fields = ("instance",)


@admin.register(ShortLink)
class ShortLinkAdmin(admin.ModelAdmin):
    list_display = ("short_url", "long_url", "brand", "created_at")
    list_filter = ("brand",)
    search_fields = ("short_url", "long_url")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "brand",
        "activity_id",
        "review",
        "auditor",
        "submitted_at",
        "reviewed_at",
    )
    list_filter = ("review", "start_type", "reach_type", "brand")
    list_select_related = ("brand",)
    search_fields = ("name", "activity_id", "auditor", "brand__name")


@admin.register(WechatCampaign)
class WechatCampaignAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "brand",
        "jd_activity_id",
        "activity_type",
        "pack_type",
        "status",
        "pre_num",
        "act_num",
    )
    list_filter = ("status", "activity_type", "pack_type", "brand")
    list_select_related = ("brand",)
    search_fields = ("name", "business_id", "jd_activity_id")
    raw_id_fields = ("instance",)


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "notice_type",
        "notice_status",
        "start_time",
        "end_time",
        "expire_time",
    )
    list_filter = ("notice_type", "notice_status")


@admin.register(SystemState)
class SystemStateAdmin(admin.ModelAdmin):
    list_display = ("up", "reason", "checked_at")


import campaigns.writeback_admin  # noqa: E402, F401 - registers the Linkflow admin
