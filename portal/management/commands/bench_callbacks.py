"""Benchmark 1 of issue 10: the ISV callback `POST /JDCloud/master/sync` under load.

Starts, in a work directory of its own, the production server (gunicorn, `--workers` sync
workers, DEBUG off) on a throwaway database (SQLite, or a PostgreSQL database created for
the run on the server of `--postgres`), with the portal's URLs plus a bare Django JSON
view (`bench.callbacks_urls`; the settings module `bench.callbacks_settings` exists only
for this). Then wrk (`bench/callbacks.lua`, from this process on loopback) drives each of
them for `--duration` seconds after a warm-up: the bare view first, then the callback with
pre-signed valid bodies cycling over `--brands` distinct master_ids (so each call writes
a brand, as JD's re-sends do: the upsert writes even when nothing changed). The bare view
runs behind the portal's whole middleware, the callback behind the part above
`portal.callbacks.IsvCallbackMiddleware`, as in production. It prints requests/s and p99
of both, the ratio, and the errors: wrk's (connections, HTTP status) and the calls the
portal's call log records as refused; then, with the server stopped, where a call's time
goes in-process on the same database (`bench.callbacks_breakdown`) and, when the ratio
is not met, why. Targets (issue 10): ≥ 0.8× the bare view's requests/s, p99 < 50 ms, 0
errors.

    .venv/bin/python manage.py bench_callbacks [--duration 10] [--connections 4]

Needs wrk (`apt-get install -y wrk`). `--profile N` instead runs N callbacks through
Django's test client in-process under pyinstrument and prints the call tree.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SYNC_PATH = "/JDCloud/master/sync"
BARE_PATH = "/bench/bare"
MASTER_PREFIX = "bench-callbacks-"
TARGET_RATIO = 0.8
TARGET_P99_MS = 50.0


def signed_bodies(count: int, isv_key: str) -> list[str]:
    """`/JDCloud/master/sync` bodies (spec: 品牌商同步), each with its token."""
    from portal.integrations.jdcloud.isv_token import compute_token

    bodies = []
    for n in range(count):
        params = {
            "master_id": f"{MASTER_PREFIX}{n:06d}",
            "master_name": f"压测品牌{n}",
            "master_desc": "bench_callbacks",
            "shop_id": str(1_000_000 + n),
            "shop_type": "1",
            "user_type": "1",
            "expire_time": 4_102_415_999,  # 2099-12-31
            "status": 1,
        }
        params["token"] = compute_token(params, isv_key)
        bodies.append(json.dumps(params, ensure_ascii=False, separators=(",", ":")))
    return bodies


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


class Command(BaseCommand):
    help = "Requests/s and p99 of POST /JDCloud/master/sync under wrk, beside a bare view."

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
        parser.add_argument("--warmup", type=int, default=3, help="seconds before each")
        parser.add_argument("--connections", type=int, default=4)
        parser.add_argument("--threads", type=int, default=1, help="wrk threads")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
        parser.add_argument(
            "--worker-threads",
            type=int,
            default=1,
            help="threads per gunicorn worker (more than 1: the gthread worker)",
        )
        parser.add_argument("--brands", type=int, default=1000, help="distinct master_ids")
        parser.add_argument(
            "--postgres",
            default="",
            help="postgres://user:password@host:port/db of a role that may CREATEDB: the "
            "run gets a database of its own there (default: SQLite)",
        )
        parser.add_argument(
            "--conn-max-age",
            type=int,
            default=None,
            help="seconds a worker keeps its database connection (DATABASE_URL's "
            "conn_max_age; default: the settings', DATABASE_CONN_MAX_AGE or 60; 0: a new "
            "connection per request)",
        )
        parser.add_argument("--keep", action="store_true", help="keep the work directory")
        parser.add_argument("--profile", type=int, default=0, help="profile N calls instead")
        parser.add_argument("--tally", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--breakdown", type=int, default=0, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["tally"]:
            return self.tally()
        if options["breakdown"]:
            return self.breakdown(options["breakdown"], options["brands"])
        if options["profile"]:
            return self.profile(options["profile"], options["brands"])
        if shutil.which("wrk") is None:
            raise CommandError("wrk is needed: apt-get install -y wrk")
        return self.run(options)

    # --- the run ---------------------------------------------------------------------

    def run(self, options) -> None:
        from bench.environment import ROOT, Processes, free_port, manage, production_env

        workdir = Path(tempfile.mkdtemp(prefix="bench-callbacks-"))
        database = _Database(workdir, options["postgres"], options["conn_max_age"])
        try:
            with Processes(workdir) as processes:
                env = production_env(
                    workdir,
                    sandbox_url="http://127.0.0.1:9",  # nothing here calls out
                    database_url=database.create(),
                    DJANGO_SETTINGS_MODULE="bench.callbacks_settings",
                )
                manage(["migrate", "--noinput", "-v", "0"], env)
                port = free_port()
                server = processes.python(
                    [
                        "-m",
                        "gunicorn",
                        "portal.wsgi:application",
                        "--workers",
                        str(options["workers"]),
                        "--threads",
                        str(options["worker_threads"]),
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--log-level",
                        "warning",
                    ],
                    name="gunicorn",
                    env=env,
                )
                base = f"http://127.0.0.1:{port}"
                processes.wait_http(f"{base}/healthz", server)
                bodies = workdir / "bodies.txt"
                isv_key = env["JDCLOUD_ISV_KEY"]
                bodies.write_text("\n".join(signed_bodies(options["brands"], isv_key)) + "\n")
                script = ROOT / "bench" / "callbacks.lua"
                results = {}
                for label, path in (("bare view", BARE_PATH), ("master/sync", SYNC_PATH)):
                    url = f"{base}{path}"
                    self.wrk(script, url, bodies, options, options["warmup"])  # warm-up
                    results[label] = self.wrk(script, url, bodies, options, options["duration"])
                refused, logged = json.loads(
                    manage(["bench_callbacks", "--tally"], env, capture=True).stdout
                )
                server_errors = _server_errors(server.log_path)
            # The server stopped: where the time goes, in-process, on the same database.
            breakdown = json.loads(
                manage(
                    ["bench_callbacks", "--breakdown", "300", "--brands", str(options["brands"])],
                    env,
                    capture=True,
                ).stdout
            )
        finally:
            database.drop()
            if options["keep"]:
                self.stdout.write(f"work directory kept: {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
        self.report(options, database, results, refused, logged, server_errors, breakdown)

    def wrk(self, script: Path, url: str, bodies: Path, options, seconds: int) -> dict:
        completed = subprocess.run(  # noqa: S603 - wrk on loopback, our arguments
            [
                shutil.which("wrk"),
                f"-t{options['threads']}",
                f"-c{options['connections']}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "-s",
                str(script),
                url,
                "--",
                str(bodies),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        line = completed.stdout.strip().splitlines()[-1]
        figures = json.loads(line)
        figures["rate"] = figures["requests"] / (figures["duration_us"] / 1e6)
        figures["errors"] = sum(
            figures[name] for name in ("connect", "read", "write", "status", "timeout")
        )
        return figures

    def report(self, options, database, results, refused, logged, server_errors, breakdown) -> None:
        from bench.callbacks_breakdown import explain

        say = self.stdout.write
        bare, sync = results["bare view"], results["master/sync"]
        kind = (
            f"gthread workers × {options['worker_threads']} threads"
            if options["worker_threads"] > 1
            else "sync workers"
        )
        say(
            f"bench_callbacks: gunicorn, {options['workers']} {kind}, DEBUG off, "
            f"{database.label}; wrk {options['threads']} thread(s), "
            f"{options['connections']} connections, {options['duration']} s each after "
            f"{options['warmup']} s of warm-up, on loopback"
        )
        say(
            "the bare view runs behind the portal's whole middleware, master/sync behind "
            "what is above IsvCallbackMiddleware (as in production)"
        )
        for label, figures in results.items():
            say(
                f"{label:<12} {figures['rate']:8,.0f} requests/s   p50 "
                f"{figures['p50_us'] / 1000:6.1f} ms   p99 {figures['p99_us'] / 1000:6.1f} ms   "
                f"max {figures['max_us'] / 1000:6.1f} ms   errors {figures['errors']}"
            )
        ratio = sync["rate"] / bare["rate"]
        p99 = sync["p99_us"] / 1000
        say(
            f"master/sync at {ratio:.2f}× the bare view's requests/s  "
            f"(target ≥ {TARGET_RATIO}×: {verdict(ratio >= TARGET_RATIO)})"
        )
        say(f"master/sync p99 {p99:.1f} ms  (target < {TARGET_P99_MS:g} ms: {verdict(p99 < 50)})")
        errors = sync["errors"] + refused + server_errors
        say(
            f"errors: {sync['errors']} from wrk (connections, non-2xx), {refused} refused in "
            f"the call log ({logged:,} calls logged), {server_errors} server errors logged  "
            f"(target 0: {verdict(errors == 0)})"
        )
        lines = explain(
            breakdown,
            bare_rate=bare["rate"],
            sync_rate=sync["rate"],
            workers=options["workers"],
            sqlite=not options["postgres"],
            target_ratio=TARGET_RATIO,
        )
        for line in lines:
            say(textwrap.fill(line, 100, subsequent_indent="  ") if len(line) > 100 else line)

    # --- inside the throwaway environment ----------------------------------------------

    def tally(self) -> None:
        """(refused, logged) calls of SYNC_PATH in the integration call log, as JSON."""
        from django_scopes import scopes_disabled

        from portal.models import IntegrationCall

        with scopes_disabled():
            calls = IntegrationCall.objects.filter(direction="in", endpoint=SYNC_PATH)
            self.stdout.write(json.dumps([calls.filter(ok=False).count(), calls.count()]))

    def breakdown(self, calls: int, brands: int) -> None:
        """Where the callback's time goes, as JSON (`bench.callbacks_breakdown`)."""
        from bench.callbacks_breakdown import measure

        bodies = signed_bodies(brands, settings.JDCLOUD_ISV_KEY)
        self.stdout.write(json.dumps(measure(SYNC_PATH, BARE_PATH, bodies, calls)))

    def profile(self, calls: int, brands: int) -> None:
        """N callbacks through the test client under pyinstrument, in a transaction that
        is rolled back (this process's database is the configured one)."""
        from django.db import transaction
        from django.test import Client
        from pyinstrument import Profiler

        bodies = signed_bodies(brands, settings.JDCLOUD_ISV_KEY)
        client = Client()
        profiler = Profiler(interval=0.0005)
        with transaction.atomic():
            for body in bodies[: min(brands, 50)]:  # the brands exist, as after a warm-up
                client.post(SYNC_PATH, body, content_type="application/json")
            started = time.perf_counter()
            with profiler:
                for n in range(calls):
                    response = client.post(
                        SYNC_PATH, bodies[n % 50], content_type="application/json"
                    )
                    if response.json()["code"] != 0:
                        raise CommandError(f"refused: {response.json()}")
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        self.stdout.write(
            f"{calls} calls in {elapsed:.2f} s = {elapsed / calls * 1000:.2f} ms each "
            "(test client, in-process)"
        )
        self.stdout.write(profiler.output_text(unicode=True, color=False, show_all=False))


