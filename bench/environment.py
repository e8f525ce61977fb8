"""A throwaway, production-like environment for benchmark processes.

`production_env` gives the variables of a portal process with DEBUG off, fresh secrets,
the sandbox's JD Cloud credentials, a SQLite database and a filesystem broker inside a
work directory of its own (or the database named by `database_url`), and no `.env`.
`Processes` starts the processes of one run (each logs to `<workdir>/<name>.log`) and
stops them, children first, whatever happens.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

# The sandbox's own defaults (sandbox/settings.py): the portal must sign with these.
SANDBOX_CREDENTIALS = {
    "JDCLOUD_ACCESS_KEY": "sandbox-access-key",
    "JDCLOUD_SECRET_KEY": "sandbox-secret-key",
    "JDCLOUD_ISV_KEY": "SandboxIsvKey0123456789abcdefABC",
    "JDCLOUD_OAUTH_CLIENT_ID": "sandbox-client",
    "JDCLOUD_OAUTH_CLIENT_SECRET": "sandbox-client-secret",
    "JDCLOUD_PARTNER_ID": "sandbox-partner",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(
    workdir: Path, *, sandbox_url: str, database_url: str = "", **overrides: str
) -> dict[str, str]:
    """The environment of a portal process of this run: production settings (DEBUG off,
    no SSL redirect: the benchmark speaks plain HTTP on loopback)."""
    env = {
        **os.environ,
        **SANDBOX_CREDENTIALS,
        "PORTAL_ENV_FILE": "",  # a developer's .env must not change the figures
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_SALT": secrets.token_hex(8),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": database_url or f"sqlite:///{workdir / 'portal.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_FILESYSTEM_DIR": str(workdir / "broker"),
        "CELERY_RESULT_BACKEND": f"file://{workdir / 'results'}",
        "CELERY_TASK_DEFAULT_QUEUE": "celery",
        "PORTAL_RUN_ID": f"bench-{os.getpid()}",
        "WARM_UP_ON_WORKER_START": "false",
        "LOG_LEVEL": "WARNING",
        "SANDBOX_URL": sandbox_url,
        "JDCLOUD_API_BASE_URL": f"{sandbox_url}/jdcloud",
        "LINKFLOW_API_BASE_URL": f"{sandbox_url}/linkflow",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


def manage(args: list[str], env: dict[str, str], *, capture: bool = False):
    """Run `manage.py <args>` in `env`; raises when it fails."""
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        capture_output=capture,
    )


class Processes:
    """The processes of one benchmark run, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: list[subprocess.Popen] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc_info) -> None:
        for process in reversed(self.running):
            self.stop(process)

    def start(self, args: list[str], *, name: str, env: dict[str, str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - lives with the process
        process = subprocess.Popen(  # noqa: S603 - our own programs
            args,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its children
        )
        process.log_path = self.workdir / f"{name}.log"
        self.running.append(process)
        return process

    def python(self, args: list[str], *, name: str, env: dict[str, str]) -> subprocess.Popen:
        return self.start([sys.executable, *args], name=name, env=env)

    @staticmethod
    def stop(process: subprocess.Popen, timeout: float = 15.0) -> None:
        if process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)

    @staticmethod
    def wait_http(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[:3]} exited ({process.log_path})")
            try:
                if httpx.get(url, timeout=1.0).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{url} did not answer within {timeout} s ({process.log_path})")

    @staticmethod
    def wait_log(process: subprocess.Popen, text: bytes, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in process.log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{process.args[:3]} did not get ready ({process.log_path})")
            time.sleep(0.1)

    def start_redis(self) -> str:
        """A Redis of this run (no persistence) on a free port; its URL. Production's broker:
        kombu's filesystem transport lets a worker read a message file before its writer
        has filled it, and the worker dies of it under a benchmark's load."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is needed: apt-get install -y redis-server")
        port = free_port()
        process = self.start(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            name="redis",
            env=dict(os.environ),
        )
        self.wait_log(process, b"Ready to accept connections", timeout=20)
        return f"redis://127.0.0.1:{port}"

    def start_sandbox(self, env: dict[str, str]) -> str:
        """A sandbox of this run on a free port; its base URL."""
        port = free_port()
        process = self.python(["-m", "sandbox", "--port", str(port)], name="sandbox", env=env)
        url = f"http://127.0.0.1:{port}"
        self.wait_http(f"{url}/health", process)
        return url
