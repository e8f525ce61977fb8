"""Brands (tenants) and the people who work for them.

A brand is the spec's 品牌商 (`master_id`), created and edited by JD Cloud through the ISV
callbacks `/JDCloud/master/sync` and `/JDCloud/master/edit`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from encrypted_fields.fields import EncryptedCharField


class Brand(models.Model):
    class ShopType(models.TextChoices):
        SELF_OPERATED = "1", _("JD self-operated")
        POP = "2", _("POP")

    class UserType(models.TextChoices):
        MERCHANT = "1", _("Merchant")

    class Status(models.IntegerChoices):
        ACTIVE = 1, _("Active")
        FROZEN = 0, _("Frozen")

    master_id = models.CharField(_("master ID"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    shop_id = models.CharField(_("shop ID"), max_length=64, blank=True)
    shop_type = models.CharField(
        _("shop type"), max_length=2, choices=ShopType.choices, default=ShopType.POP
    )
    user_type = models.CharField(
        _("user type"), max_length=2, choices=UserType.choices, default=UserType.MERCHANT
    )
    expire_time = models.DateTimeField(_("expires at"), null=True, blank=True)
    status = models.SmallIntegerField(_("status"), choices=Status.choices, default=Status.ACTIVE)
    # The brand's own Linkflow CDP workspace (PRODUCT.md §5). The secret is encrypted at
    # rest and write-only everywhere it is shown (settings page, API, admin).
    linkflow_app_key = models.CharField(_("Linkflow App Key"), max_length=128, blank=True)
    linkflow_app_secret = EncryptedCharField(
        _("Linkflow App Secret"), max_length=256, blank=True, null=True
    )
    # The Linkflow channel (`channelKey`, a UDC channel) the portal writes campaign outcomes
    # to as events, and the brand's WeChat official account (`channelId` of its openIds).
    linkflow_channel_key = models.CharField(_("Linkflow channel key"), max_length=128, blank=True)
    wechat_app_id = models.CharField(_("WeChat official account appId"), max_length=64, blank=True)
    linkflow_checked_at = models.DateTimeField(_("Linkflow checked at"), null=True, blank=True)
    linkflow_check_error = models.CharField(_("Linkflow check error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.master_id})"

    @property
    def is_expired(self) -> bool:
        return self.expire_time is not None and self.expire_time <= timezone.now()

    @property
    def linkflow_connected(self) -> bool:
        return bool(self.linkflow_app_key and self.linkflow_app_secret)

    @property
    def is_usable(self) -> bool:
        """A frozen or expired brand cannot log in or act (PRODUCT.md §1)."""
        return self.status == self.Status.ACTIVE and not self.is_expired


class BrandUser(models.Model):
    """A Django user tied to one brand by their JD pin (`master_pin`)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="brand_user",
    )
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="users"
    )
    pin = models.CharField(_("JD pin"), max_length=128, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("brand user")
        verbose_name_plural = _("brand users")
        ordering = ["brand", "pin"]

    def __str__(self) -> str:
        return f"{self.pin} @ {self.brand.name}"


class TrackedLink(models.Model):
    """A campaign URL shortened through the brand's Linkflow (`/open/shorturl`, or
    `/open/shorturl/distribute` for one contact): Linkflow counts its clicks.

    The row is kept first; a Linkflow failure leaves it with the reason, to retry."""

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="tracked_links"
    )
    url = models.URLField(_("original URL"), max_length=2000)
    utm_source = models.CharField(_("source"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("campaign"), max_length=100, blank=True)
    utm_medium = models.CharField(_("medium"), max_length=100, blank=True)
    utm_content = models.CharField(_("content"), max_length=100, blank=True)
    utm_term = models.CharField(_("keyword"), max_length=100, blank=True)
    contact_id = models.BigIntegerField(_("Linkflow contact ID"), null=True, blank=True)
    short_url = models.CharField(_("short link"), max_length=500, blank=True)
    error = models.CharField(_("last Linkflow error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("tracked link")
        verbose_name_plural = _("tracked links")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.short_url or self.url

    @property
    def utm(self) -> dict[str, str]:
        fields = ("source", "campaign", "medium", "content", "term")
        return {
            name: getattr(self, f"utm_{name}") for name in fields if getattr(self, f"utm_{name}")
        }
