"""Benchmark of instance polling: status calls per instance and detection lag.

Creates N instances in the sandbox (manual clock) with generation times drawn from an
exponential distribution, then runs the real poll service (`crowds.services.instance_poll`,
real HTTP, the real backoff and jitter) on simulated time until every instance is
final, beside an oracle that polls exactly once, at completion. Everything it writes is
rolled back at the end.

    .venv/bin/python manage.py bench_polling --instances 200 --mean 60
"""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from unittest import mock

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_scopes import scope, scopes_disabled

from brands.models import Brand
from crowds import services
from crowds.models import CrowdInstance, InstanceStatus

SANDBOX_MASTER_ID = "63d1f0a3-0b2b-4da3-a35f-007ae0672a10"
START = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
CONDITION = {
    "bool": {
        "must": [{"bool": {"group": "001", "must": [{"term": {"TAG_020": {"value": "已婚"}}}]}}]
    }
}


class Rollback(Exception):
    pass


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Command(BaseCommand):
    help = "Print status calls per instance and detection lag of instance polling."

    def add_arguments(self, parser):
        parser.add_argument("--instances", type=int, default=200)
        parser.add_argument("--mean", type=float, default=60.0, help="mean generation time (s)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--sandbox-url", default=settings.SANDBOX_URL)

    def handle(self, *args, instances, mean, seed, sandbox_url, **options):
        settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
        control = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=30)
        control.post(
            "/reset", json={"seed": seed, "clock": "manual", "start": START.isoformat()}
        ).raise_for_status()
        rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not a secret
        clock = {"now": START}
        try:
            with (
                mock.patch("django.utils.timezone.now", lambda: clock["now"]),
                transaction.atomic(),
            ):
                result = self._run(control, rng, clock, instances, mean)
                raise Rollback
        except Rollback:
            pass
        self._report(result, instances, mean)

    def _run(self, control, rng, clock, count, mean):
        with scopes_disabled():
            services.tag_catalog_refresh()
            brand, _ = Brand.objects.get_or_create(
                master_id=SANDBOX_MASTER_ID, defaults={"name": "bench"}
            )
        with scope(brand=brand):
            crowd = services.crowd_create(brand=brand, name="bench", condition=CONDITION)
            ready_at = {}
            for _ in range(count):
                generation = rng.expovariate(1 / mean)
                control.post("/config", json={"instance_generation_seconds": generation})
                instance = services.instance_create(crowd=crowd)
                ready_at[instance.pk] = clock["now"] + timedelta(seconds=generation)
            lags, pending = {}, set(ready_at)
            while pending:
                due = CrowdInstance.objects.filter(pk__in=pending).order_by("next_poll_at").first()
                target = max(due.next_poll_at, clock["now"])
                if target > clock["now"]:
                    seconds = (target - clock["now"]).total_seconds()
                    control.post("/clock/advance", json={"seconds": seconds}).raise_for_status()
                    clock["now"] = target
                instance = services.instance_poll(instance_id=due.pk, jitter=rng.uniform(0.8, 1.2))
                if instance.status != InstanceStatus.GENERATING:
                    pending.discard(instance.pk)
                    lags[instance.pk] = (clock["now"] - ready_at[instance.pk]).total_seconds()
            calls = list(
                CrowdInstance.objects.filter(pk__in=ready_at).values_list("poll_count", flat=True)
            )
        return {"calls": calls, "lags": list(lags.values())}

    def _report(self, result, count, mean):
        calls, lags = result["calls"], result["lags"]
        per_instance = sum(calls) / len(calls)
        self.stdout.write(f"instances: {count}, generation time ~ Exp(mean {mean:g} s)")
        median_calls = statistics.median(calls)
        self.stdout.write(
            f"status calls per instance: mean {per_instance:.2f}, median {median_calls:g}, "
            f"p95 {percentile(calls, 0.95):g}, max {max(calls)}  (oracle: 1.00)"
        )
        self.stdout.write(f"calls vs oracle: {per_instance:.2f}x  (target in issue 10: <= 1.5x)")
        median_lag, p95_lag = statistics.median(lags), percentile(lags, 0.95)
        self.stdout.write(
            f"detection lag: median {median_lag:.1f} s, p95 {p95_lag:.1f} s, "
            f"max {max(lags):.1f} s  (oracle: 0; target in issue 10: median <= 5 s)"
        )
        self.stdout.write(f"missed: {count - len(lags)}")
