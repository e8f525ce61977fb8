"""Celery tasks of Linkflow reports: one short poll re-scheduled, never a sleeping loop."""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings
from django.utils.translation import gettext as _

from brands.tenancy import brand_task
from portal import redelivery
from portal.integrations.linkflow.errors import LinkflowTransportError
from reports.cdp import services
from reports.cdp.models import LinkflowReport

_jitter = random.SystemRandom()
# Linkflow unreachable (after the client's own quick retries of the read): the poll is tried
# again this many times, backing off, before the report fails.
TRANSPORT_RETRIES = 3
RETRY_BACKOFF_MAX_SECONDS = 60.0
# The report's count of polls whose worker died (portal/redelivery.py).
DELIVERIES = "poll_deliveries"


@shared_task(bind=True, name="reports.cdp.poll_linkflow_report", max_retries=TRANSPORT_RETRIES)
@brand_task
def poll_linkflow_report(self, *, report_pk: int, brand_id: int) -> str:
    """Poll one report; re-schedule while Linkflow computes it. Only the run that booked
    the next poll re-schedules, so duplicate deliveries never multiply the chain. A report
    whose polls keep killing their worker fails rather than run again."""
    delivery = LinkflowReport.objects.filter(pk=report_pk)
    if times := redelivery.spent_counts(delivery, field=DELIVERIES).get(report_pk):
        return _give_up_dying_poll(report_pk, times).status
    try:
        with redelivery.counted_delivery(delivery, field=DELIVERIES):
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


def _give_up_dying_poll(report_pk: int, times: int) -> LinkflowReport:
    """Fail the report with the reason; its count starts afresh for the user's refresh."""
    reason = _(
        "The poll of this report was cut off %(times)d times in a row before it finished "
        "(its worker stopped), so the portal stopped asking Linkflow; refresh to try again."
    ) % {"times": times}
    report = services.linkflow_report_fail(report_pk=report_pk, reason=reason)
    redelivery.delivery_finished(LinkflowReport.objects.filter(pk=report_pk), field=DELIVERIES)
    return report


@shared_task(name="reports.cdp.resume_overdue_report_polls")
def resume_overdue_report_polls() -> int:
    """Periodic: restart report poll chains that were lost (worker killed, message dropped);
    those whose worker died every time, more often than CELERY_MAX_REDELIVERIES, fail with
    the reason instead. Returns how many were sent again."""
    return redelivery.resend_or_give_up(
        LinkflowReport,
        services.linkflow_reports_due_for_poll(),
        field=DELIVERIES,
        give_up=_give_up_dying_poll,
        resend=lambda pk, brand_id: poll_linkflow_report.delay(report_pk=pk, brand_id=brand_id),
    )
