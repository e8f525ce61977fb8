"""Celery tasks of Linkflow reports: one short poll re-scheduled, never a sleeping loop."""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings
from django.utils.translation import gettext as _

from brands.tenancy import brand_task
from portal.integrations.linkflow.errors import LinkflowTransportError
from reports.cdp import services

_jitter = random.SystemRandom()
# Linkflow unreachable (after the client's own quick retries of the read): the poll is tried
# again this many times, backing off, before the report fails.
TRANSPORT_RETRIES = 3
RETRY_BACKOFF_MAX_SECONDS = 60.0


@shared_task(bind=True, name="reports.cdp.poll_linkflow_report", max_retries=TRANSPORT_RETRIES)
@brand_task
def poll_linkflow_report(self, *, report_pk: int, brand_id: int) -> str:
    """Poll one report; re-schedule while Linkflow computes it. Only the run that booked
    the next poll re-schedules, so duplicate deliveries never multiply the chain."""
    try:
        outcome = services.linkflow_report_poll(report_pk=report_pk)
    except LinkflowTransportError as exc:
        retries = self.request.retries
        if retries < TRANSPORT_RETRIES:
            base = settings.LINKFLOW_REPORT_POLL_SECONDS * 2**retries
            countdown = min(base, RETRY_BACKOFF_MAX_SECONDS) * _jitter.uniform(0.8, 1.2)
            raise self.retry(exc=exc, countdown=countdown) from exc
        reason = _(
            "Linkflow could not be reached after %(attempts)d attempts (%(error)s); "
            "refresh to try again."
        ) % {"attempts": retries + 1, "error": exc}
        return services.linkflow_report_fail(report_pk=report_pk, reason=reason).status
    if outcome.booked_next:
        poll_linkflow_report.apply_async(
            kwargs={"report_pk": report_pk, "brand_id": brand_id},
            countdown=settings.LINKFLOW_REPORT_POLL_SECONDS,
        )
    return outcome.report.status


@shared_task(name="reports.cdp.resume_overdue_report_polls")
def resume_overdue_report_polls() -> int:
    """Periodic: restart report poll chains that were lost (worker killed, message dropped)."""
    due = services.linkflow_reports_due_for_poll()
    for report_pk, brand_id in due:
        poll_linkflow_report.delay(report_pk=report_pk, brand_id=brand_id)
    return len(due)
