from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from brands.models import Brand, BrandUser


class BrandUserInline(admin.TabularInline):
    model = BrandUser
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name", "master_id", "shop_id", "shop_type", "status", "expire_time")
    list_filter = ("status", "shop_type", "user_type")
    search_fields = ("name", "master_id", "shop_id")
    # The Linkflow App Secret is never shown or edited here (write-only: Settings / API).
    exclude = ("linkflow_app_secret",)
    readonly_fields = (
        "linkflow_connected",
        "linkflow_checked_at",
        "linkflow_check_error",
        "created_at",
        "updated_at",
    )
    inlines = [BrandUserInline]

    @admin.display(boolean=True, description=_("Linkflow connected"))
    def linkflow_connected(self, brand: Brand) -> bool:
        return brand.linkflow_connected


@admin.register(BrandUser)
class BrandUserAdmin(admin.ModelAdmin):
    list_display = ("pin", "brand", "user", "created_at")
    list_filter = ("brand__status",)
    search_fields = ("pin", "brand__name", "brand__master_id", "user__username")
    list_select_related = ("brand", "user")
    raw_id_fields = ("user",)
