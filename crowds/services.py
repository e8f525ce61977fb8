"""Writes of the crowds app: the local twin first, then JD Cloud (STYLE.md §7)."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django_scopes import scopes_disabled

from brands.models import Brand
from crowds import conditions
from crowds.models import (
    Crowd,
    CrowdInstance,
    CrowdType,
    InstanceOrigin,
    InstanceStatus,
    SyncState,
    Tag,
)
from crowds.selectors import tag_catalog
from portal import redelivery
from portal.integrations.jdcloud import types as jd
from portal.integrations.jdcloud.errors import JDCloudError
from portal.integrations.jdcloud.factory import jdcloud_client

logger = logging.getLogger(__name__)


class CrowdInputError(Exception):
    """Bad input: each violation names its path (`condition.bool.must[0]...`) and why."""

    def __init__(self, violations: Sequence[conditions.Violation]) -> None:
        super().__init__("; ".join(f"{v.path}: {v.message}" for v in violations))
        self.violations = list(violations)


class RemoteRejected(Exception):
    """JD Cloud refused or could not be reached; `message` is what to show."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def _remote(exc: JDCloudError) -> RemoteRejected:
    msg = getattr(exc, "msg", "") or str(exc)
    return RemoteRejected(msg, retryable=exc.retryable)


def _client(brand: Brand):
    """The JD client, refused while JD Cloud reports itself down (spec: 获取系统状态), so
    nothing is sent that cannot complete."""
    from campaigns.services.system import JDUnavailable, ensure_jd_available

    try:
        ensure_jd_available()
    except JDUnavailable as exc:
        raise RemoteRejected(exc.reason, retryable=True) from exc
    return jdcloud_client(brand_id=brand.pk)


# --- Tag catalog -----------------------------------------------------------------------


def tag_catalog_refresh() -> dict[str, int]:
    """Store JD's catalog; tags JD no longer lists stay, marked inactive (old crowds use them)."""
    tags = jdcloud_client().tag_list_v2()
    seen = set()
    created = 0
    with transaction.atomic():
        for tag in tags:
            seen.add(tag.tag)
            _, was_created = Tag.objects.update_or_create(
                tag=tag.tag,
                defaults={
                    "instruction": tag.instruction,
                    "table_cd": tag.table_cd,
                    "tag_type": tag.tag_type,
                    "enums": list(tag.enums),
                    "active": True,
                },
            )
            created += was_created
        retired = Tag.objects.exclude(tag__in=seen).filter(active=True).update(active=False)
    return {"tags": len(seen), "created": created, "retired": retired}


# --- Crowds ----------------------------------------------------------------------------


def _checked_condition(condition: dict | str, package_type: int | None) -> tuple[dict, int]:
    catalog = tag_catalog()
    violations = conditions.validate_condition(condition, catalog)
    if violations:
        raise CrowdInputError(violations)
    parsed = conditions.parse(condition)
    if package_type is None:
        package_type = conditions.package_type_for(parsed, catalog)
    mismatch = conditions.check_package_type(parsed, package_type, catalog)
    if mismatch:
        raise CrowdInputError(mismatch)
    return parsed, package_type


def crowd_create(
    *,
    brand: Brand,
    name: str,
    description: str = "",
    condition: dict | str,
    package_type: int | None = None,
    user=None,
) -> Crowd:
    """Validate, save locally, then create at JD Cloud. A JD failure leaves the crowd
    with sync state `failed` and the reason; `crowd_sync` retries, adopting the crowd JD
    made if the failure was a lost answer."""
    parsed, package_type = _checked_condition(condition, package_type)
    crowd = Crowd.objects.create(
        brand=brand,
        name=name,
        description=description,
        condition=parsed,
        package_type=package_type,
        created_by=user,
    )
    return crowd_sync(crowd=crowd)


def crowd_update(
    *,
    crowd: Crowd,
    name: str | None = None,
    description: str | None = None,
    condition: dict | str | None = None,
    package_type: int | None = None,
) -> Crowd:
    if condition is not None:
        crowd.condition, crowd.package_type = _checked_condition(
            condition, package_type if package_type is not None else None
        )
    if name is not None:
        crowd.name = name
    if description is not None:
        crowd.description = description
    crowd.sync_state = SyncState.PENDING
    crowd.save()
    return crowd_sync(crowd=crowd)


