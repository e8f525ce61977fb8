"""Two pollers of one instance never double-apply.

Two workers can hold a poll of the same instance at once: a message redelivered after its
worker was lost, the beat sweeper restarting a chain that was only late, a "re-poll" click
racing the chain. Each round below starts two real pollers (threads, each with its own
database connection) at the same instant on a due instance, against the sandbox over
HTTP, with the status call slowed down so that both are inside it together if both get
that far. Per due time the answer is applied once and one follow-up poll is scheduled,
counted in the real broker (the filesystem transport under `make test`, Redis under
`make verify`); on PostgreSQL, where the poller holds a lock on the instance, JD Cloud
is asked once. SQLite has no such lock (only its single writer): there JD may be asked
by both pollers, and the guarded booking is what keeps the answer applied once.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled

from crowds import services
from crowds.models import CrowdInstance, InstanceStatus
from crowds.tasks import poll_instance
from portal.celery import app as celery_app
from portal.models import IntegrationCall
from tests.crowds.sandboxed import PUBLIC_CONDITION

pytestmark = pytest.mark.django_db(transaction=True)

STATUS_LATENCY_MS = 600


def assert_asked(calls: int, pollers: int = 2) -> None:
    """JD Cloud's status calls of one due time: one where the database has locks."""
    if connection.vendor == "postgresql":
        assert calls == 1
    else:
        assert 1 <= calls <= pollers


def queued_polls(instance_id: int) -> list[dict]:
    """Take every message waiting in the task queue; the polls of `instance_id` among them
    (their kwargs and eta). Other messages are leftovers of earlier tests: dropped."""
    polls = []
    with celery_app.connection_for_read() as conn:
        channel = conn.default_channel
        queue = celery_app.conf.task_default_queue
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            if message.headers.get("task") != poll_instance.name:
                continue
            _args, kwargs, _embed = message.decode()
            if kwargs.get("instance_id") == instance_id:
                polls.append({**kwargs, "eta": message.headers.get("eta")})
    return polls


def status_calls(control, package_id: str) -> int:
    path = f"/crowd/instance/status/{package_id}"
    return len(control.get("/requests", params={"path": path}).json()["requests"])


def race(instance: CrowdInstance, pollers: int = 2) -> None:
    """Run `pollers` deliveries of the poll task at the same instant, as workers would."""
    start = threading.Barrier(pollers)
    errors: list[BaseException] = []

    def deliver():
        try:
            start.wait(timeout=10)
            poll_instance(instance_id=instance.pk, brand_id=instance.brand_id)
        except BaseException as exc:  # reported in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(pollers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a poller hung"
    assert not errors, errors


def make_due(instance: CrowdInstance) -> None:
    CrowdInstance.objects.filter(pk=instance.pk).update(next_poll_at=timezone.now())


@pytest.fixture
def generating(jd_brand, control):
    """A generating instance at the sandbox, its first poll due, the queue empty, and every
    status call slowed down."""
    crowd = services.crowd_create(brand=jd_brand, name="并发", condition=PUBLIC_CONDITION)
    instance = services.instance_create(crowd=crowd)
    assert instance.status == InstanceStatus.GENERATING and instance.package_id
    queued_polls(instance.pk)  # the first poll, sent on commit: these tests deliver it
    control.post(
        "/faults",
        json={
            "path": "/crowd/instance/status",
            "kind": "latency",
            "latency_ms": STATUS_LATENCY_MS,
        },
    ).raise_for_status()
    return instance


def test_two_pollers_of_a_generating_instance_book_one_follow_up_and_ask_once(generating, control):
    instance = generating

    for due_time in (1, 2):
        asked = status_calls(control, instance.package_id)
        make_due(instance)
        race(instance)

        instance.refresh_from_db()
        assert_asked(status_calls(control, instance.package_id) - asked)
        assert instance.poll_count == due_time
        assert instance.status == InstanceStatus.GENERATING
        assert instance.next_poll_at > timezone.now()
        follow_ups = queued_polls(instance.pk)
        assert len(follow_ups) == 1, follow_ups
        assert follow_ups[0]["brand_id"] == instance.brand_id


def test_two_pollers_of_a_finished_instance_apply_the_result_once(generating, control):
    instance = generating
    control.post("/clock/advance", json={"seconds": 61}).raise_for_status()

    race(instance)

    instance.refresh_from_db()
    assert instance.status == InstanceStatus.GENERATED and instance.package_size > 0
    assert instance.poll_count == 1 and instance.next_poll_at is None
    assert instance.completed_at is not None
    assert_asked(status_calls(control, instance.package_id))
    with scopes_disabled():
        logged = IntegrationCall.objects.filter(endpoint__startswith="/crowd/instance/status")
        assert logged.count() == status_calls(control, instance.package_id)
    assert queued_polls(instance.pk) == []


def test_a_duplicate_delivered_before_the_poll_is_due_asks_nothing_and_schedules_nothing(
    generating, control, settings
):
    instance = generating
    settings.CROWD_POLL_INITIAL_SECONDS = 10  # the next poll is well ahead of the duplicate
    poll_instance(instance_id=instance.pk, brand_id=instance.brand_id)
    instance.refresh_from_db()
    booked = instance.next_poll_at
    assert booked - timezone.now() > timedelta(seconds=5)

    # The same message again (a redelivery): not due, so no status call and no new poll.
    poll_instance(instance_id=instance.pk, brand_id=instance.brand_id)

    instance.refresh_from_db()
    assert status_calls(control, instance.package_id) == 1
    assert instance.poll_count == 1 and instance.next_poll_at == booked
    assert len(queued_polls(instance.pk)) == 1


def test_many_pollers_of_one_instance_book_one_follow_up(generating, control):
    instance = generating

    race(instance, pollers=4)

    instance.refresh_from_db()
    assert_asked(status_calls(control, instance.package_id), pollers=4)
    assert instance.poll_count == 1
    assert len(queued_polls(instance.pk)) == 1
