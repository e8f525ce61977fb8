"""Real `celery -A portal worker` processes for the fault suite, on this run's test database
and broker, that a test can start, stop, and kill with SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from portal.celery import app
from tests.faults.scenario import TIMEOUT_SECONDS
from tests.processes import ROOT, start_process


def database_url() -> str:
    """The test database, for a worker process (the file of SQLite, or the server's)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if db["NAME"] in ("", ":memory:") or str(db["NAME"]).startswith("file:memorydb"):
            raise RuntimeError("a worker needs a file test database (DATABASE_TEST_NAME)")
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        user = quote(db["USER"] or "", safe="")
        password = quote(db["PASSWORD"] or "", safe="")
        host, port = db["HOST"] or "127.0.0.1", db["PORT"] or "5432"
        return f"postgres://{user}:{password}@{host}:{port}/{db['NAME']}"
    raise RuntimeError(f"no worker for a {connection.vendor} test database")


def empty_broker() -> None:
    """Drop what earlier tests left in this run's queue."""
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        shutil.rmtree(settings.CELERY_BROKER_FILESYSTEM_DIR, ignore_errors=True)
        for sub in ("out", "processed", "control"):
            (settings.CELERY_BROKER_FILESYSTEM_DIR / sub).mkdir(parents=True, exist_ok=True)
    else:
        app.control.purge()


def worker_env(*, sandbox_url: str, openid_root: Path, **extra: str) -> dict[str, str]:
    """A worker on the test database and `sandbox_url`, with the suite's short timeouts and
    poll intervals (the test process uses the same, see `portal_settings`)."""
    return {
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
        "FAULTS_OPENID_ROOT": str(openid_root),
        "JDCLOUD_API_BASE_URL": f"{sandbox_url}/jdcloud",
        "LINKFLOW_API_BASE_URL": f"{sandbox_url}/linkflow",
        **{name: str(value) for name, value in FAST.items()},
        **extra,
    }


# Timeouts and poll intervals of both processes: a `timeout` fault (held 1.5 s) outlasts
# the 1 s timeout; polls come every 0.5-1 s (WeChat's too: WECHAT_POLL_* fall back to
# these); a poll 2 s late is overdue for the sweeper.
FAST = {
    "JDCLOUD_TIMEOUT_SECONDS": TIMEOUT_SECONDS,
    "LINKFLOW_TIMEOUT_SECONDS": TIMEOUT_SECONDS,
    "CROWD_POLL_FIRST_SECONDS": 1.0,
    "CROWD_POLL_INITIAL_SECONDS": 0.5,
    "CROWD_POLL_MAX_SECONDS": 1.0,
    "CROWD_POLL_OVERDUE_SECONDS": 2,
    "LINKFLOW_REPORT_POLL_SECONDS": 0.5,
}


def portal_settings(settings, *, sandbox_url: str, openid_root: Path) -> None:
    """Point the test process (pytest-django's `settings`) where its workers point."""
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    settings.LINKFLOW_API_BASE_URL = f"{sandbox_url}/linkflow"
    settings.OPENID_PACKAGE_ROOT = openid_root
    for name, value in FAST.items():
        setattr(settings, name, value)


class Worker:
    """One worker process; `start()` returns once it is ready for tasks."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name, self.env = name, env
        self.process = None
        self.log = ROOT / "var" / "test-logs" / f"{name}.log"

    def start(self, timeout: float = 90.0) -> Worker:
        self.process = start_process(
            ["-m", "celery", "-A", "portal", "worker", "--pool=solo", "--loglevel=INFO"],
            name=self.name,
            env=self.env,
        )
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"worker {self.name} did not start: see {self.log}")
            time.sleep(0.2)
        return self

    def received(self, task: str) -> int:
        """How many messages of `task` the worker took from the broker (its log says)."""
        marker = f"Task {task}[".encode()
        return sum(
            1
            for line in self.log.read_bytes().splitlines()
            if marker in line and line.endswith(b"received")
        )

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, nothing handed back."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