def crowd_sync(*, crowd: Crowd) -> Crowd:
    """Make JD Cloud hold what the local row holds: create if it has no search_id yet,
    else edit. Safe to repeat: a create sent before whose answer was lost may have been
    carried out, so the crowd is looked for at JD and adopted before it is created again."""
    try:
        client = _client(crowd.brand)
    except RemoteRejected as exc:
        return _sync_failed(crowd, exc.message)
    try:
        found = _lost_create(client, crowd) if _may_exist_at_jd(crowd) else None
        if found is not None and not _adopt(crowd, found.search_id):
            reason = gettext("Another crowd took the crowd found at JD Cloud at once; sync again.")
            return _sync_failed(crowd, reason)
        if not crowd.search_id:
            crowd.search_id = _send_create(client, crowd)
        elif found is None or (found.crowd_desc or "") != _jd_description(crowd):
            client.crowd_edit_v2(
                search_id=crowd.search_id,
                condition=crowd.condition,
                crowd_desc=_jd_description(crowd),
                crowd_name=crowd.name,
            )
    except JDCloudError as exc:
        return _sync_failed(crowd, getattr(exc, "msg", "") or str(exc))
    crowd.sync_state = SyncState.SYNCED
    crowd.sync_error = ""
    crowd.synced_at = timezone.now()
    crowd.save(update_fields=["search_id", "sync_state", "sync_error", "synced_at", "updated_at"])
    return crowd


def _sync_failed(crowd: Crowd, reason: str) -> Crowd:
    crowd.sync_state = SyncState.FAILED
    crowd.sync_error = reason
    crowd.save(update_fields=["sync_state", "sync_error", "updated_at"])
    return crowd


def _jd_description(crowd: Crowd) -> str:
    """`crowd_desc` is required at JD (新建人群对象): the name stands in for an empty one."""
    return crowd.description or crowd.name


def _may_exist_at_jd(crowd: Crowd) -> bool:
    """No search_id, yet a create was sent: its answer was lost (or refused, which costs
    one needless look at JD's list)."""
    return not crowd.search_id and crowd.create_attempts > 0


def _send_create(client, crowd: Crowd) -> str:
    """`/crowd/create/v2`, counted on the row before it is sent: should the answer never
    come (a timeout, a worker killed mid-call), the next sync knows to look at JD first."""
    crowd.create_attempts += 1
    crowd.save(update_fields=["create_attempts", "updated_at"])
    return client.crowd_create_v2(
        master_id=crowd.brand.master_id,
        crowd_name=crowd.name,
        crowd_desc=_jd_description(crowd),
        condition=crowd.condition,
        package_type=crowd.package_type,
    )


# Crowds asked for per page of `/crowd/list` when looking for a create whose answer was lost.
LOST_CREATE_PAGE_SIZE = 50


def _lost_create(client, crowd: Crowd) -> jd.Crowd | None:
    """The crowd an earlier `/crowd/create/v2` of this row made at JD, if JD lists one.

    The spec makes no crowd name unique (新建人群对象 names no such refusal, and 获取人群对象
    列表 searches `crowd_name` fuzzily), so the name alone does not say the crowd is ours: it
    must also be a tag extraction of the same package type and condition, and one that no
    crowd of the brand already holds. Of several (more than one lost create carried out),
    the oldest is taken; the others stay at JD, unknown to the portal. A create still held
    at JD when this runs is not listed yet, and will be one such orphan."""
    matches = [
        remote
        for remote in _listed_named(client, crowd)
        if remote.search_id
        and remote.crowd_name == crowd.name
        and remote.crowd_type == CrowdType.EXTRACT
        and remote.package_type == crowd.package_type
        and conditions.parse_or_empty(remote.condition) == crowd.condition
    ]
    known = set(
        Crowd.objects.filter(
            brand=crowd.brand, search_id__in=[remote.search_id for remote in matches]
        ).values_list("search_id", flat=True)
    )
    unknown = [remote for remote in matches if remote.search_id not in known]
    return min(unknown, key=lambda r: (r.create_time or "", r.search_id), default=None)


