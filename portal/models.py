"""Shared models of the portal: the integration call log."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IntegrationCall(models.Model):
    """One HTTP exchange with a remote system: an outbound attempt or an inbound callback.

    Outbound calls are stored one row per attempt, so retries are visible. Bodies are
    stored masked (`portal.integrations.masking`); credentials never reach this table.
    """

    class Direction(models.TextChoices):
        OUTBOUND = "out", _("Outbound")
        INBOUND = "in", _("Inbound")

    class System(models.TextChoices):
        JDCLOUD = "jdcloud", _("JD Cloud")
        LINKFLOW = "linkflow", _("Linkflow")

    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    system = models.CharField(_("system"), max_length=16, choices=System.choices)
    brand = models.ForeignKey(
        "brands.Brand",
        verbose_name=_("brand"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="integration_calls",
    )
    method = models.CharField(_("method"), max_length=8)
    endpoint = models.CharField(_("endpoint"), max_length=255)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    remote_code = models.CharField(
        _("remote code"),
        max_length=32,
        blank=True,
        help_text=_("The JD Cloud `code` or Linkflow error code of the answer."),
    )
    ok = models.BooleanField(_("succeeded"), default=False)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    error = models.TextField(_("error"), blank=True)
    request_body = models.JSONField(_("request body (masked)"), null=True, blank=True)
    response_body = models.JSONField(_("response body (masked)"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("integration call")
        verbose_name_plural = _("integration call log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["system", "-created_at"]),
            models.Index(fields=["brand", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.system} {self.method} {self.endpoint}"
