"""Write-back of campaign outcomes to Linkflow (PRODUCT.md §5): when a JD reach or a WeChat
campaign reaches a final state, record it as an event on the matching Linkflow contacts
where the portal knows who they are (spec: 创建联系人和事件, `POST /open/messages`).

Who is known:
- A WeChat campaign sent to an openId package (pack_type 3): every openId of the package,
  identified as `{"type": "wechat.openId", "id": openId}` (spec 联系人身份: wechat.openId,
  the same identity the package was read from). One `/open/messages` call per contact,
  since `identities` names one contact per call.
- Any other WeChat audience, and every JD reach: JD Cloud says how many it reached, never
  who (a crowd package is JD's own pins). The job is recorded as skipped with that reason.

Idempotency: one `WritebackJob` per (brand, source). Progress (the byte offset into the
package file and the counts) is saved after every contact, and each message carries a
`message_id` and `request_id` derived from the job and the openId (uuid5): a retried or
resumed run starts after the last contact it recorded, and the one contact that may have
been in flight when a worker died is sent again under the same ids, which is what the spec's
"保证每个请求唯一" request id is for. Runs are slices (`WRITEBACK_SLICE_SECONDS`), and a lease
on the job keeps a duplicate delivery from writing beside the running one.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from brands.linkflow import linkflow_for
from brands.models import Brand
from campaigns.models import Reach, WechatCampaign
from campaigns.writeback_models import WechatOpenIdAudience, WritebackJob
from crowds.openid import openid_lines
from portal.integrations.linkflow.errors import LinkflowRejected
from portal.integrations.linkflow.messages import event_message

Status = WritebackJob.Status
Source = WritebackJob.Source

EVENT_WECHAT = "jd_wechat_campaign"
EVENT_REACH = "jd_reach"
IDENTITY_TYPE = "wechat.openId"
# The ids of a contact's message in a job: the same on every run (never change this).
ID_NAMESPACE = uuid.UUID("7a4f3c0e-5b1d-4e8a-9c62-1f0d8e3b2a95")
# Refusals of the first contacts with nothing accepted mean the request itself is wrong
# (e.g. B00022 the channel does not exist): the job fails instead of refusing every contact.
REFUSALS_BEFORE_GIVING_UP = 5
LEASE_MARGIN = timedelta(minutes=2)
STALE_AFTER = timedelta(minutes=5)


def _slice_seconds() -> float:
    return float(getattr(settings, "WRITEBACK_SLICE_SECONDS", 60))


def message_ids(job: WritebackJob, open_id: str) -> tuple[str, str]:
    """(message_id, request_id) of `open_id`'s event in `job`."""
    key = f"{job.brand_id}/{job.source_kind}/{job.source_id}/{open_id}"
    return (
        str(uuid.uuid5(ID_NAMESPACE, f"message:{key}")),
        str(uuid.uuid5(ID_NAMESPACE, f"request:{key}")),
    )


def writeback_config_problem(brand: Brand) -> str:
    """Why this brand's outcomes cannot be written to Linkflow, or ""."""
    if not brand.linkflow_connected:
        return _("Linkflow is not connected: add the App Key and App Secret in Settings.")
    if not brand.linkflow_channel_key:
        return _("No Linkflow channel key in Settings: write-back is off.")
    return ""


def no_identities_reason() -> str:
    return _("Skipped: no known identities (JD Cloud does not say which people it reached).")


def _compact(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if v not in (None, "")}


# --- Triggers -----------------------------------------------------------------------------


def _enqueue(job: WritebackJob, *, countdown: float | None = None) -> None:
    from campaigns.writeback_tasks import run_writeback

    kwargs = {"job_id": job.pk, "brand_id": job.brand_id}
    transaction.on_commit(lambda: run_writeback.apply_async(kwargs=kwargs, countdown=countdown))


