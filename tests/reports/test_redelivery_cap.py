"""A Linkflow report poll whose worker keeps dying fails after CELERY_MAX_REDELIVERIES, with
the reason, and a refresh starts it afresh.

A delivery "dies" here by raising a BaseException from inside Linkflow's answer (respx):
nothing in the portal runs after it, as nothing runs after a SIGKILL."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import respx
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from portal.integrations.linkflow.auth import tokens
from reports.cdp import services, tasks
from reports.cdp.models import LinkflowReport, LinkflowReportStatus

pytestmark = pytest.mark.django_db

BASE = "https://linkflow.respx.test"
REPORT_ID = 4242
COMPUTING = {"status": 0, "reportName": "反复被杀"}
READY = {"status": 1, "reportName": "反复被杀", "chartType": "TABLE", "result": []}


class WorkerKilled(BaseException):
    """Nothing in the portal catches it, as nothing runs after a SIGKILL."""


@pytest.fixture
def linkflow(settings):
    settings.LINKFLOW_API_BASE_URL = BASE
    settings.LINKFLOW_REPORT_POLL_SECONDS = 0
    tokens._tokens.clear()
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/token").mock(
            return_value=httpx.Response(
                200, json={"token": "tok-1", "expiration": "2099-01-01 00:00:00"}
            )
        )
        yield router
    tokens._tokens.clear()


@pytest.fixture
def sent(monkeypatch):
    """Polls sent to the broker, recorded instead."""
    messages = []
    poll = tasks.poll_linkflow_report
    monkeypatch.setattr(poll, "delay", lambda **kwargs: messages.append(kwargs))
    monkeypatch.setattr(poll, "apply_async", lambda kwargs=None, **_: messages.append(kwargs))
    return messages


@pytest.fixture
def report(brand, linkflow, sent, django_capture_on_commit_callbacks) -> LinkflowReport:
    brand.linkflow_app_key = "respx-key"
    brand.linkflow_app_secret = "respx-secret"
    brand.save()
    with scope(brand=brand), django_capture_on_commit_callbacks(execute=True):
        return services.linkflow_report_open(brand=brand, report_id=REPORT_ID)


def answers(linkflow, *answers):
    def answer(request):
        reply = next(replies)
        if isinstance(reply, BaseException):
            raise reply
        return httpx.Response(200, json=reply)

    replies = iter(answers)
    return linkflow.get(f"/open/report/{REPORT_ID}").mock(side_effect=answer)


def deliver(report: LinkflowReport) -> str:
    return tasks.poll_linkflow_report(report_pk=report.pk, brand_id=report.brand_id)


def die_inside_the_poll(report: LinkflowReport) -> None:
    with pytest.raises(WorkerKilled):
        deliver(report)


def fresh(report: LinkflowReport) -> LinkflowReport:
    with scopes_disabled():
        return LinkflowReport.objects.get(pk=report.pk)


def overdue(report: LinkflowReport) -> None:
    with scopes_disabled():
        LinkflowReport.objects.filter(pk=report.pk).update(
            next_poll_at=timezone.now() - timedelta(seconds=services.POLL_OVERDUE_SECONDS + 5)
        )


def test_a_poll_that_died_stays_counted_and_one_that_finishes_clears_the_count(report, linkflow):
    answers(linkflow, WorkerKilled(), COMPUTING)

    die_inside_the_poll(report)
    assert (fresh(report).poll_deliveries, fresh(report).poll_count) == (1, 0)

    assert deliver(report) == LinkflowReportStatus.COMPUTING
    assert (fresh(report).poll_deliveries, fresh(report).poll_count) == (0, 1)


def test_the_sweeper_resends_a_dying_poll_up_to_the_cap_then_fails_it_saying_why(
    report, linkflow, sent, settings
):
    settings.CELERY_MAX_REDELIVERIES = 1
    answers(linkflow, WorkerKilled(), WorkerKilled())
    die_inside_the_poll(report)
    overdue(report)
    assert tasks.resume_overdue_report_polls() == 1  # the one redelivery allowed
    die_inside_the_poll(report)
    overdue(report)
    before = len(sent)

    assert tasks.resume_overdue_report_polls() == 0

    row = fresh(report)
    assert len(sent) == before
    assert row.status == LinkflowReportStatus.FAILED and "2" in row.error
    assert row.next_poll_at is None and row.poll_deliveries == 0


def test_a_delivery_handed_back_after_the_cap_fails_without_asking_linkflow(
    report, linkflow, settings
):
    settings.CELERY_MAX_REDELIVERIES = 0
    answers(linkflow, WorkerKilled())  # a second call would find no answer left
    die_inside_the_poll(report)

    assert deliver(report) == LinkflowReportStatus.FAILED

    assert fresh(report).error


def test_a_refresh_after_the_cap_polls_afresh(
    report, linkflow, sent, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_MAX_REDELIVERIES = 0
    answers(linkflow, WorkerKilled(), READY)
    die_inside_the_poll(report)
    overdue(report)
    assert tasks.resume_overdue_report_polls() == 0
    assert fresh(report).status == LinkflowReportStatus.FAILED

    with scope(brand=report.brand), django_capture_on_commit_callbacks(execute=True):
        again = services.linkflow_report_open(brand=report.brand, report_id=REPORT_ID, refresh=True)

    assert again.status == LinkflowReportStatus.PENDING and again.error == ""
    assert deliver(again) == LinkflowReportStatus.READY
