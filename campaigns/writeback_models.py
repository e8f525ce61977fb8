"""Write-back of campaign outcomes to Linkflow (PRODUCT.md §5), and the openId package a
WeChat campaign was sent to (its audience for pack_type 3, and the people whose outcome is
written back)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

__all__ = ["WechatOpenIdAudience", "WritebackJob", "WritebackRefusal"]


class WechatOpenIdAudience(models.Model):
    """The openId package of a WeChat campaign of pack_type 3 (导入openId包). Kept beside the
    campaign: `pack_path` is signed from it at each submission, and the write-back walks
    its file."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    campaign = models.OneToOneField(
        "campaigns.WechatCampaign", on_delete=models.CASCADE, related_name="openid_audience"
    )
    package = models.ForeignKey(
        "crowds.OpenIdPackage",
        on_delete=models.PROTECT,
        related_name="wechat_audiences",
        verbose_name=_("openId package"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("WeChat openId audience")
        verbose_name_plural = _("WeChat openId audiences")

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.package_id}"


class WritebackJob(models.Model):
    """One write-back of one campaign's final outcome: a Linkflow event per known contact.

    Unique per (brand, source): a second trigger finds the job. `offset` (bytes into the
    package file) and `sent` are saved after each contact, and every message carries ids
    derived from the job and the openId, so a retried or resumed run neither skips nor
    re-sends under new ids. The contacts Linkflow refused are kept as `WritebackRefusal`s
    (`rejected` counts them): a retry of the job sends those again."""

    class Source(models.TextChoices):
        REACH = "reach", _("JD reach")
        WECHAT = "wechat", _("WeChat campaign")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Written")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    FINAL = (Status.DONE, Status.SKIPPED, Status.FAILED)

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    source_kind = models.CharField(_("source"), max_length=16, choices=Source.choices)
    source_id = models.PositiveBigIntegerField(_("source ID"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    reason = models.TextField(_("reason"), blank=True)
    event = models.CharField(_("Linkflow event"), max_length=64, blank=True)
    # The outcome as it was when the campaign became final: every message says the same.
    props = models.JSONField(_("event properties"), default=dict, blank=True)
    event_at = models.DateTimeField(_("outcome at"), null=True, blank=True)
    package = models.ForeignKey(
        "crowds.OpenIdPackage",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("openId package"),
    )
    total = models.PositiveIntegerField(_("contacts"), default=0)
    offset = models.PositiveBigIntegerField(_("bytes read"), default=0)
    sent = models.PositiveIntegerField(_("events written"), default=0)
    rejected = models.PositiveIntegerField(_("refused by Linkflow"), default=0)
    runs = models.PositiveIntegerField(_("runs"), default=0)
    lease_id = models.CharField(max_length=32, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Runs that started and did not finish, in a row (portal/redelivery.py): above
    # CELERY_MAX_REDELIVERIES the job fails with the reason rather than be sent again.
    run_deliveries = models.PositiveSmallIntegerField(
        _("unfinished runs in a row"), default=0, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("Linkflow write-back")
        verbose_name_plural = _("Linkflow write-backs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "source_kind", "source_id"], name="writeback_once_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_kind_display()} #{self.source_id}: {self.get_status_display()}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


class WritebackRefusal(models.Model):
    """A contact Linkflow refused in a write-back (a B-code on `/open/messages`), with its
    code and message: a retry of the job sends this contact again, and only the refused
    ones. Only refusals are kept (a package of 100,000 openIds written without trouble
    leaves no row); the row goes once the contact is written."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(WritebackJob, on_delete=models.CASCADE, related_name="refusals")
    open_id = models.CharField(_("openId"), max_length=255)
    code = models.CharField(_("Linkflow code"), max_length=32)
    message = models.CharField(_("Linkflow message"), max_length=500, blank=True)
    # Set by a retry of the job, cleared when the run sends the contact again: a run that
    # stops part-way resumes at the first contact still marked.
    resend = models.BooleanField(_("to send again"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("contact refused by Linkflow")
        verbose_name_plural = _("contacts refused by Linkflow")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "open_id"], name="writeback_refusal_once")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}: [{self.code}]"
