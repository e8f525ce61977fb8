"""WeChat openId packages from Linkflow groups (PRODUCT.md §5; spec 创建微信活动, pack_type 3
UPLOAD_OPENID with `pack_path`; Linkflow 查询群组联系人 and 批量获取联系人详情 with needOpenId=1).

Building streams the group: one page of members (`memberId` cursor, ≤ 500) at a time, their
details 100 at a time with their openIds, keeping the openIds whose `channelId` is the
brand's official account (`Brand.wechat_app_id`), one per line into a working file.

- Bounded memory: a page in memory at a time. Duplicates are dropped exactly, first one
  kept, through an on-disk SQLite index beside the working file (a Python set would grow
  with the group). Linkflow binds an identity to one contact, so repeats are rare (a member
  removed and added again during the walk), but JD should not get one person twice.
- Resumable: after each page the working file is synced, then the member cursor, the
  file's length and the counts are committed in that same index, in the transaction that
  records the page's openIds. A run resumes from there (truncating whatever a crash left
  past the committed length). Runs are slices of `OPENID_BUILD_SLICE_SECONDS`, re-enqueued
  until the walk ends (STYLE.md §6: short tasks); a lease on the row keeps a duplicate
  delivery from writing beside the running one.
- Nothing partial is used: the file becomes the package's only when the walk is complete
  (renamed into place, then the row turns ready). A failure marks the package failed with
  its reason and drops the working files; "build again" starts a new attempt.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from brands import cdp
from brands.linkflow import LinkflowNotConnected, linkflow_for
from brands.models import Brand
from crowds.linkflow_models import OpenIdPackage, openid_package_root
from portal.integrations.linkflow.errors import LinkflowError, LinkflowUnexpectedResponse

logger = logging.getLogger(__name__)

Status = OpenIdPackage.Status

MEMBERS_PAGE = 500  # spec 查询群组联系人: size ≤ 500
MAX_GROUP_ID = 2**63 - 1  # Linkflow ids are Java longs; the column is a BigIntegerField
LEASE_MARGIN = timedelta(minutes=2)  # one page's calls, beyond the slice's budget
# A building package nobody has touched for this long lost its task: resumed by the sweeper.
STALE_AFTER = timedelta(minutes=5)
# pack_path: JD Cloud fetches the file without a session, through a signed link valid at
# least this long (and until a day after the campaign's send time when that is later).
PACK_URL_SALT = "crowds.openid.pack_path"
PACK_URL_VALID = timedelta(days=7)
PACK_URL_LONGEST = timedelta(days=400)


class OpenIdPackageRefused(Exception):
    """The package cannot be built or used as asked; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class BuildOutcome:
    package: OpenIdPackage
    more: bool  # a slice ended before the walk: the task enqueues the next one


def _slice_seconds() -> float:
    return float(getattr(settings, "OPENID_BUILD_SLICE_SECONDS", 60))


# --- Create, start again ---------------------------------------------------------------


def _enqueue_build(package: OpenIdPackage, *, countdown: float | None = None) -> None:
    from crowds.openid_tasks import build_openid_package

    kwargs = {"package_id": package.pk, "brand_id": package.brand_id}
    transaction.on_commit(
        lambda: build_openid_package.apply_async(kwargs=kwargs, countdown=countdown)
    )


def openid_package_create(*, brand: Brand, group_id: int) -> OpenIdPackage:
    """Check the group and the official account, save the package, start the build.

    Raises `OpenIdPackageRefused` (field `wechat_app_id`, `linkflow` or `group_id`) or a
    `LinkflowError` when Linkflow cannot answer."""
    app_id = (brand.wechat_app_id or "").strip()
    if not app_id:
        raise OpenIdPackageRefused(
            "wechat_app_id",
            _("Enter the official account's appId in Settings: openIds belong to one account."),
        )
    if not 0 < int(group_id) <= MAX_GROUP_ID:
        raise OpenIdPackageRefused("group_id", _("No such Linkflow group."))
    try:
        group = cdp.cdp_group(brand=brand, group_id=int(group_id))
    except LinkflowNotConnected as exc:
        raise OpenIdPackageRefused("linkflow", str(exc)) from exc
    except cdp.GroupNotFound as exc:
        raise OpenIdPackageRefused("group_id", _("No such Linkflow group.")) from exc
    package = OpenIdPackage.objects.create(
        brand=brand,
        group_id=int(group_id),
        group_name=str(group.get("name") or group_id)[:200],
        wechat_app_id=app_id,
    )
    _enqueue_build(package)
    return package