def _listed_named(client, crowd: Crowd) -> Iterator[jd.Crowd]:
    """The brand's tag-extraction crowds at JD whose name contains the crowd's, page by
    page (获取人群对象列表: `crowd_name` 支持模糊搜索, `crowd_type` 仅支持1/3/4)."""
    page = 1
    while True:
        result = client.crowd_list(
            master_id=crowd.brand.master_id,
            crowd_name=crowd.name,
            crowd_type=int(CrowdType.EXTRACT),
            package_type=crowd.package_type,
            page_num=page,
            page_size=LOST_CREATE_PAGE_SIZE,
        )
        yield from result.result
        if page >= result.pages or not result.result:
            return
        page += 1


def _adopt(crowd: Crowd, search_id: str) -> bool:
    """Take the search_id of the crowd JD made for a lost create, saved at once so that a
    failing edit after it does not lose it. False if a concurrent sync of another row took
    it first (the unique constraint on brand and search_id)."""
    crowd.search_id = search_id
    try:
        with transaction.atomic():
            crowd.save(update_fields=["search_id", "updated_at"])
    except IntegrityError:
        crowd.search_id = ""
        return False
    return True


def crowd_delete(*, crowd: Crowd) -> None:
    """Delete at JD Cloud, then locally. If JD fails the crowd stays, saying why."""
    if crowd.search_id:
        try:
            _client(crowd.brand).crowd_del(search_id=crowd.search_id)
        except JDCloudError as exc:
            crowd.sync_state = SyncState.FAILED
            crowd.sync_error = getattr(exc, "msg", "") or str(exc)
            crowd.save(update_fields=["sync_state", "sync_error", "updated_at"])
            raise _remote(exc) from exc
    crowd.delete()


def crowd_import(*, brand: Brand, page_size: int = 50) -> int:
    """Create local twins of the crowds JD Cloud holds for `brand` that we do not know."""
    client = _client(brand)
    known = set(Crowd.objects.exclude(search_id="").values_list("search_id", flat=True))
    imported, page = 0, 1
    while True:
        result = client.crowd_list(master_id=brand.master_id, page_num=page, page_size=page_size)
        for remote in result.result:
            if remote.search_id in known:
                continue
            Crowd.objects.create(
                brand=brand,
                search_id=remote.search_id,
                name=remote.crowd_name or remote.search_id,
                description=remote.crowd_desc or "",
                condition=conditions.parse_or_empty(remote.condition),
                data_type=remote.data_type or "1",
                crowd_type=remote.crowd_type or CrowdType.EXTRACT,
                package_type=remote.package_type or 1,
                sync_state=SyncState.SYNCED,
                synced_at=timezone.now(),
            )
            known.add(remote.search_id)
            imported += 1
        if page >= max(result.pages, 1) or not result.result:
            return imported
        page += 1


# --- Instances -------------------------------------------------------------------------


def _start_polling(instance: CrowdInstance) -> None:
    """Start the poll chain once the row is committed. Its first task books the first look
    (`instance_poll(first_look=True)`), with the settings of the worker that runs it."""
    from crowds.tasks import poll_instance

    transaction.on_commit(
        lambda: poll_instance.delay(
            instance_id=instance.pk, brand_id=instance.brand_id, first_look=True
        )
    )


def _generating(instance: CrowdInstance, package_id: str) -> CrowdInstance:
    instance.package_id = package_id
    instance.status = InstanceStatus.GENERATING
    instance.next_poll_at = timezone.now()
    instance.save(update_fields=["package_id", "status", "next_poll_at", "updated_at"])
    _start_polling(instance)
    return instance


def _request_failed(instance: CrowdInstance, exc: JDCloudError) -> RemoteRejected:
    instance.status = InstanceStatus.REQUEST_FAILED
    instance.error = getattr(exc, "msg", "") or str(exc)
    instance.save(update_fields=["status", "error", "updated_at"])
    return _remote(exc)


