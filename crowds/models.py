"""Crowds (人群对象, `search_id`) and their instances (人群对象实例 / 包, `package_id`).

A crowd is a saved tag condition; an instance is a generated package of people. Both have
a local twin saved before JD Cloud is asked (STYLE.md §7): the sync state says whether JD
has it, so a failed call loses nothing and can be retried.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Tag(models.Model):
    """JD Cloud's tag catalog (`/tag/list/v2`), the same for every brand."""

    class TagType(models.TextChoices):
        PRIVATE = "0", _("Private domain")
        PUBLIC = "1", _("Public domain")

    tag = models.CharField(_("tag"), max_length=64, unique=True)
    instruction = models.CharField(_("description"), max_length=255, blank=True)
    table_cd = models.CharField(_("group"), max_length=16, db_index=True)
    tag_type = models.CharField(_("tag type"), max_length=4, choices=TagType.choices)
    enums = models.JSONField(_("values"), default=list, blank=True)
    active = models.BooleanField(
        _("in the catalog"), default=True, help_text=_("False once JD no longer lists it.")
    )
    refreshed_at = models.DateTimeField(_("refreshed at"), auto_now=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tag catalog")
        ordering = ["table_cd", "tag"]

    def __str__(self) -> str:
        return f"{self.tag} {self.instruction}"


class SyncState(models.TextChoices):
    PENDING = "pending", _("Not yet at JD Cloud")
    SYNCED = "synced", _("Synced")
    FAILED = "failed", _("JD Cloud call failed")


class CrowdType(models.IntegerChoices):
    """Spec appendix 人群对象类型枚举值."""

    EXTRACT = 1, _("Tag extraction")
    CALC = 2, _("Calculation")
    SAVE_AS = 3, _("Saved as")
    UPLOAD = 4, _("Upload")
    SPLIT_RATIO = 5, _("Split by ratio")
    SPLIT_COUNT = 6, _("Split by count")
    FILTER = 7, _("Response filter")


class PackageType(models.IntegerChoices):
    PUBLIC = 1, _("Public domain")
    PRIVATE = 2, _("Private domain")


class Crowd(models.Model):
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="crowds")
    search_id = models.CharField(_("search ID"), max_length=64, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=128)
    description = models.CharField(_("description"), max_length=500, blank=True)
    condition = models.JSONField(_("condition"), default=dict, blank=True)
    data_type = models.CharField(_("data type"), max_length=4, default="1")
    crowd_type = models.PositiveSmallIntegerField(
        _("crowd type"), choices=CrowdType.choices, default=CrowdType.EXTRACT
    )
    package_type = models.PositiveSmallIntegerField(
        _("package type"), choices=PackageType.choices, default=PackageType.PUBLIC
    )
    sync_state = models.CharField(
        _("sync state"), max_length=16, choices=SyncState.choices, default=SyncState.PENDING
    )
    sync_error = models.TextField(_("last JD Cloud error"), blank=True)
    synced_at = models.DateTimeField(_("synced at"), null=True, blank=True)
    # `/crowd/create/v2` calls sent for this row, counted before each is sent. A crowd with
    # calls but no search_id may exist at JD all the same (an answer lost to a timeout, a
    # killed worker): it is looked for at JD before it is created again.
    create_attempts = models.PositiveSmallIntegerField(
        _("create calls sent"),
        default=0,
        help_text=_("Calls asking JD Cloud to create this crowd, answered or not."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("crowd")
        verbose_name_plural = _("crowds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "search_id"],
                condition=~Q(search_id=""),
                name="crowd_unique_search_id_per_brand",
            )
        ]
        indexes = [models.Index(fields=["brand", "-created_at"])]

    def __str__(self) -> str:
        return self.name


class InstanceStatus(models.TextChoices):
    """Spec: 人群对象实例状态 0=生成中 1=生成失败 2=生成成功 (plus our own request states)."""

    REQUESTING = "requesting", _("Being requested")
    REQUEST_FAILED = "request_failed", _("Request failed")
    GENERATING = "0", _("Generating")
    FAILED = "1", _("Generation failed")
    GENERATED = "2", _("Generated")


class InstanceOrigin(models.TextChoices):
    INIT = "init", _("Instantiated")
    CALC = "calc", _("Calculation")
    SPLIT = "split", _("Split")
    FILTER = "filter", _("Response filter")
    SAVE_AS = "saveas", _("Saved as")


class CrowdInstance(models.Model):
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="crowd_instances"
    )
    crowd = models.ForeignKey(
        Crowd, null=True, blank=True, on_delete=models.SET_NULL, related_name="instances"
    )
    package_id = models.CharField(_("package ID"), max_length=64, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    origin = models.CharField(_("origin"), max_length=8, choices=InstanceOrigin.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    parents = models.ManyToManyField(
        "self", symmetrical=False, related_name="children", blank=True, verbose_name=_("parents")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=InstanceStatus.choices,
        default=InstanceStatus.REQUESTING,
    )
    package_size = models.PositiveBigIntegerField(_("size"), null=True, blank=True)
    package_size_view = models.CharField(_("size (approximate)"), max_length=32, blank=True)
    package_type = models.PositiveSmallIntegerField(
        _("package type"), choices=PackageType.choices, null=True, blank=True
    )
    error = models.TextField(_("error"), blank=True)
    # Poll bookkeeping: how often we asked JD, when next, and whether we gave up.
    poll_count = models.PositiveIntegerField(_("status calls"), default=0)
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True)
    next_poll_at = models.DateTimeField(_("next poll at"), null=True, blank=True, db_index=True)
    stuck = models.BooleanField(_("stuck"), default=False)
    # Polls that started asking JD and did not finish, in a row (portal/redelivery.py):
    # above CELERY_MAX_REDELIVERIES the poll is flagged stuck rather than sent again.
    poll_deliveries = models.PositiveSmallIntegerField(
        _("unfinished polls in a row"), default=0, editable=False
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("crowd instance")
        verbose_name_plural = _("crowd instances")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "package_id"],
                condition=~Q(package_id=""),
                name="instance_unique_package_id_per_brand",
            )
        ]
        indexes = [models.Index(fields=["brand", "-created_at"])]

    def __str__(self) -> str:
        return self.name or self.package_id or f"#{self.pk}"

    @property
    def is_generated(self) -> bool:
        return self.status == InstanceStatus.GENERATED

    @property
    def is_final(self) -> bool:
        return self.status in (
            InstanceStatus.GENERATED,
            InstanceStatus.FAILED,
            InstanceStatus.REQUEST_FAILED,
        )


from crowds.linkflow_models import *  # noqa: E402, F401, F403
