"""The embedded broker (portal/broker.py): no worker ever takes a half-written message, and
each message is taken by exactly one worker, with producers and consumers in separate
processes as in `make run`."""

from __future__ import annotations

import multiprocessing
import time
from json import JSONDecodeError
from queue import Empty

from django.conf import settings
from kombu import Connection
from kombu.transport import filesystem

from portal import broker

QUEUE = "broker-test"


def options(root) -> dict:
    for sub in ("out", "processed", "control"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(root / "out"),
        "data_folder_out": str(root / "out"),
        "processed_folder": str(root / "processed"),
        "control_folder": str(root / "control"),
        "store_processed": False,
    }


def channel(root, transport="portal.broker:Transport"):
    connection = Connection("filesystem://", transport=transport, transport_options=options(root))
    return connection, connection.default_channel


def test_the_embedded_broker_uses_this_transport_and_a_server_its_own():
    transport = getattr(settings, "CELERY_BROKER_TRANSPORT", None)
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        assert transport == "portal.broker:Transport"
    else:  # make verify: Redis
        assert transport is None


def test_a_message_being_written_is_not_visible_to_a_worker(tmp_path, monkeypatch):
    writer_connection, writer = channel(tmp_path)
    reader_connection, reader = channel(tmp_path)
    seen_while_writing = []

    replace = broker.os.replace

    def look_before_the_rename(src, dst):
        try:
            seen_while_writing.append(reader._get(QUEUE))
        except Empty:
            seen_while_writing.append(None)
        replace(src, dst)

    monkeypatch.setattr(broker.os, "replace", look_before_the_rename)
    writer._put(QUEUE, {"body": "x" * 10_000})

    assert seen_while_writing == [None]
    assert reader._get(QUEUE) == {"body": "x" * 10_000}
    writer_connection.release()
    reader_connection.release()


def test_kombus_own_transport_hands_out_a_message_being_written(tmp_path, monkeypatch):
    """Why portal/broker.py exists: the stock channel names the file before writing it."""
    writer_connection, writer = channel(tmp_path, transport="filesystem")
    reader_connection, reader = channel(tmp_path, transport="filesystem")
    failures = []

    def look_while_writing(f, flags):
        try:
            reader._get(QUEUE)
        except JSONDecodeError as exc:
            failures.append(exc)
        except Empty:
            pass

    monkeypatch.setattr(filesystem, "lock", look_while_writing)
    writer._put(QUEUE, {"body": "x"})

    assert len(failures) == 1
    writer_connection.release()
    reader_connection.release()


def _produce(root, start: int, count: int) -> None:
    connection, chan = channel(root)
    for n in range(start, start + count):
        chan._put(QUEUE, {"n": n, "pad": "p" * 2_000})
    connection.release()


def _consume(root, out) -> None:
    connection, chan = channel(root)
    taken, errors, idle = [], 0, 0
    while idle < 200:  # one second without a message: the producers are done
        try:
            taken.append(chan._get(QUEUE)["n"])
            idle = 0
        except Empty:
            idle += 1
            time.sleep(0.005)
        except Exception:  # noqa: BLE001 - counted, the assertion says what went wrong
            errors += 1
    out.put((taken, errors))
    connection.release()


def test_producers_and_consumers_in_other_processes_take_each_message_once(tmp_path):
    producers, per_producer, consumers = 4, 100, 3
    context = multiprocessing.get_context("fork")  # like gunicorn's and the worker's children
    out = context.Queue()
    readers = [context.Process(target=_consume, args=(tmp_path, out)) for _ in range(consumers)]
    writers = [
        context.Process(target=_produce, args=(tmp_path, p * per_producer, per_producer))
        for p in range(producers)
    ]
    for process in readers + writers:
        process.start()
    results = [out.get(timeout=50) for _ in readers]
    for process in readers + writers:
        process.join(timeout=10)

    taken = sorted(n for numbers, _ in results for n in numbers)
    errors = sum(e for _, e in results)
    assert errors == 0
    assert taken == list(range(producers * per_producer))