def instance_create(*, crowd: Crowd) -> CrowdInstance:
    """`/crowd/init`: a new package of the crowd, then polled until generated.

    A `/crowd/init` whose answer was lost (a timeout) may still have made a package at JD;
    the row stays `request_failed` with the reason and a retry asks for another package.
    The first cannot be found to adopt it: the spec leads to a package only through its
    package_id (人群对象实例相关 has no list, and neither 获取人群对象详情 nor 获取人群对象
    列表 names a crowd's packages). It stays at JD, a snapshot nothing refers to."""
    if crowd.sync_state != SyncState.SYNCED or not crowd.search_id:
        raise RemoteRejected(gettext("人群对象尚未同步到京东云,请先重试同步。"), retryable=True)
    client = _client(crowd.brand)
    instance = CrowdInstance.objects.create(
        brand=crowd.brand,
        crowd=crowd,
        name=crowd.name,
        origin=InstanceOrigin.INIT,
        package_type=crowd.package_type,
    )
    try:
        ref = client.crowd_init(search_id=crowd.search_id)
    except JDCloudError as exc:
        raise _request_failed(instance, exc) from exc
    return _generating(instance, ref.package_id)


def instance_repoll(*, instance: CrowdInstance) -> CrowdInstance:
    """Poll again an instance that was flagged stuck (or whose poll chain was lost). The
    user asked: the polls that died before are forgiven, and the reason given then goes."""
    if instance.status != InstanceStatus.GENERATING:
        return instance
    instance.stuck = False
    instance.poll_deliveries = 0
    instance.error = ""
    instance.next_poll_at = timezone.now()
    instance.save(update_fields=["stuck", "poll_deliveries", "error", "next_poll_at", "updated_at"])
    _start_polling(instance)
    return instance


def _require_generated(instance: CrowdInstance, path: str) -> None:
    if not instance.is_generated or not instance.package_id:
        raise CrowdInputError(
            [conditions.Violation(path, gettext("人群包尚未生成成功,不能用于此操作"))]
        )


@dataclass(frozen=True)
class SplitPart:
    name: str
    value: float | int


def instance_split(
    *, instance: CrowdInstance, parts: Sequence[SplitPart], split_type: str
) -> list[CrowdInstance]:
    """`/crowd/instance/split` by ratio (sum ≤ 1) or head count (sum ≤ size).

    A split whose answer was lost (a timeout) may still have made its parts at JD, each a
    crowd and a package (人群抽取); nothing is saved here and a retry splits again. The
    first parts cannot be found to adopt them: their crowds (types 5 and 6, which the
    list's `crowd_type` filter does not take) carry no package_id in 获取人群对象列表 or
    获取人群对象详情, and the spec has no list of packages. They stay at JD, never reached."""
    _require_generated(instance, "package_id")
    errors = []
    if not parts:
        errors.append(conditions.Violation("ratio", gettext("至少需要一个抽取项")))
    for index, part in enumerate(parts):
        if not part.name or "|" in part.name:
            errors.append(
                conditions.Violation(f"ratio[{index}].name", gettext("名称不能为空,也不能包含 |"))
            )
        if split_type == jd.SplitType.RATIO and not 0 < float(part.value) <= 1:
            errors.append(
                conditions.Violation(f"ratio[{index}].value", gettext("比例必须大于 0 且不超过 1"))
            )
        if split_type == jd.SplitType.COUNT and (
            int(part.value) != part.value or int(part.value) <= 0
        ):
            errors.append(
                conditions.Violation(f"ratio[{index}].value", gettext("人数必须是正整数"))
            )
    total = sum(float(p.value) for p in parts)
    if split_type == jd.SplitType.RATIO and total > 1 + 1e-9:
        message = gettext("比例之和 %(total)g 超过 1") % {"total": total}
        errors.append(conditions.Violation("ratio", message))
    if split_type == jd.SplitType.COUNT and total > (instance.package_size or 0):
        message = gettext("人数之和 %(total)g 超过人群包大小 %(size)s") % {
            "total": total,
            "size": instance.package_size,
        }
        errors.append(conditions.Violation("ratio", message))
    if errors:
        raise CrowdInputError(errors)
    try:
        results = _client(instance.brand).crowd_instance_split(
            package_id=instance.package_id,
            parts=[(p.name, p.value) for p in parts],
            split_type=jd.SplitType(split_type),
        )
    except JDCloudError as exc:
        raise _remote(exc) from exc
    children = []
    now = timezone.now()
    for part, result in zip(parts, results, strict=False):
        child = CrowdInstance.objects.create(
            brand=instance.brand,
            crowd=instance.crowd,
            package_id=result.package_id,
            name=result.package_name or f"{part.name}|{part.value}",
            origin=InstanceOrigin.SPLIT,
            params={"split_type": str(split_type), "name": part.name, "value": part.value},
            status=InstanceStatus.GENERATED,
            package_size=result.package_size,
            package_size_view=str(result.package_size),
            package_type=instance.package_type,
            completed_at=now,
        )
        child.parents.add(instance)
        children.append(child)
    return children