def writeback_for_reach(*, reach: Reach) -> WritebackJob:
    """A reach reached its final state (accepted or refused by JD): recorded, skipped,
    since JD's crowd packages carry no identity Linkflow knows."""
    now = timezone.now()
    job, _created = WritebackJob.objects.get_or_create(
        brand_id=reach.brand_id,
        source_kind=Source.REACH,
        source_id=reach.pk,
        defaults={
            "status": Status.SKIPPED,
            "reason": no_identities_reason(),
            "event": EVENT_REACH,
            "props": _compact(
                {
                    "reach_type": reach.reach_type,
                    "status": reach.status,
                    "package_id": reach.instance.package_id if reach.instance_id else None,
                    "template_id": reach.template_id,
                    "cost": reach.cost,
                    "jd_code": reach.jd_code,
                }
            ),
            "event_at": reach.sent_at or now,
            "finished_at": now,
        },
    )
    return job


def writeback_for_wechat(*, campaign: WechatCampaign) -> WritebackJob:
    """A WeChat campaign reached a final status: write it back to the contacts of its
    openId package, or record why not. A second call finds the first job."""
    audience = (
        WechatOpenIdAudience.objects.filter(campaign_id=campaign.pk)
        .select_related("package")
        .first()
    )
    package = audience.package if audience else None
    props = _compact(
        {
            "campaign": campaign.name,
            "jd_activity_id": campaign.jd_activity_id,
            "business_id": campaign.business_id,
            "status": campaign.status,
            "status_name": WechatCampaign.Status(campaign.status).name
            if campaign.status is not None
            else None,
            "pre_num": campaign.pre_num,
            "act_num": campaign.act_num,
            "remark": campaign.remark,
            "openid_package": package.pk if package else None,
            "linkflow_group_id": package.group_id if package else None,
        }
    )
    now = timezone.now()
    defaults: dict[str, Any] = {
        "event": EVENT_WECHAT,
        "props": props,
        "event_at": campaign.updated_at or now,
        "package": package,
        "total": package.count if package else 0,
    }
    if package is None:
        defaults.update(status=Status.SKIPPED, reason=no_identities_reason(), finished_at=now)
    elif problem := writeback_config_problem(campaign.brand):
        defaults.update(status=Status.SKIPPED, reason=problem, finished_at=now)
    job, created = WritebackJob.objects.get_or_create(
        brand_id=campaign.brand_id,
        source_kind=Source.WECHAT,
        source_id=campaign.pk,
        defaults=defaults,
    )
    if created and job.status == Status.PENDING:
        _enqueue(job)
    return job


def writeback_can_retry(job: WritebackJob, *, now: datetime | None = None) -> bool:
    """A failed job, one skipped for the brand's settings (fixed since?), or a stalled one.
    A job skipped for want of identities has nothing to retry."""
    now = now or timezone.now()
    if job.package_id is None:
        return False
    if job.status in (Status.FAILED, Status.SKIPPED):
        return True
    return job.status in (Status.PENDING, Status.RUNNING) and _is_stale(job, now)


def _is_stale(job: WritebackJob, now: datetime) -> bool:
    if job.lease_until is not None:
        return job.lease_until < now
    return job.updated_at < now - STALE_AFTER


def writeback_retry(*, job: WritebackJob) -> WritebackJob:
    """Run the job again from where it stopped (nothing already written is sent again)."""
    if not writeback_can_retry(job):
        raise WritebackNotRetryable(job)
    if job.status in (Status.FAILED, Status.SKIPPED):
        WritebackJob.objects.filter(pk=job.pk, status=job.status).update(
            status=Status.PENDING, reason="", finished_at=None, updated_at=timezone.now()
        )
        job.refresh_from_db()
    _enqueue(job)
    return job


class WritebackNotRetryable(Exception):
    def __init__(self, job: WritebackJob) -> None:
        super().__init__(_("This write-back cannot be run again."))
        self.job = job


# --- Running --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOutcome:
    job: WritebackJob
    more: bool  # the slice ended before the file did: the task enqueues the next one


class _Superseded(Exception):
    """The lease was lost: another run has the job."""


def _claim(job: WritebackJob, budget: float) -> str | None:
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        WritebackJob.objects.filter(pk=job.pk, status__in=(Status.PENDING, Status.RUNNING))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            status=Status.RUNNING,
            lease_id=token,
            lease_until=now + timedelta(seconds=budget) + LEASE_MARGIN,
            runs=job.runs + 1,
            updated_at=now,
        )
    )
    return token if claimed else None


def _held(job: WritebackJob, lease: str):
    return WritebackJob.objects.filter(pk=job.pk, status=Status.RUNNING, lease_id=lease)


