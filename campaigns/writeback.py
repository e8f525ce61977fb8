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

Refusals: a contact Linkflow refuses (a B-code) is kept with its code and message
(`WritebackRefusal`) and the job goes on. A retry of the job, even a done one, marks them to
send again: the run, once past the end of the file, sends those contacts (under the same ids:
a refused message was not recorded), forgets the ones now written, and the job's reason
lists the codes of the ones still refused.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_scopes import scopes_disabled

from brands.linkflow import linkflow_for
from brands.models import Brand
from campaigns.models import Reach, WechatCampaign
from campaigns.writeback_models import WechatOpenIdAudience, WritebackJob, WritebackRefusal
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
RESEND_BATCH = 100


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
    """A failed job, one skipped for the brand's settings (fixed since?), a stalled one, or
    a done one with contacts Linkflow refused. A job skipped for want of identities has
    nothing to retry."""
    now = now or timezone.now()
    if job.package_id is None:
        return False
    if job.status in (Status.FAILED, Status.SKIPPED):
        return True
    if job.status == Status.DONE:
        return job.rejected > 0
    return job.status in (Status.PENDING, Status.RUNNING) and _is_stale(job, now)


def _is_stale(job: WritebackJob, now: datetime) -> bool:
    if job.lease_until is not None:
        return job.lease_until < now
    return job.updated_at < now - STALE_AFTER


def writeback_retry(*, job: WritebackJob) -> WritebackJob:
    """Run the job again from where it stopped, then send the contacts Linkflow refused
    again (nothing already written is sent again)."""
    if not writeback_can_retry(job):
        raise WritebackNotRetryable(job)
    with transaction.atomic():
        WritebackRefusal.objects.filter(job_id=job.pk).update(resend=True)
        if job.status in (Status.FAILED, Status.SKIPPED, Status.DONE):
            WritebackJob.objects.filter(pk=job.pk, status=job.status).update(
                status=Status.PENDING, reason="", finished_at=None, updated_at=timezone.now()
            )
        # The user's retry forgives the runs whose worker died (portal/redelivery.py): a
        # stalled job the sweeper has not given up yet is not given up by this retry's run.
        WritebackJob.objects.filter(pk=job.pk).update(run_deliveries=0)
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


def _finish(job: WritebackJob, lease: str, status: str, reason: str = "") -> None:
    now = timezone.now()
    if not _held(job, lease).update(
        status=status, reason=reason[:2000], finished_at=now, updated_at=now
    ):
        raise _Superseded()


def _write(job: WritebackJob, lease: str, budget: float) -> bool:
    """The contacts of the file from `offset`, then the refused ones a retry marked; True
    when the slice ran out of time first."""
    if problem := writeback_config_problem(job.brand):
        _finish(job, lease, Status.SKIPPED, problem)
        return False
    run = _Run(job, lease, budget)
    for open_id, end in openid_lines(job.package, offset=job.offset):
        if run.contact(open_id, offset=end):
            return not run.gave_up
    while batch := list(
        WritebackRefusal.objects.filter(job_id=job.pk, resend=True).order_by("pk")[:RESEND_BATCH]
    ):
        for refusal in batch:
            if run.contact(refusal.open_id, refusal=refusal):
                return not run.gave_up
    _finish(job, lease, Status.DONE, refusals_reason(job))
    return False


