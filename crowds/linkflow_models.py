"""WeChat openId packages built from a brand's Linkflow group (PRODUCT.md §5, spec 创建微信活动
pack_type 3 UPLOAD_OPENID): the file of openIds JD Cloud fetches through `pack_path`.

A package is built once, by a resumable Celery task (`crowds.openid`), and is immutable when
ready; a failed build can be started again. The file lives under `OPENID_PACKAGE_ROOT`
(default `var/media/openid`), never under a public URL: JD Cloud reads it through a signed,
expiring link (`crowds.openid.openid_pack_url`).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

__all__ = ["OpenIdPackage", "openid_storage"]


def openid_package_root() -> Path:
    root = getattr(settings, "OPENID_PACKAGE_ROOT", None)
    return Path(root) if root else Path(settings.BASE_DIR) / "var" / "media" / "openid"


@deconstructible
class OpenIdFileStorage(FileSystemStorage):
    """Files under `openid_package_root()`, read at each use (tests point it elsewhere).
    No `base_url`: the files are served only by the signed view."""

    @property
    def base_location(self):  # type: ignore[override]
        return str(openid_package_root())

    @property
    def location(self):  # type: ignore[override]
        return os.path.abspath(self.base_location)


def openid_storage() -> OpenIdFileStorage:
    return OpenIdFileStorage()


class OpenIdPackage(models.Model):
    """The openIds, for the brand's official account, of a Linkflow group's contacts."""

    class Status(models.TextChoices):
        BUILDING = "building", _("Building")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="openid_packages"
    )
    group_id = models.BigIntegerField(_("Linkflow group ID"))
    group_name = models.CharField(_("Linkflow group"), max_length=200)
    wechat_app_id = models.CharField(_("WeChat official account appId"), max_length=64)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.BUILDING
    )
    count = models.PositiveIntegerField(_("openIds"), default=0)
    members_seen = models.PositiveIntegerField(_("group members read"), default=0)
    error = models.TextField(_("error"), blank=True)
    file = models.FileField(_("file"), storage=openid_storage, max_length=200, blank=True)
    # Each start of a build is a new attempt with its own working files; a run of an older
    # attempt cannot touch the package any more.
    attempt = models.PositiveIntegerField(_("build attempt"), default=1)
    # Held by the one task run working on the build; a duplicate delivery finds it taken.
    lease_id = models.CharField(max_length=32, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Slices that started and did not finish, in a row (portal/redelivery.py): above
    # CELERY_MAX_REDELIVERIES the build fails with the reason rather than be sent again.
    build_deliveries = models.PositiveSmallIntegerField(
        _("unfinished build slices in a row"), default=0, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    built_at = models.DateTimeField(_("built at"), null=True, blank=True)

    objects = ScopedManager(brand="brand")

    class Meta:
        verbose_name = _("WeChat openId package")
        verbose_name_plural = _("WeChat openId packages")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["brand", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.group_name} ({self.count})" if self.is_ready else self.group_name

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY
