"""Linkflow reports and dashboards of a brand (spec 报表: 获取报表结果, 获取仪表盘定义).

A report is computed by Linkflow, possibly asynchronously (`status` 0 until it is ready),
so the portal keeps a local twin: the last snapshot of each report the brand opened, with
the state of the poll that fetches it. Dashboards are read live; the rows here only
remember which ones the brand opened, since Linkflow has no "list dashboards" endpoint.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager

__all__ = ["LinkflowDashboard", "LinkflowReport", "LinkflowReportStatus"]


class LinkflowReportStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("Linkflow report status", "Requested")
    COMPUTING = "computing", pgettext_lazy("Linkflow report status", "Computing")
    READY = "ready", pgettext_lazy("Linkflow report status", "Ready")
    FAILED = "failed", pgettext_lazy("Linkflow report status", "Failed")


class LinkflowReport(models.Model):
    IN_FLIGHT = (LinkflowReportStatus.PENDING, LinkflowReportStatus.COMPUTING)

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="linkflow_reports"
    )
    report_id = models.BigIntegerField(_("Linkflow report ID"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    chart_type = models.CharField(_("chart type"), max_length=32, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=LinkflowReportStatus.choices,
        default=LinkflowReportStatus.PENDING,
    )
    # Linkflow's answer as received (status 1), kept whole: its `result` differs by chart
    # type ("不同的报表类型返回的result结构并不一样"). A refresh keeps the previous one until
    # the new one arrives.
    body = models.JSONField(_("report data"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_at = models.DateTimeField(_("requested at"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    poll_count = models.PositiveIntegerField(_("polls"), default=0)
    next_poll_at = models.DateTimeField(_("next poll at"), null=True, blank=True)
    # Polls that started and did not finish, in a row (portal/redelivery.py): above
    # CELERY_MAX_REDELIVERIES the report fails with the reason rather than be sent again.
    poll_deliveries = models.PositiveSmallIntegerField(
        _("unfinished polls in a row"), default=0, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("Linkflow report")
        verbose_name_plural = _("Linkflow reports")
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "report_id"], name="linkflow_report_unique_per_brand"
            )
        ]
        indexes = [models.Index(fields=["status", "next_poll_at"])]

    def __str__(self) -> str:
        return f"{self.report_id} {self.name}".strip()

    @property
    def in_flight(self) -> bool:
        return self.status in self.IN_FLIGHT


class LinkflowDashboard(models.Model):
    """A dashboard the brand opened: its name and reports as Linkflow last listed them."""

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="linkflow_dashboards"
    )
    dashboard_id = models.BigIntegerField(_("Linkflow dashboard ID"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    reports = models.JSONField(_("reports"), default=list, blank=True)
    opened_at = models.DateTimeField(_("opened at"))

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("Linkflow dashboard")
        verbose_name_plural = _("Linkflow dashboards")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "dashboard_id"], name="linkflow_dashboard_unique_per_brand"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dashboard_id} {self.name}".strip()