CALC_OPERATIONS = {"union": "should", "intersection": "must", "difference": "should"}


def instance_calc(
    *,
    brand: Brand,
    operation: str,
    instances: Sequence[CrowdInstance],
    exclude: Sequence[CrowdInstance] = (),
    name: str,
    description: str = "",
) -> CrowdInstance:
    """`/crowd/instance/calc`: union (should), intersection (must) of any number of
    generated packages, or difference (the first set minus `exclude`, via must_not)."""
    if operation not in CALC_OPERATIONS:
        raise CrowdInputError(
            [
                conditions.Violation(
                    "operation", gettext("运算必须是 union / intersection / difference")
                )
            ]
        )
    for index, item in enumerate([*instances, *exclude]):
        _require_generated(item, f"packages[{index}]")
    if operation == "difference" and not exclude:
        raise CrowdInputError(
            [conditions.Violation("exclude", gettext("差集需要至少一个被排除的人群包"))]
        )
    if operation != "difference" and len(instances) < 2:
        raise CrowdInputError(
            [conditions.Violation("packages", gettext("并集与交集需要至少两个人群包"))]
        )

    def terms(items):
        return [{"term": {"package_id": {"value": i.package_id}}} for i in items]

    condition: dict[str, Any] = {"bool": {CALC_OPERATIONS[operation]: terms(instances)}}
    if exclude:
        condition["bool"]["must_not"] = terms(exclude)
    violations = conditions.validate_package_condition(condition)
    if violations:
        raise CrowdInputError(violations)
    client = _client(brand)
    instance = CrowdInstance.objects.create(
        brand=brand,
        name=name,
        origin=InstanceOrigin.CALC,
        params={"operation": operation, "condition": condition},
    )
    instance.parents.add(*instances, *exclude)
    try:
        result = client.crowd_instance_calc(
            master_id=brand.master_id,
            crowd_name=name,
            crowd_desc=description or name,
            condition=condition,
        )
    except JDCloudError as exc:
        raise _request_failed(instance, exc) from exc
    instance.crowd = Crowd.objects.create(
        brand=brand,
        search_id=result.search_id,
        name=name,
        description=description,
        condition=condition,
        crowd_type=CrowdType.CALC,
        package_type=max((i.package_type or 1) for i in [*instances, *exclude]),
        sync_state=SyncState.SYNCED,
        synced_at=timezone.now(),
    )
    instance.save(update_fields=["crowd", "updated_at"])
    return _generating(instance, result.package_id)


