"""Celery tasks of the Linkflow write-back: a job runs in slices, retried with backoff while
Linkflow is unreachable; a sweeper resumes jobs whose task was lost."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.utils.translation import gettext as _

from brands.linkflow import LinkflowNotConnected
from brands.tenancy import brand_task
from campaigns import writeback
from campaigns.writeback_models import WritebackJob
from portal import redelivery
from portal.integrations.linkflow.errors import LinkflowError, LinkflowTransportError

logger = logging.getLogger(__name__)
_jitter = random.SystemRandom()

TRANSPORT_RETRIES = 6
RETRY_BACKOFF_INITIAL_SECONDS = 5.0
RETRY_BACKOFF_MAX_SECONDS = 120.0
# The job's count of runs whose worker died (portal/redelivery.py).
DELIVERIES = "run_deliveries"


def retry_countdown(retries: int) -> float:
    base = RETRY_BACKOFF_INITIAL_SECONDS * 2**retries
    return min(base, RETRY_BACKOFF_MAX_SECONDS) * _jitter.uniform(0.8, 1.2)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, LinkflowError) and getattr(exc, "code", ""):
        return f"[{exc.code}] {getattr(exc, 'message', '') or exc}"
    return str(exc) or type(exc).__name__


@shared_task(bind=True, name="campaigns.run_writeback", max_retries=TRANSPORT_RETRIES)
@brand_task
def run_writeback(self, *, job_id: int, brand_id: int) -> str:
    """One slice of a write-back; enqueues the next while contacts remain. An outage is
    retried with backoff and jitter (resuming after the last contact recorded); anything
    else fails the job with its reason (it can be run again from where it stopped); so does
    a run that keeps killing its worker, rather than run again."""
    delivery = WritebackJob.objects.filter(pk=job_id)
    if times := redelivery.spent_counts(delivery, field=DELIVERIES).get(job_id):
        return _give_up_dying_run(job_id, times).status
    try:
        with redelivery.counted_delivery(delivery, field=DELIVERIES):
            outcome = writeback.writeback_run(job_id=job_id)
    except LinkflowTransportError as exc:
        retries = self.request.retries
        if retries < TRANSPORT_RETRIES:
            raise self.retry(exc=exc, countdown=retry_countdown(retries)) from exc
        reason = _("Linkflow could not be reached after %(attempts)d attempts: %(error)s") % {
            "attempts": retries + 1,
            "error": exc,
        }
        return writeback.writeback_fail(job_id=job_id, reason=reason).status
    except (LinkflowError, LinkflowNotConnected) as exc:
        return writeback.writeback_fail(job_id=job_id, reason=_reason(exc)).status
    except Exception as exc:
        logger.exception("write-back %s failed", job_id)
        return writeback.writeback_fail(job_id=job_id, reason=_reason(exc)).status
    if outcome.more:
        run_writeback.delay(job_id=job_id, brand_id=brand_id)
    return outcome.job.status


def _give_up_dying_run(job_id: int, times: int) -> WritebackJob:
    """Fail the job with the reason; its count starts afresh for the user's retry."""
    reason = _(
        "A run of this write-back was cut off %(times)d times in a row before it finished "
        "(its worker stopped), so the write-back was stopped; run it again to retry."
    ) % {"times": times}
    job = writeback.writeback_fail(job_id=job_id, reason=reason)
    redelivery.delivery_finished(WritebackJob.objects.filter(pk=job_id), field=DELIVERIES)
    return job


@shared_task(name="campaigns.resume_stalled_writebacks")
def resume_stalled_writebacks() -> int:
    """Periodic: resume write-backs whose task was lost (worker killed, message dropped);
    those whose worker died every time, more often than CELERY_MAX_REDELIVERIES, fail with
    the reason instead. Returns how many were sent again."""
    return redelivery.resend_or_give_up(
        WritebackJob,
        writeback.writebacks_stalled(),
        field=DELIVERIES,
        give_up=_give_up_dying_run,
        resend=lambda pk, brand_id: run_writeback.delay(job_id=pk, brand_id=brand_id),
    )
