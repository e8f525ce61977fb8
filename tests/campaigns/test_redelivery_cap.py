"""A Linkflow write-back whose worker keeps dying is given up after CELERY_MAX_REDELIVERIES,
visibly, and the user's retry starts afresh.

A run "dies" here by raising a BaseException from inside Linkflow's answer to a contact's
message (what a SIGKILL looks like to the job: the event was sent, nothing after it ran).
The real thing, with worker processes killed mid-call, is tests/faults/test_worker_killed.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope

from brands.linkflow import linkflow_for
from campaigns import writeback, writeback_tasks
from campaigns.writeback_models import WritebackJob
from crowds import openid
from portal.integrations.linkflow.client import LinkflowClient
from tests.conftest import SANDBOX_LINKFLOW_KEY, SANDBOX_LINKFLOW_SECRET
from tests.crowds.sandboxed import SANDBOX_MASTER_ID

pytestmark = pytest.mark.django_db

Status = WritebackJob.Status


class WorkerKilled(BaseException):
    """Nothing in the portal catches it, as nothing runs after a SIGKILL."""


@pytest.fixture
def pending(make_brand, control, settings, tmp_path):
    """A write-back of the sandbox's 120-member group's openIds, its first run not started."""
    settings.OPENID_PACKAGE_ROOT = tmp_path / "openid"
    control.delete("/linkflow/messages")
    brand = make_brand(
        master_id=SANDBOX_MASTER_ID,
        name="测试品牌商",
        linkflow_app_key=SANDBOX_LINKFLOW_KEY,
        linkflow_app_secret=SANDBOX_LINKFLOW_SECRET,
        linkflow_channel_key="udc_portal",
        wechat_app_id="wx5a39a02868a39999",
    )
    with scope(brand=brand):
        groups = linkflow_for(brand).groups(name="618潜在客户")
        (group,) = [g for g in groups if g["name"] == "618潜在客户"]
        package = openid.openid_package_create(brand=brand, group_id=group["id"])
        package = openid.openid_package_build(package_id=package.pk, budget_seconds=600).package
        assert package.is_ready
        yield WritebackJob.objects.create(
            brand=brand,
            source_kind=WritebackJob.Source.WECHAT,
            source_id=1,
            event=writeback.EVENT_WECHAT,
            event_at=timezone.now(),
            package=package,
            total=package.count,
        )


@pytest.fixture
def runs_sent(monkeypatch):
    """The runs the sweeper or a finished slice sends (kwargs), instead of the broker."""
    messages = []
    run = writeback_tasks.run_writeback
    monkeypatch.setattr(run, "delay", lambda **kwargs: messages.append(kwargs))
    return messages


def messages_written(control) -> list[dict]:
    found = control.get(
        "/linkflow/messages", params={"app_key": SANDBOX_LINKFLOW_KEY, "domain": "event"}
    )
    found.raise_for_status()
    return found.json()["messages"]


def die_inside_a_run(job: WritebackJob, monkeypatch) -> None:
    """One delivery of the job, killed once Linkflow has accepted its next contact."""
    real = LinkflowClient.messages

    def answered_then_killed(self, **kwargs):
        real(self, **kwargs)
        raise WorkerKilled()

    with monkeypatch.context() as patched:
        patched.setattr(LinkflowClient, "messages", answered_then_killed)
        with pytest.raises(WorkerKilled):
            writeback_tasks.run_writeback(job_id=job.pk, brand_id=job.brand_id)


def stalled_resumed() -> int:
    """The sweeper, once the dead run's lease is long gone."""
    later = timezone.now() + writeback.STALE_AFTER + timedelta(minutes=5)
    with time_machine.travel(later):
        return writeback_tasks.resume_stalled_writebacks()


def test_a_run_that_died_stays_counted_and_one_that_finishes_clears_the_count(
    pending, control, monkeypatch
):
    die_inside_a_run(pending, monkeypatch)
    pending.refresh_from_db()
    assert (pending.run_deliveries, pending.status, pending.sent) == (1, Status.RUNNING, 0)

    status = writeback_tasks.run_writeback(job_id=pending.pk, brand_id=pending.brand_id)

    pending.refresh_from_db()
    assert status == Status.DONE == pending.status
    assert (pending.run_deliveries, pending.sent) == (0, pending.total)