def instance_filter(*, instance: CrowdInstance, filter_types: Sequence[int]) -> list[CrowdInstance]:
    """`/crowd/instance/filter`: packages of a reached package's responders by type 1-4."""
    _require_generated(instance, "package_id")
    cleaned = sorted({int(f) for f in filter_types})
    if not cleaned or any(f not in (1, 2, 3, 4) for f in cleaned):
        raise CrowdInputError(
            [conditions.Violation("filter_types", gettext("筛选类型必须是 1-4 中的一个或多个"))]
        )
    try:
        results = _client(instance.brand).crowd_instance_filter(
            package_id=instance.package_id, filter_types=cleaned
        )
    except JDCloudError as exc:
        raise _remote(exc) from exc
    # The label names the new package (stored), in the language of whoever asked.
    labels = {
        1: gettext("受限制"),
        2: gettext("未知状态"),
        3: gettext("发送失败"),
        4: gettext("发送成功"),
    }
    children = []
    for result in results:
        label = labels.get(int(result.filter_type or 0), result.filter_type)
        child = CrowdInstance.objects.create(
            brand=instance.brand,
            crowd=instance.crowd,
            name=f"{instance.name} · {label}",
            origin=InstanceOrigin.FILTER,
            params={"filter_type": result.filter_type},
            package_type=instance.package_type,
        )
        child.parents.add(instance)
        children.append(_generating(child, result.package_id))
    return children


def instance_save_as(*, instance: CrowdInstance, name: str, description: str = "") -> Crowd:
    """`/crowd/instance/saveas`: a copy of the crowd and its instance under a new name."""
    _require_generated(instance, "package_id")
    try:
        result = _client(instance.brand).crowd_instance_saveas(
            package_id=instance.package_id,
            crowd_name=name,
            crowd_desc=description or name,
            master_id=instance.brand.master_id,
        )
    except JDCloudError as exc:
        raise _remote(exc) from exc
    crowd = Crowd.objects.create(
        brand=instance.brand,
        search_id=result.search_id,
        name=name,
        description=description,
        condition=instance.crowd.condition if instance.crowd else {},
        crowd_type=CrowdType.SAVE_AS,
        package_type=instance.package_type or 1,
        sync_state=SyncState.SYNCED,
        synced_at=timezone.now(),
    )
    if result.package_id:  # JD's answer names only the crowd; the sandbox adds the package
        copy = CrowdInstance.objects.create(
            brand=instance.brand,
            crowd=crowd,
            name=name,
            origin=InstanceOrigin.SAVE_AS,
            package_type=instance.package_type,
        )
        copy.parents.add(instance)
        _generating(copy, result.package_id)
    return crowd


# --- Polling ---------------------------------------------------------------------------


# The policy (measured by `manage.py bench_polling`). JD's answer carries no progress and
# no estimate (spec 获取人群对象实例详情: status and sizes only), so what is known is the time
# since the package was asked for and how long JD usually takes. Looking before JD is
# likely done costs calls and gains nothing; looking rarely after costs detection lag. So:
# the first look when JD should be done (CROWD_POLL_FIRST_SECONDS, mean + half a spread),
# then densely where the rest most likely finish (CROWD_POLL_INITIAL_SECONDS), then wider
# in the tail: each wait is half the time already waited past the first look, capped.
POLL_TAIL_GROWTH = 0.5
# A look this close to the first look's time (its jitter) counts as the first look.
_FIRST_LOOK_SLACK = 0.9
# Packages made from a generated one exist at JD at once (the sandbox makes them so): the
# first look is immediate, and should JD still be generating, the schedule goes on from there.
LOOK_AT_ONCE = (InstanceOrigin.SAVE_AS, InstanceOrigin.FILTER, InstanceOrigin.SPLIT)
_random = random.SystemRandom()


def poll_jitter() -> float:
    """±2 %: spreads the looks of packages asked for together (a burst of calls at JD)
    without blurring a schedule whose point is to look at the right moment."""
    return _random.uniform(0.98, 1.02)


def poll_delay_seconds(*, elapsed: float, jitter: float = 1.0) -> float:
    """Seconds from now to the next look at a package generating for `elapsed` seconds:
    FIRST, then FIRST + INITIAL, then waits of half the time waited past FIRST (at least
    INITIAL, at most MAX): 63, 67, 71, 75, 81, 90, 103.5 … s with the defaults. No wait
    exceeds MAX, the first one included."""
    longest = settings.CROWD_POLL_MAX_SECONDS
    first = _first_look_seconds()
    if elapsed < first * _FIRST_LOOK_SLACK:
        delay = first - elapsed
    else:
        waited = max(elapsed - first, 0.0)
        delay = min(max(settings.CROWD_POLL_INITIAL_SECONDS, POLL_TAIL_GROWTH * waited), longest)
    return delay * jitter