def openid_package_can_restart(package: OpenIdPackage, *, now: datetime | None = None) -> bool:
    """A failed build, or one nobody has worked on for a while (its task was lost)."""
    now = now or timezone.now()
    if package.status == Status.FAILED:
        return True
    return package.status == Status.BUILDING and _is_stale(package, now)


def _is_stale(package: OpenIdPackage, now: datetime) -> bool:
    if package.lease_until is not None:
        return package.lease_until < now
    return package.updated_at < now - STALE_AFTER


def openid_package_restart(*, package: OpenIdPackage) -> OpenIdPackage:
    """Build a failed package again from the start (a new attempt, new working files); a
    stalled build is resumed where it stopped."""
    if package.status == Status.BUILDING:
        if _is_stale(package, timezone.now()):
            _enqueue_build(package)
        return package
    if package.status != Status.FAILED:
        raise OpenIdPackageRefused("status", _("Only a failed package can be built again."))
    app_id = (package.brand.wechat_app_id or "").strip()
    if not app_id:
        raise OpenIdPackageRefused(
            "wechat_app_id",
            _("Enter the official account's appId in Settings: openIds belong to one account."),
        )
    restarted = OpenIdPackage.objects.filter(pk=package.pk, status=Status.FAILED).update(
        status=Status.BUILDING,
        attempt=package.attempt + 1,
        wechat_app_id=app_id,
        count=0,
        members_seen=0,
        error="",
        file="",
        lease_id="",
        lease_until=None,
        updated_at=timezone.now(),
    )
    package.refresh_from_db()
    if restarted:
        _enqueue_build(package)
    return package


# --- Build -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Paths:
    name: str  # the file's name in the storage, once ready
    final: Path
    partial: Path
    index: Path


def _paths(package: OpenIdPackage) -> _Paths:
    name = f"{package.brand_id}/{package.pk}-{package.attempt}.txt"
    final = openid_package_root() / name
    return _Paths(
        name,
        final,
        final.with_name(final.name + ".partial"),
        final.with_name(final.name + ".index.sqlite3"),
    )


@dataclass(frozen=True)
class _Progress:
    cursor: int = 0  # the last memberId walked
    size: int = 0  # bytes of the working file that hold committed pages
    count: int = 0
    members: int = 0
    finished: bool = False


class _Index:
    """The on-disk set of openIds written so far, and the progress that goes with them."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS seen (open_id TEXT PRIMARY KEY) WITHOUT ROWID")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS progress (id INTEGER PRIMARY KEY CHECK (id = 1),"
            " cursor INTEGER, size INTEGER, count INTEGER, members INTEGER, finished INTEGER)"
        )

    def __enter__(self) -> _Index:
        return self

    def __exit__(self, *exc) -> None:
        if self.db.in_transaction:
            self.db.rollback()
        self.db.close()

    def progress(self) -> _Progress:
        row = self.db.execute(
            "SELECT cursor, size, count, members, finished FROM progress WHERE id = 1"
        ).fetchone()
        return _Progress(row[0], row[1], row[2], row[3], bool(row[4])) if row else _Progress()

    def add(self, open_ids: Iterable[str]) -> list[str]:
        """Opens the page's transaction; the openIds not seen before, in order."""
        self.db.execute("BEGIN IMMEDIATE")
        fresh = []
        for open_id in open_ids:
            if self.db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (open_id,)).rowcount:
                fresh.append(open_id)
        return fresh

    def commit(self, progress: _Progress) -> None:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(
            "INSERT OR REPLACE INTO progress VALUES (1, ?, ?, ?, ?, ?)",
            (progress.cursor, progress.size, progress.count, progress.members, progress.finished),
        )
        self.db.execute("COMMIT")


def _open_ids(contact: dict, app_id: str) -> Iterator[str]:
    """The contact's openIds of the official account `app_id` (spec: openIds[].channelId).
    A value with white space would break the one-per-line file: not an openId."""
    for entry in contact.get("openIds") or ():
        if not isinstance(entry, dict) or entry.get("channelId") != app_id:
            continue
        open_id = str(entry.get("openId") or "").strip()
        if open_id and not any(c.isspace() for c in open_id):
            yield open_id