def writeback_run(*, job_id: int, budget_seconds: float | None = None) -> RunOutcome:
    """One slice of a write-back. Safe to run twice: a run that finds the lease taken or the
    job final does nothing. A Linkflow outage propagates after the progress up to the last
    accepted contact is saved (the task retries); other failures too (the task fails it)."""
    job = WritebackJob.objects.select_related("brand", "package").get(pk=job_id)
    budget = _slice_seconds() if budget_seconds is None else budget_seconds
    if job.is_final:
        return RunOutcome(job, more=False)
    lease = _claim(job, budget)
    if lease is None:
        return RunOutcome(job, more=False)
    try:
        more = _write(job, lease, budget)
    except _Superseded:
        more = False
    finally:
        WritebackJob.objects.filter(pk=job.pk, lease_id=lease).update(lease_id="", lease_until=None)
    job.refresh_from_db()
    return RunOutcome(job, more=more and not job.is_final)


def _finish(job: WritebackJob, lease: str, status: str, reason: str = "", **counts) -> None:
    now = timezone.now()
    if not _held(job, lease).update(
        status=status, reason=reason[:2000], finished_at=now, updated_at=now, **counts
    ):
        raise _Superseded()


def _write(job: WritebackJob, lease: str, budget: float) -> bool:
    brand = job.brand
    if problem := writeback_config_problem(brand):
        _finish(job, lease, Status.SKIPPED, problem)
        return False
    client = linkflow_for(brand)
    deadline = time.monotonic() + budget
    offset, sent, rejected, reason = job.offset, job.sent, job.rejected, job.reason
    for open_id, end in openid_lines(job.package, offset=job.offset):
        message_id, request_id = message_ids(job, open_id)
        try:
            client.messages(
                channel_key=brand.linkflow_channel_key,
                identities=[{"type": IDENTITY_TYPE, "id": open_id}],
                messages=[
                    event_message(
                        job.event,
                        props=job.props,
                        event_date=job.event_at,
                        message_id=message_id,
                    )
                ],
                request_id=request_id,
            )
            sent += 1
        except LinkflowRejected as exc:
            rejected += 1
            reason = _("Linkflow refused some contacts, last: [%(code)s] %(message)s") % {
                "code": exc.code,
                "message": exc.message,
            }
            if sent == 0 and rejected >= REFUSALS_BEFORE_GIVING_UP:
                _finish(job, lease, Status.FAILED, f"[{exc.code}] {exc.message}", rejected=rejected)
                return False
        offset = end
        now = timezone.now()
        if not _held(job, lease).update(
            offset=offset,
            sent=sent,
            rejected=rejected,
            reason=reason[:2000],
            lease_until=now + timedelta(seconds=budget) + LEASE_MARGIN,
            updated_at=now,
        ):
            raise _Superseded()
        if time.monotonic() >= deadline:
            return True
    _finish(job, lease, Status.DONE, reason)
    return False


def writeback_fail(*, job_id: int, reason: str) -> WritebackJob:
    now = timezone.now()
    WritebackJob.objects.filter(pk=job_id).exclude(status__in=WritebackJob.FINAL).update(
        status=Status.FAILED,
        reason=reason[:2000],
        lease_id="",
        lease_until=None,
        finished_at=now,
        updated_at=now,
    )
    return WritebackJob.objects.get(pk=job_id)


def writebacks_stalled(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(job id, brand id) of write-backs nobody is working on (their task was lost).
    Periodic fan-out: unscoped."""
    now = now or timezone.now()
    with scopes_disabled():
        return list(
            WritebackJob.objects.filter(status__in=(Status.PENDING, Status.RUNNING))
            .filter(
                Q(lease_until__lt=now)
                | Q(lease_until__isnull=True, updated_at__lt=now - STALE_AFTER)
            )
            .values_list("pk", "brand_id")[:500]
        )


def writeback_of(source: Reach | WechatCampaign) -> WritebackJob | None:
    """The write-back job of a reach or a WeChat campaign, if it has reached a final state."""
    kind = Source.REACH if isinstance(source, Reach) else Source.WECHAT
    return WritebackJob.objects.filter(
        brand_id=source.brand_id, source_kind=kind, source_id=source.pk
    ).first()
