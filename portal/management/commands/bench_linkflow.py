"""Benchmark 5 (issue 10): walk 100,000 Linkflow contacts and 100,000 group members through
the portal's lazy iterators, against the sandbox over real HTTP.

Prints, for each walk: items, seconds, items/s, and the process RSS at the start, its peak
during the walk and at the end (target: flat, < 150 MB) — beside the sandbox's own serving
rate for the same pages (a bare httpx loop that only fetches and decodes them).

    manage.py bench_linkflow [--contacts 100000] [--sandbox-url URL]

Without a reachable sandbox at --sandbox-url (default SANDBOX_URL) it starts one.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterable

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.integrations.linkflow.auth import TokenCache
from portal.integrations.linkflow.client import LinkflowClient

APP_KEY = "sandbox-linkflow-key"
APP_SECRET = "sandbox-linkflow-secret"  # noqa: S105 - the sandbox's demo app
RSS_LIMIT_MB = 150
# sandbox.linkflow.state: the seeded group holding `big_group_members` contacts.
BIG_GROUP = "全量会员"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


class Walk:
    """Consume an iterable, sampling RSS every `every` items."""

    def __init__(self, items: Iterable, every: int = 1000) -> None:
        self.items, self.every = items, every

    def run(self) -> dict:
        start_rss = peak = rss_mb()
        started = time.perf_counter()
        count = 0
        for count, _item in enumerate(self.items, 1):
            if count % self.every == 0:
                peak = max(peak, rss_mb())
        seconds = time.perf_counter() - started
        end_rss = rss_mb()
        return {
            "items": count,
            "seconds": seconds,
            "rate": count / seconds if seconds else 0.0,
            "rss_start": start_rss,
            "rss_peak": max(peak, end_rss),
            "rss_end": end_rss,
        }


class Command(BaseCommand):
    help = "Walk 100k Linkflow contacts and group members: memory and throughput."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=100_000)
        parser.add_argument("--sandbox-url", default=settings.SANDBOX_URL)

    def handle(self, *args, contacts: int, sandbox_url: str, **options):
        from tests.processes import free_port, start_process, wait_for_http

        process = None
        try:
            httpx.get(f"{sandbox_url}/health", timeout=2).raise_for_status()
        except httpx.HTTPError:
            port = free_port()
            process = start_process(["-m", "sandbox", "--port", str(port)], name="sandbox")
            sandbox_url = f"http://127.0.0.1:{port}"
            wait_for_http(f"{sandbox_url}/health", process)
        try:
            self._bench(sandbox_url, contacts)
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=10)

    def _bench(self, sandbox_url: str, contacts: int) -> None:
        control = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=60)
        control.post("/reset", json={"seed": 1, "clock": "real"}).raise_for_status()
        control.post(
            "/linkflow", json={"contacts": contacts, "big_group_members": contacts}
        ).raise_for_status()
        http = httpx.Client(base_url=f"{sandbox_url}/linkflow/", timeout=60)
        client = LinkflowClient(
            http=http, app_key=APP_KEY, app_secret=APP_SECRET, cache=TokenCache()
        )
        group_id = self._big_group(client)
        token = client.token().token

        rows = []
        rows.append(("contacts (client.iter_contacts)", Walk(client.iter_contacts(size=200)).run()))
        rows.append(("contacts (bare httpx)", Walk(self._bare_contacts(http, token)).run()))
        rows.append(
            (
                "group members (client.iter_group_members)",
                Walk(client.iter_group_members(group_id=group_id, size=500)).run(),
            )
        )
        rows.append(
            ("group members (bare httpx)", Walk(self._bare_members(http, token, group_id)).run())
        )

        self.stdout.write(f"Linkflow walk, sandbox at {sandbox_url}, {contacts:,} of each\n")
        self.stdout.write(
            f"{'walk':44} {'items':>8} {'s':>7} {'items/s':>9} "
            f"{'RSS start':>10} {'peak':>7} {'end':>7}  (limit: flat, < {RSS_LIMIT_MB} MB)"
        )
        for name, r in rows:
            self.stdout.write(
                f"{name:44} {r['items']:>8,} {r['seconds']:>7.2f} {r['rate']:>9,.0f} "
                f"{r['rss_start']:>8.1f}MB {r['rss_peak']:>5.1f}MB {r['rss_end']:>5.1f}MB"
            )
        client_rows = [r for name, r in rows if "client" in name]
        worst_growth = max(r["rss_peak"] - r["rss_start"] for r in client_rows)
        worst_peak = max(r["rss_peak"] for r in client_rows)
        ratio_contacts = rows[0][1]["rate"] / rows[1][1]["rate"] if rows[1][1]["rate"] else 0
        ratio_members = rows[2][1]["rate"] / rows[3][1]["rate"] if rows[3][1]["rate"] else 0
        self.stdout.write(
            f"\nclient vs sandbox serving rate: contacts {ratio_contacts:.2f}x, "
            f"members {ratio_members:.2f}x"
        )
        verdict = "met" if worst_peak < RSS_LIMIT_MB and worst_growth < 20 else "NOT met"
        self.stdout.write(
            f"peak RSS {worst_peak:.1f} MB (limit {RSS_LIMIT_MB} MB), growth during a walk "
            f"{worst_growth:.1f} MB (flat: < 20 MB) → target {verdict}"
        )

    @staticmethod
    def _big_group(client: LinkflowClient) -> int:
        """The group the sandbox fills with `big_group_members` members (the `name` filter
        is a substring match, hence the exact comparison)."""
        found = [g["id"] for g in client.groups(name=BIG_GROUP) or [] if g["name"] == BIG_GROUP]
        if not found:
            raise CommandError(f"the sandbox has no group {BIG_GROUP!r}")
        return found[0]

    @staticmethod
    def _bare_contacts(http: httpx.Client, token: str) -> Iterable:
        return _bare_cursor(
            lambda last: http.get(
                "open/contacts/cursor",
                params={"lastMaxId": last, "size": 200},
                headers={"X-OpenApi-Token": token},
            ).json(),
            key="id",
            size=200,
        )

    @staticmethod
    def _bare_members(http: httpx.Client, token: str, group_id: int) -> Iterable:
        return _bare_cursor(
            lambda last: http.get(
                f"open/groups/{group_id}/contacts",
                params={"memberId": last, "size": 500},
                headers={"X-OpenApi-Token": token},
            ).json(),
            key="memberId",
            size=500,
        )


def _bare_cursor(fetch: Callable[[int], list], *, key: str, size: int):
    last = 0
    while True:
        page = fetch(last)
        yield from page
        if len(page) < size:
            return
        last = page[-1][key]
