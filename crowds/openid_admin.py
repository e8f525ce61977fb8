"""Admin of openId packages (every brand's), with "build again"."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from crowds.linkflow_models import OpenIdPackage
from crowds.openid import openid_package_can_restart, openid_package_restart


@admin.register(OpenIdPackage)
class OpenIdPackageAdmin(admin.ModelAdmin):
    list_display = ("id", "brand", "group_name", "wechat_app_id", "status", "count", "created_at")
    list_filter = ("status", "brand")
    search_fields = ("group_name", "wechat_app_id", "brand__name")
    list_select_related = ("brand",)
    readonly_fields = [f.name for f in OpenIdPackage._meta.fields]
    actions = ["build_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Build the selected packages again"))
    def build_again(self, request, queryset):
        restarted = 0
        for package in queryset.select_related("brand"):
            if openid_package_can_restart(package):
                openid_package_restart(package=package)
                restarted += 1
        self.message_user(
            request,
            _("%(count)d packages are being built again.") % {"count": restarted},
            messages.SUCCESS,
        )
