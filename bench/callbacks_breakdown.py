"""Where the time of `POST /JDCloud/master/sync` goes, for `manage.py bench_callbacks`.

`measure` runs inside the benchmark's environment (its settings, its database, the brands
the run synced): it calls Django's WSGI handler in-process, with no HTTP server, for the
bare view and for the callback, times both, and splits the callback's time by what it
does (pyinstrument samples; the shares are applied to the unprofiled time). `explain`
turns that into the lines the command prints beside the wrk figures.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable

# What a callback does, as (label, the frames that are it); the first match on the way
# down the call tree takes the frame and everything under it.
PARTS: tuple[tuple[str, Callable], ...] = (
    ("brand upsert (ORM: INSERT ... ON CONFLICT)", lambda f: f.function == "brand_sync"),
    ("call-log row (ORM: INSERT in a savepoint)", lambda f: f.function == "record_call"),
    (
        "transaction: begin and commit",
        lambda f: f.class_name == "Atomic" and f.function in ("__enter__", "__exit__"),
    ),
    ("input validation (DRF serializer)", lambda f: f.function == "validated"),
    (
        "JSON body, token, answer",
        lambda f: f.function in ("read_params", "verify_token", "envelope"),
    ),
)
REST = "Django: handler, middleware, URL, the rest"
# The parts the callback cannot answer without: the brand and the call log, committed.
WRITES = PARTS[0][0], PARTS[1][0], PARTS[2][0]


def measure(sync_path: str, bare_path: str, bodies: list[str], calls: int) -> dict:
    """Per-call milliseconds of the bare view and of the callback, the callback's parts,
    and the time spent executing SQL in the database driver."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from pyinstrument import Profiler

    app = WSGIHandler()
    sql_seconds = 0.0

    def timed_sql(execute, sql, params, many, context):
        nonlocal sql_seconds
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds += time.perf_counter() - started

    def run(path: str) -> float:
        started = time.perf_counter()
        for n in range(calls):
            _call(app, path, bodies[n % len(bodies)])
        return (time.perf_counter() - started) / calls * 1000

    run(sync_path), run(bare_path)  # warm: connection, URL resolver, translations
    bare_ms = min(run(bare_path) for _ in range(2))
    sync_ms = min(run(sync_path) for _ in range(2))
    profiler = Profiler(interval=0.0002)
    with connection.execute_wrapper(timed_sql), profiler:
        run(sync_path)
    root = profiler.last_session.root_frame()
    seconds = {label: 0.0 for label, _ in PARTS}
    _attribute(root, seconds)
    total = root.time or 1.0
    parts = {label: share / total * sync_ms for label, share in seconds.items()}
    parts[REST] = sync_ms - sum(parts.values())
    return {
        "calls": calls,
        "bare_ms": bare_ms,
        "sync_ms": sync_ms,
        "parts": parts,
        # Under the profiler, hence as a share of its run.
        "sql_ms": sql_seconds / total * sync_ms,
    }


def _attribute(frame, seconds: dict[str, float]) -> None:
    for label, matches in PARTS:
        if matches(frame):
            seconds[label] += frame.time
            return
    for child in frame.children:
        _attribute(child, seconds)


def _call(app, path: str, body: str) -> bytes:
    raw = body.encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }
    response = app(environ, lambda status, headers: None)
    try:
        return b"".join(response)
    finally:
        response.close()  # request_finished: what gunicorn's worker would do


def explain(
    breakdown: dict,
    *,
    bare_rate: float,
    sync_rate: float,
    workers: int,
    sqlite: bool,
    target_ratio: float,
) -> list[str]:
    """The breakdown as printed lines, and why the ratio is what it is."""
    bare_ms, sync_ms, parts = breakdown["bare_ms"], breakdown["sync_ms"], breakdown["parts"]
    lines = [
        f"where a call's time goes (Django's WSGI handler in-process, no HTTP server, "
        f"{breakdown['calls']} calls each):",
        f"  {'bare view':<45} {bare_ms:5.2f} ms",
        f"  {'master/sync':<45} {sync_ms:5.2f} ms",
    ]
    for label, ms in parts.items():
        lines.append(f"    {label:<43} {ms:5.2f} ms {ms / sync_ms:4.0%}")
    lines.append(
        f"  SQL executed in the database driver (all statements, commit aside): "
        f"{breakdown['sql_ms']:.2f} ms"
    )
    if sync_rate / bare_rate >= target_ratio:
        return lines
    writes_ms = sum(parts[label] for label in WRITES)
    lines.append(
        f"not met: the writes a callback must make before it answers (the brand, its "
        f"call-log row, one commit) take {writes_ms:.2f} ms, {writes_ms / sync_ms:.0%} of "
        f"the callback and {writes_ms / bare_ms:.1f}× the bare view's whole time in Django."
    )
    # With every worker busy, a worker spends workers / rate per request. A callback takes
    # at least the server's time and its writes, a bare request the server's time and the
    # bare view's: the writes' excess over the bare view must fit in the allowance.
    request_ms = workers / bare_rate * 1000
    allowed_ms = (1 / target_ratio - 1) * request_ms
    excess_ms = writes_ms - bare_ms
    lines.append(
        f"a bare request takes {request_ms:.2f} ms of a worker here ({workers} workers at "
        f"{bare_rate:,.0f} requests/s); at {target_ratio}× a callback may take "
        f"{allowed_ms:.2f} ms more. Its writes alone take {excess_ms:.2f} ms more than the "
        f"bare view's whole Django time: "
        + (
            "the target is out of reach with them."
            if excess_ms > allowed_ms
            else "they would fit, the rest of the callback does not."
        )
    )
    statements_ms = parts[WRITES[0]] + parts[WRITES[1]]
    lines.append(
        f"of the brand and call-log writes ({statements_ms:.2f} ms) the database driver runs "
        f"the SQL in {breakdown['sql_ms']:.2f} ms; the rest is Django's ORM building them. "
        f"The commit takes {parts[WRITES[2]]:.2f} ms."
    )
    if sqlite and workers > 1:
        lines.append(
            "SQLite lets one transaction write at a time: a worker that finds the file "
            "locked sleeps in SQLite's busy handler (1, 2, 5, 10 ms...) before it tries "
            "again, so callbacks gain little from a second worker and their p99 grows."
        )
    return lines