def _claim(package: OpenIdPackage, budget: float) -> str | None:
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        OpenIdPackage.objects.filter(pk=package.pk, status=Status.BUILDING, attempt=package.attempt)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_id=token, lease_until=now + timedelta(seconds=budget) + LEASE_MARGIN)
    )
    return token if claimed else None


def _held(package: OpenIdPackage, lease: str):
    return OpenIdPackage.objects.filter(
        pk=package.pk, status=Status.BUILDING, attempt=package.attempt, lease_id=lease
    )


def _release(package: OpenIdPackage, lease: str) -> None:
    _held(package, lease).update(lease_id="", lease_until=None)


def openid_package_build(*, package_id: int, budget_seconds: float | None = None) -> BuildOutcome:
    """One slice of the build: pages of the group until the walk ends or the budget is
    spent. Safe to run twice: a run that finds the lease taken, or the package no longer
    building, does nothing. Linkflow errors propagate (the task retries or fails)."""
    package = OpenIdPackage.objects.select_related("brand").get(pk=package_id)
    budget = _slice_seconds() if budget_seconds is None else budget_seconds
    if package.status != Status.BUILDING:
        return BuildOutcome(package, more=False)
    lease = _claim(package, budget)
    if lease is None:
        return BuildOutcome(package, more=False)
    try:
        more = _build_slice(package, lease, budget)
    except _Superseded:
        more = False
    finally:
        _release(package, lease)
    package.refresh_from_db()
    return BuildOutcome(package, more=more and package.status == Status.BUILDING)


def _build_slice(package: OpenIdPackage, lease: str, budget: float) -> bool:
    """True when the slice ended before the walk did."""
    paths = _paths(package)
    paths.final.parent.mkdir(parents=True, exist_ok=True)
    with _Index(paths.index) as index:
        progress = index.progress()
        if not progress.finished:
            progress = _walk(package, lease, budget, index, progress, paths)
            if not progress.finished:
                return True
    _complete(package, lease, progress, paths)
    return False


def _walk(
    package: OpenIdPackage,
    lease: str,
    budget: float,
    index: _Index,
    progress: _Progress,
    paths: _Paths,
) -> _Progress:
    client = linkflow_for(package.brand)
    deadline = time.monotonic() + budget
    with open(paths.partial, "a+b") as out:
        if out.seek(0, os.SEEK_END) < progress.size:
            raise OSError(f"{paths.partial} is shorter than its committed length")
        out.truncate(progress.size)  # drop what a crash wrote after the last commit
        while True:
            page = (
                client.group_members(
                    group_id=package.group_id, member_id=progress.cursor, size=MEMBERS_PAGE
                )
                or []
            )
            if page:
                progress = _take_page(package, client, page, index, progress, out)
                if not _held(package, lease).update(
                    count=progress.count,
                    members_seen=progress.members,
                    lease_until=timezone.now() + timedelta(seconds=budget) + LEASE_MARGIN,
                    updated_at=timezone.now(),
                ):
                    raise _Superseded()
            if len(page) < MEMBERS_PAGE:
                progress = replace(progress, finished=True)
                index.commit(progress)
                return progress
            if time.monotonic() >= deadline:
                return progress


class _Superseded(Exception):
    """The lease was lost (the package restarted, or another run took over)."""


def _take_page(package, client, page: list, index: _Index, progress: _Progress, out) -> _Progress:
    try:
        cursor = max(int(member["memberId"]) for member in page)
        ids = [int(member["contact"]["id"]) for member in page]
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkflowUnexpectedResponse(
            f"a group member without memberId or contact id: {exc}",
            endpoint="/open/groups/{groupId}/contacts",
        ) from exc
    if cursor <= progress.cursor:
        raise LinkflowUnexpectedResponse(
            f"the memberId cursor did not move past {progress.cursor}",
            endpoint="/open/groups/{groupId}/contacts",
        )
    found = [
        open_id
        for contact in client.iter_contacts_bulk(ids=ids, need_open_id=True)
        if isinstance(contact, dict)
        for open_id in _open_ids(contact, package.wechat_app_id)
    ]
    fresh = index.add(found)
    if fresh:
        out.write("".join(f"{open_id}\n" for open_id in fresh).encode())
    out.flush()
    os.fsync(out.fileno())
    progress = replace(
        progress,
        cursor=cursor,
        size=out.tell(),
        count=progress.count + len(fresh),
        members=progress.members + len(page),
    )
    index.commit(progress)
    return progress