def test_the_sweeper_resends_a_dying_run_up_to_the_cap_then_fails_it_saying_why(
    pending, control, monkeypatch, runs_sent, settings
):
    settings.CELERY_MAX_REDELIVERIES = 2
    for _redelivery in range(2):
        die_inside_a_run(pending, monkeypatch)
        assert stalled_resumed() == 1
    die_inside_a_run(pending, monkeypatch)  # the first delivery and two more died

    assert stalled_resumed() == 0

    pending.refresh_from_db()
    assert runs_sent == [{"job_id": pending.pk, "brand_id": pending.brand_id}] * 2
    assert pending.status == Status.FAILED and "3" in pending.reason
    assert pending.finished_at and not pending.lease_id
    assert pending.run_deliveries == 0  # the user's retry starts afresh
    assert stalled_resumed() == 0  # stays given up
    assert len(messages_written(control)) == 3  # the first contact, each time under its ids


def test_a_retry_of_a_job_given_up_runs_it_to_the_end(
    pending, control, monkeypatch, runs_sent, settings
):
    settings.CELERY_MAX_REDELIVERIES = 1
    die_inside_a_run(pending, monkeypatch)
    assert stalled_resumed() == 1
    die_inside_a_run(pending, monkeypatch)
    assert stalled_resumed() == 0
    pending.refresh_from_db()
    assert writeback.writeback_can_retry(pending)

    retried = writeback.writeback_retry(job=pending)
    status = writeback_tasks.run_writeback(job_id=pending.pk, brand_id=pending.brand_id)

    retried.refresh_from_db()
    written = messages_written(control)
    assert status == Status.DONE == retried.status and retried.reason == ""
    assert (retried.sent, retried.run_deliveries) == (retried.total, 0)
    assert len(written) == retried.total + 2  # the contact in flight thrice, under its ids
    assert sum(m["duplicate"] for m in written) == 2


def test_a_run_handed_back_after_the_cap_fails_without_asking_linkflow(
    pending, control, monkeypatch, settings
):
    """Celery itself hands back the message of a worker lost mid-task
    (`task_reject_on_worker_lost`): without the sweeper, the count stops that loop too."""
    settings.CELERY_MAX_REDELIVERIES = 0
    die_inside_a_run(pending, monkeypatch)
    asked = len(messages_written(control))

    status = writeback_tasks.run_writeback(job_id=pending.pk, brand_id=pending.brand_id)

    pending.refresh_from_db()
    assert status == Status.FAILED == pending.status and "1" in pending.reason
    assert len(messages_written(control)) == asked == 1


def test_a_retry_before_the_sweeper_gives_up_forgives_the_deaths(
    pending, control, monkeypatch, settings
):
    settings.CELERY_MAX_REDELIVERIES = 0
    die_inside_a_run(pending, monkeypatch)
    later = timezone.now() + writeback.STALE_AFTER + timedelta(minutes=5)
    with time_machine.travel(later):
        pending.refresh_from_db()
        assert writeback.writeback_can_retry(pending)  # stalled, not yet given up
        retried = writeback.writeback_retry(job=pending)

    assert retried.run_deliveries == 0
    status = writeback_tasks.run_writeback(job_id=pending.pk, brand_id=pending.brand_id)
    assert status == Status.DONE


def test_the_cap_counts_deaths_in_a_row_not_over_the_life_of_the_job(
    pending, control, monkeypatch, runs_sent, settings
):
    settings.CELERY_MAX_REDELIVERIES = 1
    settings.WRITEBACK_SLICE_SECONDS = 0  # a run that finishes writes one contact
    for _ in range(3):
        die_inside_a_run(pending, monkeypatch)
        assert stalled_resumed() == 1
        writeback_tasks.run_writeback(job_id=pending.pk, brand_id=pending.brand_id)

    pending.refresh_from_db()
    assert pending.status == Status.RUNNING and pending.run_deliveries == 0
    assert pending.sent == 3  # each death's contact, sent again by the run that finished
    assert len(messages_written(control)) == 6
