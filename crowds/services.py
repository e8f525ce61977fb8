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
from django.db import connection, transaction
from django.utils import timezone
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
    with sync state `failed` and the reason; `crowd_sync` retries."""
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
    else edit. Safe to repeat."""
    try:
        client = _client(crowd.brand)
    except RemoteRejected as exc:
        crowd.sync_state = SyncState.FAILED
        crowd.sync_error = exc.message
        crowd.save(update_fields=["sync_state", "sync_error", "updated_at"])
        return crowd
    try:
        if not crowd.search_id:
            crowd.search_id = client.crowd_create_v2(
                master_id=crowd.brand.master_id,
                crowd_name=crowd.name,
                crowd_desc=crowd.description or crowd.name,
                condition=crowd.condition,
                package_type=crowd.package_type,
            )
        else:
            client.crowd_edit_v2(
                search_id=crowd.search_id,
                condition=crowd.condition,
                crowd_desc=crowd.description or crowd.name,
                crowd_name=crowd.name,
            )
    except JDCloudError as exc:
        crowd.sync_state = SyncState.FAILED
        crowd.sync_error = getattr(exc, "msg", "") or str(exc)
        crowd.save(update_fields=["sync_state", "sync_error", "updated_at"])
        return crowd
    crowd.sync_state = SyncState.SYNCED
    crowd.sync_error = ""
    crowd.synced_at = timezone.now()
    crowd.save(update_fields=["search_id", "sync_state", "sync_error", "synced_at", "updated_at"])
    return crowd


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
    """`/crowd/init`: a new package of the crowd, then polled until generated."""
    if crowd.sync_state != SyncState.SYNCED or not crowd.search_id:
        raise RemoteRejected("人群对象尚未同步到京东云,请先重试同步。", retryable=True)
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
    """Poll again an instance that was flagged stuck (or whose poll chain was lost)."""
    if instance.status != InstanceStatus.GENERATING:
        return instance
    instance.stuck = False
    instance.next_poll_at = timezone.now()
    instance.save(update_fields=["stuck", "next_poll_at", "updated_at"])
    _start_polling(instance)
    return instance


def _require_generated(instance: CrowdInstance, path: str) -> None:
    if not instance.is_generated or not instance.package_id:
        raise CrowdInputError([conditions.Violation(path, "人群包尚未生成成功,不能用于此操作")])


@dataclass(frozen=True)
class SplitPart:
    name: str
    value: float | int


def instance_split(
    *, instance: CrowdInstance, parts: Sequence[SplitPart], split_type: str
) -> list[CrowdInstance]:
    """`/crowd/instance/split` by ratio (sum ≤ 1) or head count (sum ≤ size)."""
    _require_generated(instance, "package_id")
    errors = []
    if not parts:
        errors.append(conditions.Violation("ratio", "至少需要一个抽取项"))
    for index, part in enumerate(parts):
        if not part.name or "|" in part.name:
            errors.append(conditions.Violation(f"ratio[{index}].name", "名称不能为空,也不能包含 |"))
        if split_type == jd.SplitType.RATIO and not 0 < float(part.value) <= 1:
            errors.append(
                conditions.Violation(f"ratio[{index}].value", "比例必须大于 0 且不超过 1")
            )
        if split_type == jd.SplitType.COUNT and (
            int(part.value) != part.value or int(part.value) <= 0
        ):
            errors.append(conditions.Violation(f"ratio[{index}].value", "人数必须是正整数"))
    total = sum(float(p.value) for p in parts)
    if split_type == jd.SplitType.RATIO and total > 1 + 1e-9:
        errors.append(conditions.Violation("ratio", f"比例之和 {total:g} 超过 1"))
    if split_type == jd.SplitType.COUNT and total > (instance.package_size or 0):
        errors.append(
            conditions.Violation(
                "ratio", f"人数之和 {total:g} 超过人群包大小 {instance.package_size}"
            )
        )
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
            [conditions.Violation("operation", "运算必须是 union / intersection / difference")]
        )
    for index, item in enumerate([*instances, *exclude]):
        _require_generated(item, f"packages[{index}]")
    if operation == "difference" and not exclude:
        raise CrowdInputError([conditions.Violation("exclude", "差集需要至少一个被排除的人群包")])
    if operation != "difference" and len(instances) < 2:
        raise CrowdInputError([conditions.Violation("packages", "并集与交集需要至少两个人群包")])

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
            [conditions.Violation("filter_types", "筛选类型必须是 1-4 中的一个或多个")]
        )
    try:
        results = _client(instance.brand).crowd_instance_filter(
            package_id=instance.package_id, filter_types=cleaned
        )
    except JDCloudError as exc:
        raise _remote(exc) from exc
    labels = {1: "受限制", 2: "未知状态", 3: "发送失败", 4: "发送成功"}
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
        return _poll(instance, now, jitter)


def _poll(instance: CrowdInstance, now, jitter: float) -> CrowdInstance:
    """Ask JD, then apply the answer or book the next poll, guarded by the `poll_count`
    that was read: of two pollers that both asked (SQLite), one applies and books."""
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
            error="" if status.status == jd.InstanceStatus.GENERATED else "京东云生成人群包失败",
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


def instances_due_for_poll(*, now=None) -> list[tuple[int, int]]:
    """(instance id, brand id) of generating instances whose next poll is overdue: their
    poll chain was lost (a worker died, a message expired). Periodic fan-out: unscoped."""
    now = now or timezone.now()
    overdue = now - timedelta(seconds=settings.CROWD_POLL_OVERDUE_SECONDS)
    with scopes_disabled():
        return list(
            CrowdInstance.objects.filter(
                status=InstanceStatus.GENERATING, stuck=False, next_poll_at__lt=overdue
            ).values_list("pk", "brand_id")[:500]
        )