def _complete(package: OpenIdPackage, lease: str, progress: _Progress, paths: _Paths) -> None:
    if paths.partial.exists():
        os.replace(paths.partial, paths.final)
    now = timezone.now()
    ready = _held(package, lease).update(
        status=Status.READY,
        file=paths.name,
        count=progress.count,
        members_seen=progress.members,
        built_at=now,
        updated_at=now,
    )
    if ready:
        paths.index.unlink(missing_ok=True)
        _drop(paths.index.with_name(paths.index.name + "-wal"))
        _drop(paths.index.with_name(paths.index.name + "-shm"))
    else:
        _drop(paths.final)  # an attempt that is no longer the package's
        raise _Superseded()


def _drop(path: Path) -> None:
    path.unlink(missing_ok=True)


def openid_package_fail(*, package_id: int, attempt: int, reason: str) -> OpenIdPackage:
    """The build of `attempt` failed: say why and drop its working files. Nothing partial
    is ever used; "build again" starts afresh."""
    now = timezone.now()
    OpenIdPackage.objects.filter(pk=package_id, status=Status.BUILDING, attempt=attempt).update(
        status=Status.FAILED, error=reason[:2000], lease_id="", lease_until=None, updated_at=now
    )
    package = OpenIdPackage.objects.get(pk=package_id)
    if package.status == Status.FAILED and package.attempt == attempt:
        paths = _paths(package)
        for path in (paths.partial, paths.index):
            _drop(path)
            _drop(path.with_name(path.name + "-wal"))
            _drop(path.with_name(path.name + "-shm"))
    return package


def openid_packages_stalled(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(package id, brand id) of builds nobody is working on (their task was lost).
    Periodic fan-out: unscoped."""
    now = now or timezone.now()
    with scopes_disabled():
        return list(
            OpenIdPackage.objects.filter(status=Status.BUILDING)
            .filter(
                Q(lease_until__lt=now)
                | Q(lease_until__isnull=True, updated_at__lt=now - STALE_AFTER)
            )
            .values_list("pk", "brand_id")[:500]
        )


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, LinkflowNotConnected):
        return str(exc)
    if isinstance(exc, LinkflowError):
        code = getattr(exc, "code", "")
        message = getattr(exc, "message", "") or str(exc)
        return f"{code}: {message}" if code else message
    return f"{type(exc).__name__}: {exc}"


# --- Reading the file, and JD's link to it ----------------------------------------------


def openid_lines(package: OpenIdPackage, *, offset: int = 0) -> Iterator[tuple[str, int]]:
    """(openId, byte offset after its line) from `offset`: a reader resumes where it
    stopped without reading the lines before."""
    if not package.is_ready or not package.file:
        raise OpenIdPackageRefused("openid_package", _("The openId package is not ready."))
    with package.file.storage.open(package.file.name, "rb") as lines:
        lines.seek(offset)
        for line in iter(lines.readline, b""):
            open_id = line.decode().strip()
            if open_id:
                yield open_id, lines.tell()


def openid_pack_url(package: OpenIdPackage, *, valid_until: datetime | None = None) -> str:
    """The absolute, signed link JD Cloud fetches the file from (`pack_path`)."""
    until = timezone.now() + PACK_URL_VALID
    if valid_until is not None and valid_until > until:
        until = min(valid_until, timezone.now() + PACK_URL_LONGEST)
    token = signing.TimestampSigner(salt=PACK_URL_SALT).sign_object(
        {"p": package.pk, "a": package.attempt, "u": int(until.timestamp())}
    )
    path = reverse("openid:file", kwargs={"token": token})
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


def openid_package_for_token(token: str) -> OpenIdPackage | None:
    """The ready package a link was signed for, or None when the token is wrong, expired,
    or the package is gone. Unscoped: the caller is JD Cloud, with no session."""
    try:
        data = signing.TimestampSigner(salt=PACK_URL_SALT).unsign_object(
            token, max_age=PACK_URL_LONGEST
        )
        package_id, attempt, until = int(data["p"]), int(data["a"]), int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if until < time.time():
        return None
    with scopes_disabled():
        return OpenIdPackage.objects.filter(
            pk=package_id, attempt=attempt, status=Status.READY
        ).first()


def openid_packages_ready(*, brand: Brand):
    """The brand's packages a WeChat campaign can be sent to."""
    return OpenIdPackage.objects.filter(brand=brand, status=Status.READY, count__gt=0)
