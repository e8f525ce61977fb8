from django.contrib import admin

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
    readonly_fields = ("created_at", "updated_at")
    inlines = [BrandUserInline]


@admin.register(BrandUser)
class BrandUserAdmin(admin.ModelAdmin):
    list_display = ("pin", "brand", "user", "created_at")
    list_filter = ("brand__status",)
    search_fields = ("pin", "brand__name", "brand__master_id", "user__username")
    list_select_related = ("brand", "user")
    raw_id_fields = ("user",)