def _first_look_seconds() -> float:
    return min(settings.CROWD_POLL_FIRST_SECONDS, settings.CROWD_POLL_MAX_SECONDS)


def _book_first_look(instance: CrowdInstance, now, jitter: float) -> CrowdInstance:
    """The chain's first task, before JD can be done: book the first look instead of
    asking. Of two copies of that task, one books (compare-and-set on `next_poll_at`)."""
    first_look = instance.created_at + timedelta(seconds=_first_look_seconds() * jitter)
    booked = CrowdInstance.objects.filter(
        pk=instance.pk,
        status=InstanceStatus.GENERATING,
        poll_count=0,
        next_poll_at=instance.next_poll_at,
    ).update(next_poll_at=first_look, updated_at=now)
    instance.refresh_from_db()
    instance.polled = bool(booked)
    return instance


# The first key of the PostgreSQL advisory locks held while an instance is polled (the
# second is the instance's id): "poll" in ASCII.
_POLL_LOCK_CLASS = 0x706F6C6C


@contextmanager
def _poll_lock(instance_id: int) -> Iterator[bool]:
    """Whether this caller may poll the instance now: on PostgreSQL, a session advisory
    lock on it for the length of the poll, taken without waiting, so that of concurrent
    pollers one asks JD and the others give up at once. Nothing is written to take it
    and it goes with the connection, so a worker killed inside the poll leaves the poll
    as it was, due for the next delivery or the sweeper. Other databases have no such
    lock: there the guarded booking (`poll_count` as version) lets one poller apply."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_POLL_LOCK_CLASS, instance_id])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_POLL_LOCK_CLASS, instance_id])


def _not_to_poll(instance: CrowdInstance, now) -> bool:
    """Not generating, flagged stuck, or its poll not due yet (a duplicate arriving early:
    another poll chain owns the instance)."""
    if instance.status != InstanceStatus.GENERATING or instance.stuck:
        return True
    return bool(instance.next_poll_at and instance.next_poll_at > now + timedelta(seconds=1))


def instance_poll(*, instance_id: int, jitter: float = 1.0, first_look: bool = False):
    """One poll of `/crowd/instance/status/{package_id}`, safe to run twice, or at once.

    Runs only when the instance is generating and its poll is due (a duplicate arriving
    early does nothing) and, on PostgreSQL, only in the one caller holding the instance's
    poll lock (concurrent pollers ask JD once); applies a final status or books the next
    poll time with an update guarded by `poll_count`, so that one poller does, which the
    caller then schedules (`polled`: this call booked it). `first_look` (a chain's first
    task): book the first look rather than ask JD before it can be done."""
    instance = CrowdInstance.objects.select_related("brand").get(pk=instance_id)
    instance.polled = False
    now = timezone.now()
    if _not_to_poll(instance, now):
        return instance
    if first_look and not instance.poll_count and instance.origin not in LOOK_AT_ONCE:
        elapsed = (now - instance.created_at).total_seconds()
        if elapsed < _first_look_seconds() * _FIRST_LOOK_SLACK:
            return _book_first_look(instance, now, jitter)
    if (now - instance.created_at).total_seconds() > settings.CROWD_POLL_GIVE_UP_SECONDS:
        CrowdInstance.objects.filter(pk=instance.pk, status=InstanceStatus.GENERATING).update(
            stuck=True, next_poll_at=None, updated_at=now
        )
        instance.refresh_from_db()
        return instance
    with _poll_lock(instance.pk) as held:
        if not held:
            return instance  # a concurrent poller is asking JD; it books the next poll
        instance.refresh_from_db()  # as the lock holder finds it: a poll just made is seen
        instance.polled = False
        if _not_to_poll(instance, now):
            return instance
        if redelivery.is_spent(instance.poll_deliveries):
            # Celery handed back the poll of a worker that died, again and again.
            return _give_up_dying_poll(instance, now)
        return _poll(instance, now, jitter)


def _poll(instance: CrowdInstance, now, jitter: float) -> CrowdInstance:
    """Ask JD, then apply the answer or book the next poll, guarded by the `poll_count`
    that was read: of two pollers that both asked (SQLite), one applies and books. The poll
    is counted before JD is asked and the count cleared with the booking: a worker killed
    in between leaves it counted (portal/redelivery.py)."""
    delivery = CrowdInstance.objects.filter(pk=instance.pk)
    redelivery.delivery_started(delivery, field="poll_deliveries")
    try:
        status = _client(instance.brand).crowd_instance_status(package_id=instance.package_id)
    except (JDCloudError, RemoteRejected) as exc:
        logger.info("status of %s unavailable: %s", instance.package_id, exc)
        status = None
    unchanged = CrowdInstance.objects.filter(
        pk=instance.pk, status=InstanceStatus.GENERATING, poll_count=instance.poll_count
    )
    changes: dict[str, Any] = {
        "poll_count": instance.poll_count + 1,
        "poll_deliveries": 0,
        "last_polled_at": now,
        "updated_at": now,
    }
    if status is not None and status.status in (
        jd.InstanceStatus.GENERATED,
        jd.InstanceStatus.FAILED,
    ):
        changes.update(
            status=status.status,
            package_size=status.package_size,
            package_size_view=status.package_size_view,
            package_type=status.package_type or instance.package_type,
            error=(
                ""
                if status.status == jd.InstanceStatus.GENERATED
                else gettext("京东云生成人群包失败")
            ),
            completed_at=now,
            next_poll_at=None,
        )
    else:
        elapsed = (now - instance.created_at).total_seconds()
        delay = poll_delay_seconds(elapsed=elapsed, jitter=jitter)
        changes["next_poll_at"] = now + timedelta(seconds=delay)
    booked = unchanged.update(**changes)
    instance.refresh_from_db()
    instance.polled = bool(booked)
    return instance


def _overdue_polls(now):
    overdue = now - timedelta(seconds=settings.CROWD_POLL_OVERDUE_SECONDS)
    return CrowdInstance.objects.filter(
        status=InstanceStatus.GENERATING, stuck=False, next_poll_at__lt=overdue
    )


def instances_due_for_poll(*, now=None) -> list[tuple[int, int]]:
    """(instance id, brand id) of generating instances whose next poll is overdue: their
    poll chain was lost (a worker died, a message expired). Not those whose polls died
    more often than CELERY_MAX_REDELIVERIES allows (`instances_give_up_dying_polls`).
    Periodic fan-out: unscoped."""
    now = now or timezone.now()
    with scopes_disabled():
        return list(
            _overdue_polls(now)
            .exclude(redelivery.deliveries_spent("poll_deliveries"))
            .values_list("pk", "brand_id")[:500]
        )


def instances_give_up_dying_polls(*, now=None) -> int:
    """Flag stuck, saying why, the overdue polls whose worker died every time they were
    sent, more often than CELERY_MAX_REDELIVERIES allows: sent again, they would die again.
    The user sees the reason and can poll again (`instance_repoll`). Periodic fan-out:
    unscoped. Returns how many were given up."""
    now = now or timezone.now()
    with scopes_disabled():
        dying = list(
            _overdue_polls(now).filter(redelivery.deliveries_spent("poll_deliveries"))[:500]
        )
        return sum(bool(_give_up_dying_poll(instance, now).stuck) for instance in dying)


def _give_up_dying_poll(instance: CrowdInstance, now) -> CrowdInstance:
    """Flag stuck with the reason, unless a poll finished meanwhile (the count it read)."""
    reason = gettext(
        "The portal stopped asking JD Cloud about this package: the poll was cut off "
        "%(times)d times in a row before it finished (its worker stopped). Poll again to "
        "resume."
    ) % {"times": instance.poll_deliveries}
    CrowdInstance.objects.filter(
        pk=instance.pk,
        status=InstanceStatus.GENERATING,
        stuck=False,
        poll_deliveries=instance.poll_deliveries,
    ).update(stuck=True, next_poll_at=None, error=reason, updated_at=now)
    logger.warning("poll of instance %s given up: %s", instance.pk, reason)
    instance.refresh_from_db()
    return instance
