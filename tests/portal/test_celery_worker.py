"""The Celery app `portal` end to end: a real worker process on the embedded broker."""

import pytest
from django.conf import settings

from portal.celery import app
from portal.tasks import ping, prune_integration_calls
from tests.processes import ROOT, empty_broker, start_process


@pytest.fixture
def worker():
    """`celery -A portal worker` as a child process on the suite's broker (the filesystem
    transport under `make test`, Redis under `make verify`)."""
    empty_broker()
    process = start_process(
        ["-m", "celery", "-A", "portal", "worker", "--pool=solo", "--loglevel=INFO"],
        name="celery-worker",
    )
    yield process
    process.terminate()
    process.wait(timeout=20)


@pytest.mark.worker
def test_a_task_goes_through_a_real_worker_and_its_result_comes_back(worker):
    assert app.conf.task_always_eager is False
    assert app.conf.broker_url == settings.CELERY_BROKER_URL

    result = ping.delay("你好")

    answer = result.get(timeout=60)
    assert answer["payload"] == "你好"
    assert result.status == "SUCCESS"
    log = (ROOT / "var" / "test-logs" / "celery-worker.log").read_text()
    assert f"Task portal.tasks.ping[{result.id}] succeeded" in log


def test_the_app_is_configured_for_safe_redelivery():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT > 0
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


def test_beat_schedule_holds_the_housekeeping_task():
    entry = app.conf.beat_schedule["prune-integration-call-log"]
    assert entry["task"] == prune_integration_calls.name
    assert prune_integration_calls.name in app.tasks


@pytest.mark.django_db
def test_tasks_are_enqueued_only_when_the_transaction_commits(
    django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(ping, "apply_async", lambda args, kwargs, **options: sent.append(args))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ping.delay_on_commit("after commit")
        assert sent == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [("after commit",)]


def test_a_starting_worker_warms_up_the_catalog_notices_and_status(settings):
    from portal.celery import warm_up

    sent = []

    class Sender:
        class app:  # noqa: N801 - stands in for the worker's app
            @staticmethod
            def send_task(name, countdown):
                sent.append(name)

    settings.WARM_UP_ON_WORKER_START = True
    warm_up(Sender)
    assert sent == [
        "crowds.refresh_tag_catalog",
        "campaigns.refresh_notices",
        "campaigns.check_system_status",
    ]
    app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    for name in sent:
        assert name in app.tasks
    settings.WARM_UP_ON_WORKER_START = False
    warm_up(Sender)
    assert len(sent) == 3
