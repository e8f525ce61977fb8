"""Linkflow reports and dashboards of a brand (PRODUCT.md §4, spec 报表).

A report is opened by keeping a local snapshot row first, then polling Linkflow from a
Celery task: "报表计算可能会转异步进行, 这个时候返回的status为0, 可以轮询调用该接口直到status
返回1为止". Each poll is one short task that books the next one with a guarded update, so
a duplicate delivery or a second chain never doubles the polling, and a lost chain is
restarted by the periodic sweeper. Dashboards are read live and remembered for the index.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from brands.linkflow import LinkflowNotConnected, linkflow_for
from brands.models import Brand
from portal.integrations.linkflow.errors import (
    LinkflowError,
    LinkflowRejected,
    LinkflowTransportError,
    LinkflowUnexpectedResponse,
)
from reports.cdp.charts import chart_type_of
from reports.cdp.models import LinkflowDashboard, LinkflowReport, LinkflowReportStatus

logger = logging.getLogger(__name__)

# Linkflow ids are Java Longs.
MAX_LINKFLOW_ID = 2**63 - 1
# A poll this late was lost with its worker or message: the sweeper starts it again.
POLL_OVERDUE_SECONDS = 60
ERROR_MAX = 1000


@dataclass(frozen=True)
class PollOutcome:
    report: LinkflowReport
    # This run booked the next poll: only then does the task re-schedule itself.
    booked_next: bool = False


def describe(exc: Exception) -> str:
    """A Linkflow failure as the user reads it: `B00012: message`, or the reason."""
    if isinstance(exc, LinkflowRejected):
        return f"{exc.code}: {exc.message}" if exc.code else exc.message
    return str(exc)


# --- Reports -------------------------------------------------------------------------------


def linkflow_report_open(*, brand: Brand, report_id: int, refresh: bool = False) -> LinkflowReport:
    """The brand's snapshot of a Linkflow report, created and fetched when there is none.

    `refresh` fetches a finished (ready or failed) report again, keeping its current body
    until the new one arrives; a report already being fetched is left to that poll, and
    one whose poll chain was lost is started again. Raises `LinkflowNotConnected`."""
    if not brand.linkflow_connected:
        raise LinkflowNotConnected()
    now = timezone.now()
    report, created = LinkflowReport.objects.get_or_create(
        brand=brand,
        report_id=report_id,
        defaults={
            "status": LinkflowReportStatus.PENDING,
            "requested_at": now,
            "next_poll_at": now,
        },
    )
    if created:
        _start_polling(report)
        return report
    if report.in_flight:
        lost = report.next_poll_at is None or report.next_poll_at < now - timedelta(
            seconds=POLL_OVERDUE_SECONDS
        )
        if lost and _restart(report, now=now, expect_status=report.status):
            _start_polling(report)
    elif refresh and _restart(report, now=now, expect_status=report.status):
        _start_polling(report)
    report.refresh_from_db()
    return report


def _restart(report: LinkflowReport, *, now: datetime, expect_status: str) -> bool:
    """Mark the report requested again; of two concurrent refreshes only one wins."""
    started = LinkflowReport.objects.filter(
        pk=report.pk, status=expect_status, poll_count=report.poll_count
    ).update(
        status=LinkflowReportStatus.PENDING,
        requested_at=now,
        next_poll_at=now,
        poll_count=0,
        error="",
        updated_at=now,
    )
    return bool(started)


def _start_polling(report: LinkflowReport) -> None:
    from reports.cdp.tasks import poll_linkflow_report

    kwargs = {"report_pk": report.pk, "brand_id": report.brand_id}
    transaction.on_commit(lambda: poll_linkflow_report.delay(**kwargs))


def linkflow_report_poll(*, report_pk: int, now: datetime | None = None) -> PollOutcome:
    """One `GET /open/report/{reportId}`, safe to run twice.

    Runs only for a report being fetched whose poll is due (a duplicate arriving early does
    nothing). Status 0 books the next poll, status 1 stores the body; both with a guarded
    update (`poll_count` as version), so of two concurrent polls only one books. After
    LINKFLOW_REPORT_POLL_GIVE_UP_SECONDS of status 0 the report is failed with the reason.
    A refusal (B-code) or an unexpected answer fails it at once; a transport error is
    noted on the row and raised for the task to retry."""
    report = LinkflowReport.objects.select_related("brand").get(pk=report_pk)
    now = now or timezone.now()
    if not report.in_flight or report.next_poll_at is None:
        return PollOutcome(report)
    if report.next_poll_at > now + timedelta(seconds=1):
        return PollOutcome(report)  # another poll chain owns this report
    waited = (now - (report.requested_at or now)).total_seconds()
    if waited > settings.LINKFLOW_REPORT_POLL_GIVE_UP_SECONDS:
        reason = _(
            "Linkflow was still computing the report after %(seconds)d seconds; "
            "refresh to ask again."
        ) % {"seconds": settings.LINKFLOW_REPORT_POLL_GIVE_UP_SECONDS}
        return PollOutcome(_fail(report, reason, now=now))
    try:
        answer = linkflow_for(report.brand).report(report_id=report.report_id)
        status = _report_status(answer)
    except LinkflowTransportError as exc:
        LinkflowReport.objects.filter(pk=report.pk, status__in=LinkflowReport.IN_FLIGHT).update(
            error=_("Linkflow cannot be reached (%(error)s); trying again.")
            % {"error": describe(exc)},
            updated_at=now,
        )
        raise
    except LinkflowNotConnected as exc:
        return PollOutcome(_fail(report, str(exc), now=now))
    except LinkflowError as exc:
        logger.info("Linkflow report %s of brand %s: %s", report.report_id, report.brand_id, exc)
        return PollOutcome(_fail(report, describe(exc), now=now))
    changes: dict[str, Any] = {
        "poll_count": report.poll_count + 1,
        "name": str(answer.get("reportName") or report.name)[:200],
        "error": "",
        "updated_at": now,
    }
    if status == 1:
        changes.update(
            status=LinkflowReportStatus.READY,
            body=answer,
            chart_type=chart_type_of(answer)[:32],
            ready_at=now,
            next_poll_at=None,
        )
    else:
        changes.update(
            status=LinkflowReportStatus.COMPUTING,
            next_poll_at=now + timedelta(seconds=settings.LINKFLOW_REPORT_POLL_SECONDS),
        )
    booked = LinkflowReport.objects.filter(
        pk=report.pk, poll_count=report.poll_count, status__in=LinkflowReport.IN_FLIGHT
    ).update(**changes)
    report.refresh_from_db()
    return PollOutcome(report, booked_next=bool(booked) and status == 0)


def _report_status(answer: Any) -> int:
    """Spec 获取报表结果: `status` 0 (computing) or 1 (ready, with `result`)."""
    status = answer.get("status") if isinstance(answer, dict) else None
    if str(status) not in ("0", "1"):
        raise LinkflowUnexpectedResponse(
            _("Linkflow answered without a report status (0 or 1)."),
            endpoint="/open/report/{reportId}",
        )
    if str(status) == "1" and not isinstance(answer.get("result"), list):
        raise LinkflowUnexpectedResponse(
            _("Linkflow said the report is ready but sent no result."),
            endpoint="/open/report/{reportId}",
        )
    return int(status)


def linkflow_report_fail(
    *, report_pk: int, reason: str, now: datetime | None = None
) -> LinkflowReport:
    """Fail a report still being fetched (the task ran out of retries); retryable by a
    refresh from the page or the API."""
    report = LinkflowReport.objects.get(pk=report_pk)
    return _fail(report, reason, now=now or timezone.now())


def _fail(report: LinkflowReport, reason: str, *, now: datetime) -> LinkflowReport:
    LinkflowReport.objects.filter(pk=report.pk, status__in=LinkflowReport.IN_FLIGHT).update(
        status=LinkflowReportStatus.FAILED,
        error=reason[:ERROR_MAX],
        next_poll_at=None,
        updated_at=now,
    )
    report.refresh_from_db()
    return report


def linkflow_reports_due_for_poll(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(report pk, brand id) of reports being fetched whose poll is overdue: their chain was
    lost (a worker died, a message expired). Periodic fan-out: unscoped."""
    overdue = (now or timezone.now()) - timedelta(seconds=POLL_OVERDUE_SECONDS)
    with scopes_disabled():
        return list(
            LinkflowReport.objects.filter(
                status__in=LinkflowReport.IN_FLIGHT, next_poll_at__lt=overdue
            ).values_list("pk", "brand_id")[:500]
        )


# --- Dashboards ----------------------------------------------------------------------------


def linkflow_dashboard_open(*, brand: Brand, dashboard_id: int) -> LinkflowDashboard:
    """`GET /open/dashboard/{dashboardId}/summary`, live; remembered for the index page
    (Linkflow has no endpoint that lists dashboards). Raises `LinkflowNotConnected` and the
    client's `LinkflowError`s."""
    answer = linkflow_for(brand).dashboard(dashboard_id=dashboard_id)
    if not isinstance(answer, dict) or not isinstance(answer.get("reports"), list):
        raise LinkflowUnexpectedResponse(
            _("Linkflow answered without the dashboard's reports."),
            endpoint="/open/dashboard/{dashboardId}/summary",
        )
    reports = [
        {"id": int(r["id"]), "reportName": str(r.get("reportName") or "")}
        for r in answer["reports"]
        if isinstance(r, dict) and str(r.get("id", "")).isdigit()
    ]
    dashboard, _created = LinkflowDashboard.objects.update_or_create(
        brand=brand,
        dashboard_id=dashboard_id,
        defaults={
            "name": str(answer.get("kanBanName") or "")[:200],
            "reports": reports,
            "opened_at": timezone.now(),
        },
    )
    return dashboard
