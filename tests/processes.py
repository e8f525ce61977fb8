"""Starting the project's own processes (sandbox, Celery worker) from tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_process(args: list[str], *, name: str, env: dict | None = None) -> subprocess.Popen:
    """Start `python <args>` in the project root; output goes to var/test-logs/<name>.log."""
    log_dir = ROOT / "var" / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def worker_database_url() -> str:
    """DATABASE_URL of the test database (SQLite file or PostgreSQL), for a worker process
    started by a test: it must read and write the rows the test sees."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if db["NAME"] in ("", ":memory:") or str(db["NAME"]).startswith("file:memorydb"):
            raise RuntimeError("a worker needs a file test database (DATABASE_TEST_NAME)")
        return f"sqlite:///{db['NAME']}"
    user, password = quote(db["USER"] or "", safe=""), quote(db["PASSWORD"] or "", safe="")
    return f"postgres://{user}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def empty_broker() -> None:
    """Drop what earlier tests left in this run's queue, whatever the broker: the filesystem
    transport's folders are made anew, a server's queue (Redis) is purged."""
    from django.conf import settings

    from portal.celery import app

    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        shutil.rmtree(settings.CELERY_BROKER_FILESYSTEM_DIR, ignore_errors=True)
        for sub in ("out", "processed"):
            (settings.CELERY_BROKER_FILESYSTEM_DIR / sub).mkdir(parents=True, exist_ok=True)
        return
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)