class _Run:
    """One slice of a job: sends a contact's event, then saves what came of it with the
    job's progress in one transaction (a run that dies in between sends that one contact
    again, under the same ids)."""

    def __init__(self, job: WritebackJob, lease: str, budget: float) -> None:
        self.job, self.lease, self.budget = job, lease, budget
        self.client = linkflow_for(job.brand)
        self.deadline = time.monotonic() + budget
        self.offset, self.sent, self.rejected = job.offset, job.sent, job.rejected
        self.reason = job.reason
        self.gave_up = False

    def contact(
        self, open_id: str, *, offset: int | None = None, refusal: WritebackRefusal | None = None
    ) -> bool:
        """Write `open_id`'s event: a contact of the file (read up to `offset`) or one refused
        before. True when the slice must stop (its time is up, or the job failed)."""
        refused = self._send(open_id)
        with transaction.atomic():
            if refused is None:
                self.sent += 1
                if refusal is not None:
                    refusal.delete()
                    self.rejected -= 1
            else:
                self._refused(open_id, refused, refusal)
            if offset is not None:
                self.offset = offset
            self._save()
        if refused is not None and self.sent == 0 and self.rejected >= REFUSALS_BEFORE_GIVING_UP:
            _finish(self.job, self.lease, Status.FAILED, f"[{refused.code}] {refused.message}")
            self.gave_up = True
        return self.gave_up or time.monotonic() >= self.deadline

    def _send(self, open_id: str) -> LinkflowRejected | None:
        job = self.job
        message_id, request_id = message_ids(job, open_id)
        try:
            self.client.messages(
                channel_key=job.brand.linkflow_channel_key,
                identities=[{"type": IDENTITY_TYPE, "id": open_id}],
                messages=[
                    event_message(
                        job.event, props=job.props, event_date=job.event_at, message_id=message_id
                    )
                ],
                request_id=request_id,
            )
        except LinkflowRejected as exc:
            return exc
        return None

    def _refused(
        self, open_id: str, exc: LinkflowRejected, refusal: WritebackRefusal | None
    ) -> None:
        fields = {"code": str(exc.code)[:32], "message": str(exc.message)[:500], "resend": False}
        if refusal is not None:
            for name, value in fields.items():
                setattr(refusal, name, value)
            refusal.save(update_fields=[*fields, "updated_at"])
        else:
            _row, created = WritebackRefusal.objects.update_or_create(
                job=self.job, open_id=open_id, defaults={"brand_id": self.job.brand_id, **fields}
            )
            if created:
                self.rejected += 1
        self.reason = _("Linkflow refused some contacts, last: [%(code)s] %(message)s") % {
            "code": exc.code,
            "message": exc.message,
        }

    def _save(self) -> None:
        now = timezone.now()
        if not _held(self.job, self.lease).update(
            offset=self.offset,
            sent=self.sent,
            rejected=self.rejected,
            reason=self.reason[:2000],
            lease_until=now + timedelta(seconds=self.budget) + LEASE_MARGIN,
            updated_at=now,
        ):
            raise _Superseded()


class RefusalCode(TypedDict):
    code: str
    message: str
    count: int


def writeback_refusal_codes(*, job_ids: Iterable[int]) -> dict[int, list[RefusalCode]]:
    """The Linkflow codes of the contacts still refused, per job (most frequent first):
    what the pages and the API show of the refusals (one query for a page of jobs)."""
    codes: dict[int, list[RefusalCode]] = {}
    rows = (
        WritebackRefusal.objects.filter(job_id__in=list(job_ids))
        .values("job_id", "code")
        .annotate(count=Count("pk"), message=Max("message"))
        .order_by("job_id", "-count", "code")
    )
    for row in rows:
        codes.setdefault(row["job_id"], []).append(
            RefusalCode(code=row["code"], message=row["message"], count=row["count"])
        )
    return codes


def refusals_reason(job: WritebackJob) -> str:
    """What is still refused, for the reason of a job that ended: "" when nothing is."""
    codes = writeback_refusal_codes(job_ids=[job.pk]).get(job.pk, [])
    refused = sum(c["count"] for c in codes)
    if not refused:
        return ""
    listed = "; ".join(f"[{c['code']}] {c['message']} ×{c['count']}" for c in codes)
    return ngettext(
        "Linkflow refused %(count)d contact: %(codes)s",
        "Linkflow refused %(count)d contacts: %(codes)s",
        refused,
    ) % {"count": refused, "codes": listed}


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
