"""A worker killed with SIGKILL in the middle of a poll, and a new one started.

Tasks are acknowledged late and handed back when their worker is lost (`portal/celery.py`),
but a worker killed outright hands nothing back: the filesystem broker of `make test`
acknowledges a message when it reads it, and Redis keeps an unacknowledged one until its
visibility timeout (an hour). What resumes the poll is the sweeper beat runs every minute
(`crowds.resume_overdue_polls`); beat is not run here, the test sends the sweeper task to
the new worker itself."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from crowds import services as crowd_services
from crowds.models import CrowdInstance, InstanceStatus
from crowds.tasks import resume_overdue_polls
from portal.models import IntegrationCall
from tests.crowds.sandboxed import PUBLIC_CONDITION
from tests.faults.figures import Ledger, count
from tests.faults.scenario import sandbox_control, wait_for
from tests.faults.workers import Worker, empty_broker, portal_settings, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PART = "worker killed mid-poll"
HOLD_SECONDS = 5  # every status call is held this long: time to kill the worker inside one
KILL_AFTER_SECONDS = 2.5  # after the poll is due
STATUS = "/crowd/instance/status/{package_id}"
POLL = "crowds.poll_instance"


@pytest.fixture
def workers(sandbox_url, settings, openid_root):
    """`workers.start(name)` starts a worker; the sandbox generates packages in 6 s and
    holds every status call for 5 s (timeouts are longer: the call is not abandoned)."""
    portal_settings(settings, sandbox_url=sandbox_url, openid_root=openid_root)
    settings.JDCLOUD_TIMEOUT_SECONDS = 10
    control = sandbox_control(sandbox_url, seed=41)
    control.post("/config", json={"instance_generation_seconds": 6}).raise_for_status()
    empty_broker()
    env = worker_env(sandbox_url=sandbox_url, openid_root=openid_root, JDCLOUD_TIMEOUT_SECONDS="10")
    started: list[Worker] = []

    class Workers:
        def __init__(self):
            self.control = control

        def start(self, name: str) -> Worker:
            worker = Worker(name, env).start()
            started.append(worker)
            return worker

        def hold_status_calls(self) -> None:
            control.post(
                "/faults",
                json={
                    "path": "/crowd/instance/status",
                    "kind": "latency",
                    "latency_ms": HOLD_SECONDS * 1000,
                },
            ).raise_for_status()

        def status_calls_at_jd(self) -> int:
            journal = control.get("/requests").json()["requests"]
            return sum(1 for e in journal if e["path"].startswith("/crowd/instance/status/"))

    yield Workers()
    for worker in started:
        worker.stop()
    control.delete("/faults")
    control.close()


def status_calls_logged() -> int:
    with scopes_disabled():
        return IntegrationCall.objects.filter(endpoint=STATUS).count()


def kill_inside_a_poll(worker: Worker, instance: CrowdInstance) -> None:
    """Kill `worker` while its poll of `instance` waits for JD's answer, and prove it: JD
    answered a status call the portal never recorded."""
    wait_for("the poll taken by the worker", lambda: worker.received(POLL) > 0, 30)
    instance.refresh_from_db()
    due = instance.next_poll_at
    wait_for("the poll due", lambda: timezone.now() > due, 30)
    # A worker starts a due task up to a second or so late (its timer's tick): then it is
    # inside the call, which JD holds for HOLD_SECONDS.
    time.sleep(KILL_AFTER_SECONDS)
    calls_before = status_calls_logged()
    worker.kill()
    time.sleep(HOLD_SECONDS)  # JD finishes the call the killed worker made
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.GENERATING
    assert status_calls_logged() == calls_before  # the portal never heard the answer


def test_a_worker_killed_mid_poll_is_resumed_by_the_sweeper_on_a_new_worker(
    workers, connected_brand
):
    brand = connected_brand()
    with scope(brand=brand):
        crowd = crowd_services.crowd_create(
            brand=brand, name="被杀的轮询", condition=PUBLIC_CONDITION
        )
        first = workers.start("faults-worker-killed")
        workers.hold_status_calls()
        instance = crowd_services.instance_create(crowd=crowd)

        kill_inside_a_poll(first, instance)
        polls_before = instance.poll_count
        at_jd_before = workers.status_calls_at_jd()
        assert at_jd_before == status_calls_logged() + 1  # the killed poll reached JD

        workers.control.delete("/faults").raise_for_status()
        workers.start("faults-worker-restarted")
        time.sleep(2)
        instance.refresh_from_db()
        # Nothing brought the killed poll back by itself.
        assert (instance.poll_count, instance.status) == (polls_before, InstanceStatus.GENERATING)

        resumed = resume_overdue_polls.apply_async().get(timeout=60)

        assert resumed == 1
        done = wait_for(
            "the package generated after the restart",
            lambda: (row := CrowdInstance.objects.get(pk=instance.pk)).is_final and row,
            60,
        )
        assert done.status == InstanceStatus.GENERATED and done.package_size > 0
        assert done.poll_count == polls_before + (workers.status_calls_at_jd() - at_jd_before)
        assert CrowdInstance.objects.count() == 1
        # The chain ended: the sweeper finds nothing, JD is asked nothing more.
        assert resume_overdue_polls.apply_async().get(timeout=60) == 0
        asked = workers.status_calls_at_jd()
        time.sleep(2)
        assert workers.status_calls_at_jd() == asked
    Ledger(PART).done("crowd package polled across a SIGKILL (worker, sweeper)")
    count(PART, workers_killed=1, resumed_by_sweeper=1)


def test_a_poll_whose_worker_keeps_dying_is_given_up_after_the_redelivery_cap(
    workers, connected_brand, settings
):
    settings.CELERY_MAX_REDELIVERIES = 1
    brand = connected_brand()
    with scope(brand=brand):
        crowd = crowd_services.crowd_create(
            brand=brand, name="反复被杀", condition=PUBLIC_CONDITION
        )
        workers.hold_status_calls()
        first = workers.start("faults-worker-dies-1")
        instance = crowd_services.instance_create(crowd=crowd)
        kill_inside_a_poll(first, instance)

        second = workers.start("faults-worker-dies-2")
        assert resume_overdue_polls() == 1  # the one redelivery the cap allows
        kill_inside_a_poll(second, instance)
        count(PART, workers_killed=2)

        # The cap is spent: the sweeper must not send it again, the instance says why.
        assert resume_overdue_polls() == 0
        instance.refresh_from_db()
        assert instance.stuck and instance.error
