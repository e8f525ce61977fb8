"""JD Cloud's daily marketing reports (spec: 报表相关 `/report`), one row per
(brand, package, day, report type), with its top-5 SKU lists parsed into ranked entries
kept on the row (`top5`): a pull writes one row per package, never 35 more."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

COUNT_METRICS = (
    "pv",
    "uv",
    "cart_num",
    "sku_pv_num",
    "sku_uv_num",
    "shop_pv_num",
    "shop_uv_num",
    "follow_sku_num",
    "follow_shop_num",
    "ord_pins",
    "ord_num",
    "ord_qtty",
    "pay_pins",
    "pay_num",
    "pay_qtty",
    "people_sent_num",
    "delivered_num",
    "coupon_pins",
    "coupon_use_pins",
    "coupon_orders",
)
AMOUNT_METRICS = ("ord_amount", "pay_amount", "coupon_amount")
TOP5_FIELDS = (
    "browse_sku_top5",
    "cart_add_top5",
    "follow_product_top5",
    "ord_qtty_top5",
    "ord_amount_top5",
    "pay_qtty_top5",
    "pay_amount_top5",
)


class ReportType(models.TextChoices):
    CLICK = "click", _("Click")
    EXPOSURE = "exposure", _("Exposure")


class ReportRow(models.Model):
    # No index of its own: the unique constraint's index starts with the brand.
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="report_rows", db_index=False
    )
    package_id = models.CharField(_("package ID"), max_length=64)
    report_date = models.DateField(_("report date"))
    report_type = models.CharField(_("report type"), max_length=10, choices=ReportType.choices)
    reach_type = models.CharField(_("reach type"), max_length=16, blank=True)
    shop_id = models.CharField(_("shop ID"), max_length=32, blank=True)
    op_time = models.CharField(_("monitored on"), max_length=32, blank=True)
    pv = models.BigIntegerField(_("landing page views"), default=0)
    uv = models.BigIntegerField(_("landing page visitors"), default=0)
    cart_num = models.BigIntegerField(_("added to cart"), default=0)
    sku_pv_num = models.BigIntegerField(_("product page views"), default=0)
    sku_uv_num = models.BigIntegerField(_("product page visitors"), default=0)
    shop_pv_num = models.BigIntegerField(_("shop page views"), default=0)
    shop_uv_num = models.BigIntegerField(_("shop page visitors"), default=0)
    follow_sku_num = models.BigIntegerField(_("followed products"), default=0)
    follow_shop_num = models.BigIntegerField(_("followed shop"), default=0)
    ord_pins = models.BigIntegerField(_("ordering people"), default=0)
    ord_amount = models.DecimalField(_("order amount"), max_digits=16, decimal_places=2, default=0)
    ord_num = models.BigIntegerField(_("orders"), default=0)
    ord_qtty = models.BigIntegerField(_("ordered items"), default=0)
    pay_pins = models.BigIntegerField(_("paying people"), default=0)
    pay_amount = models.DecimalField(_("paid amount"), max_digits=16, decimal_places=2, default=0)
    pay_num = models.BigIntegerField(_("paid orders"), default=0)
    pay_qtty = models.BigIntegerField(_("paid items"), default=0)
    people_sent_num = models.BigIntegerField(_("people selected"), default=0)
    delivered_num = models.BigIntegerField(_("people reached"), default=0)
    coupon_pins = models.BigIntegerField(_("coupon takers"), default=0)
    coupon_use_pins = models.BigIntegerField(_("coupon users"), default=0)
    coupon_orders = models.BigIntegerField(_("coupon orders"), default=0)
    coupon_amount = models.DecimalField(
        _("coupon amount"), max_digits=16, decimal_places=2, default=0
    )
    # {"browse_sku_top5": "1_100003730605_918*2_100004121021_26*…", …}: each readable list
    # in the spec's notation, its entries put in rank order (reports.parsing.top5_entries
    # reads them).
    top5 = models.JSONField(_("top-5 lists"), default=dict, blank=True)
    # The lists that could not be read, as sent.
    top5_raw = models.JSONField(_("top-5 strings not readable"), default=dict, blank=True)
    top5_malformed = models.BooleanField(_("top-5 not readable"), default=False)
    pulled_at = models.DateTimeField(_("pulled at"), auto_now=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("report row")
        verbose_name_plural = _("report rows")
        ordering = ["-report_date", "package_id", "report_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "package_id", "report_date", "report_type"],
                name="report_row_unique",
            )
        ]
        # Lookups by package use the unique constraint's index (brand, package_id, …).
        indexes = [models.Index(fields=["brand", "report_date", "report_type"])]

    def __str__(self) -> str:
        return f"{self.package_id} {self.report_date} {self.report_type}"


from reports.cdp.models import *  # noqa: E402, F403 - Linkflow reports (reports.cdp)