class _Database:
    """The run's database: a SQLite file in the work directory, or a PostgreSQL database
    created for the run (and dropped after) on the server of `postgres_url`."""

    def __init__(self, workdir: Path, postgres_url: str, conn_max_age: int | None) -> None:
        self.workdir, self.server = workdir, postgres_url
        self.name = f"bench_callbacks_{int(time.time())}"
        self.query = "" if conn_max_age is None else f"conn_max_age={conn_max_age}"
        self.label = "PostgreSQL" if postgres_url else "SQLite"
        if conn_max_age is not None:
            self.label += f", connections kept {conn_max_age} s"

    def create(self) -> str:
        if not self.server:
            url = f"sqlite:///{self.workdir / 'portal.sqlite3'}"
            return f"{url}?{self.query}" if self.query else url
        self._admin(f'CREATE DATABASE "{self.name}"')
        parts = urlsplit(self.server)
        return urlunsplit(parts._replace(path=f"/{self.name}", query=self.query))

    def drop(self) -> None:
        if self.server:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as connection:
            connection.execute(statement)


def _server_errors(log_path: Path) -> int:
    """Tracebacks and error lines the server wrote (its log level is WARNING)."""
    text = log_path.read_text(errors="replace")
    return text.count("Traceback") + text.count("[ERROR]")
