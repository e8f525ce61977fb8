"""Campaigns: reaching packages by SMS / coupon, short links, activities under JD review,
WeChat campaigns, and JD Cloud's notices and system status."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class ReachType(models.TextChoices):
    SMS_PUBLIC = "SMSPUBLIC", _("Public SMS")
    SMS_PRIVATE = "SMSPRIVATE", _("Private SMS")
    COUPON_PUBLIC = "COUPONPUBLIC", _("Public coupon")
    COUPON_PRIVATE = "COUPONPRIVATE", _("Private coupon")


class Reach(models.Model):
    """One `/crowd/instance/reach` of a generated package, with what was sent and JD's answer."""

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Accepted by JD Cloud")
        FAILED = "failed", _("Failed")

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="reaches")
    instance = models.ForeignKey(
        "crowds.CrowdInstance", on_delete=models.PROTECT, related_name="reaches"
    )
    reach_type = models.CharField(_("reach type"), max_length=16, choices=ReachType.choices)
    template_id = models.CharField(_("template ID"), max_length=64)
    template_name = models.CharField(_("template"), max_length=200, blank=True)
    template_params = models.JSONField(_("template parameters"), default=dict)
    text = models.TextField(_("rendered text"), blank=True)
    signature_id = models.CharField(_("signature ID"), max_length=64, blank=True)
    signature_name = models.CharField(_("signature"), max_length=64, blank=True)
    batch_id = models.CharField(_("coupon batch ID"), max_length=64, blank=True)
    send_time = models.DateTimeField(_("scheduled send time"), null=True, blank=True)
    segments = models.PositiveSmallIntegerField(_("SMS per person"), default=1)
    cost = models.PositiveBigIntegerField(_("cost (SMS units)"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SENDING
    )
    jd_code = models.CharField(_("JD code"), max_length=32, blank=True)
    jd_msg = models.TextField(_("JD message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("reach")
        verbose_name_plural = _("reaches")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["brand", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_reach_type_display()} → {self.instance}"


class ShortLink(models.Model):
    """A long URL and the short link `/shorturl/create` made for it."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="short_links")
    long_url = models.URLField(_("long URL"), max_length=2000)
    short_url = models.CharField(_("short URL"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("short link")
        verbose_name_plural = _("short links")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "long_url"], name="short_link_unique_per_brand"
            )
        ]

    def __str__(self) -> str:
        return self.short_url


class Activity(models.Model):
    """A marketing activity submitted for JD's review (`/activity/create`); the review
    returns on `/JDCloud/activity/update`. The content is hashed at submission: an edit
    after that voids the review and needs a new submission."""

    class StartType(models.TextChoices):
        SINGLE = "1", _("Single run")
        PERIODIC = "2", _("Periodic")

    class ReachType(models.TextChoices):
        SMS = "SMS", _("SMS (including coupons)")
        OTHER = "OTHER", _("Other")

    class Review(models.TextChoices):
        DRAFT = "draft", _("Not submitted")
        PENDING = "pending", _("Awaiting JD review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUBMIT_FAILED = "submit_failed", _("Submission failed")

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="activities")
    activity_id = models.CharField(_("activity ID"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    start_type = models.CharField(_("start type"), max_length=2, choices=StartType.choices)
    start_type_remark = models.CharField(_("schedule"), max_length=500, blank=True)
    reach_type = models.CharField(_("reach type"), max_length=8, choices=ReachType.choices)
    reach = models.ForeignKey(
        Reach, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    review = models.CharField(
        _("review"), max_length=16, choices=Review.choices, default=Review.DRAFT
    )
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    submitted_hash = models.CharField(_("hash at submission"), max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submit_error = models.TextField(_("submission error"), blank=True)
    auditor = models.CharField(_("auditor"), max_length=128, blank=True)
    audit_remark = models.TextField(_("audit remark"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "activity_id"], name="activity_unique_per_brand"
            )
        ]

    def __str__(self) -> str:
        return self.name


class WechatCampaign(models.Model):
    """A WeChat official-account campaign (`/activity/wx/create`), polled until final."""

    class ActivityType(models.IntegerChoices):
        TEMPLATE = 3, _("Template message")
        MEDIA = 4, _("News")

    class PackType(models.IntegerChoices):
        FOLLOWER_ALL = 1, _("All followers")
        CUSTOMER = 2, _("Custom crowd package")
        UPLOAD_OPENID = 3, _("Imported openId package")
        FOLLOWER_PIN = 4, _("Followers matched to JD accounts")
        FOLLOWER_NULL = 5, _("Followers not matched")

    class Status(models.IntegerChoices):
        CREATE = 0, _("Fetching mappings")
        LAUNCHED = 1, _("Launched")
        LAUNCH_NEED = 2, _("Waiting to launch")
        LAUNCH_REJECTED = 3, _("Rejected")
        LAUNCH_NEED_ARRIVE = 4, _("Waiting to send")
        LAUNCH_ARRIVING = 5, _("Sending")
        SEND_FAIL = 6, _("Send failed")

    FINAL = (Status.LAUNCHED, Status.LAUNCH_REJECTED, Status.SEND_FAIL)

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="wechat_campaigns"
    )
    business_id = models.CharField(_("business ID"), max_length=64)
    jd_activity_id = models.BigIntegerField(_("JD activity ID"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=200)
    activity_type = models.PositiveSmallIntegerField(
        _("message type"), choices=ActivityType.choices
    )
    pack_type = models.PositiveSmallIntegerField(_("audience"), choices=PackType.choices)
    instance = models.ForeignKey(
        "crowds.CrowdInstance", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    template_id = models.CharField(_("template ID"), max_length=128, blank=True)
    template_data = models.JSONField(_("template data"), default=list, blank=True)
    template_url = models.CharField(_("template link"), max_length=2000, blank=True)
    media_id = models.CharField(_("news media ID"), max_length=128, blank=True)
    media_title = models.CharField(_("news title"), max_length=200, blank=True)
    url_mappings = models.JSONField(_("URL mappings"), default=list, blank=True)
    send_time = models.DateTimeField(_("send time"))
    begin_time = models.DateTimeField(_("begins"))
    end_time = models.DateTimeField(_("ends"))
    status = models.PositiveSmallIntegerField(
        _("status"), choices=Status.choices, null=True, blank=True
    )
    pre_num = models.PositiveBigIntegerField(_("expected recipients"), null=True, blank=True)
    act_num = models.PositiveBigIntegerField(_("actual recipients"), null=True, blank=True)
    remark = models.CharField(_("cancel remark"), max_length=50, blank=True)
    sync_error = models.TextField(_("last JD Cloud error"), blank=True)
    poll_count = models.PositiveIntegerField(_("status calls"), default=0)
    next_poll_at = models.DateTimeField(_("next poll at"), null=True, blank=True)
    # Polls cut off in a row by their worker dying (portal/redelivery.py).
    poll_deliveries = models.PositiveSmallIntegerField(
        _("polls cut off in a row"), default=0, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("WeChat campaign")
        verbose_name_plural = _("WeChat campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "business_id"], name="wechat_business_id_unique"
            ),
            models.UniqueConstraint(
                fields=["brand", "jd_activity_id"],
                condition=Q(jd_activity_id__isnull=False),
                name="wechat_jd_activity_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


class Notice(models.Model):
    """JD Cloud's notices (`/notice/list`), the same for every brand."""

    notice_code = models.CharField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("content"), blank=True)
    notice_type = models.CharField(_("type"), max_length=32)
    notice_status = models.CharField(_("status"), max_length=4)
    start_time = models.DateTimeField(_("starts"), null=True, blank=True)
    end_time = models.DateTimeField(_("ends"), null=True, blank=True)
    expire_time = models.DateTimeField(_("expires"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), auto_now=True)

    class Meta:
        verbose_name = _("JD Cloud notice")
        verbose_name_plural = _("JD Cloud notices")
        ordering = ["-start_time", "-id"]

    def __str__(self) -> str:
        return self.title


class SystemState(models.Model):
    """The last answer of `/system/status` (one row). While JD is down, actions that need
    it are refused with the reason instead of being queued."""

    up = models.BooleanField(_("JD Cloud available"), default=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("JD Cloud system status")
        verbose_name_plural = _("JD Cloud system status")

    def __str__(self) -> str:
        return "up" if self.up else f"down: {self.reason}"


from campaigns.writeback_models import *  # noqa: E402, F401, F403
