"""What the fault suite's user paths use of the sandbox: its brand, templates and Linkflow
workspace, the faults it injects, and waiting for the worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

import httpx

from brands.linkflow import linkflow_for
from brands.models import Brand
from campaigns.services.reach import ReachRequest

T = TypeVar("T")

CHANNEL_ID = "wx5a39a02868a39999"  # the sandbox Linkflow workspace's official account
TEMPLATE_ID = "iHxQJL1oep3kb2EVX94-T4zQeVVihfdNGXapx4tS0oU"  # a WeChat template of the sandbox
LINKFLOW_KEY = "sandbox-linkflow-key"
LINKFLOW_SECRET = "sandbox-linkflow-secret"
REACH_REQUEST = ReachRequest(
    reach_type="SMSPUBLIC",
    template_id="4370",
    template_params={"shop": "店", "product": "品", "discount": "8", "url": "3.cn/a"},
)

# 30 % of calls fail: three independent faults per system, each at this rate, fail
# 1 - (1 - r)³ = 30 % of the calls (a call may draw more than one; the first terminal one
# answers, after any hold).
FAULT_RATE = 1 - 0.7 ** (1 / 3)
# A `timeout` fault holds the request this long, then the sandbox carries it out: the
# portal, whose timeout is shorter (TIMEOUT_SECONDS), has given up by then.
HOLD_MS = 1500
TIMEOUT_SECONDS = 1.0


def sandbox_control(sandbox_url: str, *, seed: int) -> httpx.Client:
    """The sandbox's control API, reset to `seed` on a real clock (the worker polls in real
    time), with packages generated in 2 s, WeChat steps of 1 s that never fail, and
    Linkflow reports computed in 2 s."""
    control = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    control.post("/reset", json={"seed": seed, "clock": "real"}).raise_for_status()
    control.post(
        "/config",
        json={
            "instance_generation_seconds": 2,
            "wechat_step_seconds": 1,
            "wechat_failure_rate": 0,
        },
    ).raise_for_status()
    control.post("/linkflow", json={"report_seconds": 2}).raise_for_status()
    return control


def faults_for(system: str) -> list[dict]:
    """The three faults of one system, as `/_control/faults` bodies."""
    if system == "jdcloud":
        path, status = "*", 502
        code = {"code": "500", "msg": "系统繁忙,请稍后再试"}  # JD's envelope, code ≠ 0
    else:
        path, status = "/linkflow", 503
        code = {"code": "B00010", "msg": "参数不合法"}  # a B-code refusal (HTTP 500)
    return [
        {"path": path, "kind": "timeout", "latency_ms": HOLD_MS, "rate": FAULT_RATE},
        {"path": path, "kind": "http_error", "status": status, "rate": FAULT_RATE},
        {"path": path, "kind": "code", "rate": FAULT_RATE, **code},
    ]


class Faults:
    """30 % of JD Cloud and Linkflow calls failing, switched on and off."""

    def __init__(self, control: httpx.Client) -> None:
        self.control = control
        self.active = False

    def on(self) -> None:
        for body in faults_for("jdcloud") + faults_for("linkflow"):
            self.control.post("/faults", json=body).raise_for_status()
        self.active = True

    def off(self) -> None:
        self.control.delete("/faults").raise_for_status()
        self.active = False

    @contextmanager
    def lifted(self):
        """No faults for what the block does (a retry by hand), then as before. A user
        retries after a moment, not at once: by then a request the sandbox was holding has
        been carried out (or refused), as it would be at JD Cloud."""
        was = self.active
        time.sleep(HOLD_MS / 1000 - TIMEOUT_SECONDS + 0.2)
        self.off()
        try:
            yield
        finally:
            if was:
                self.on()


def wait_for(what: str, probe: Callable[[], T | None], timeout: float) -> T:
    """`probe()`'s first truthy answer, asked every 0.25 s; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.25)


def small_group(brand: Brand, *, contacts: int) -> int:
    """A static Linkflow group of `contacts` contacts that have an openId of the official
    account (made with no faults on): the id."""
    client = linkflow_for(brand)
    page = client.contacts_cursor(last_max_id=0, size=60)
    details = client.contacts_bulk(ids=[c["id"] for c in page], need_open_id=True)
    chosen = [
        d["id"]
        for d in details
        if any(o.get("channelId") == CHANNEL_ID for o in d.get("openIds") or ())
    ][:contacts]
    assert len(chosen) == contacts, f"only {len(chosen)} contacts with an openId"
    group = client.group_create(name=f"故障演练{time.monotonic_ns()}")
    client.group_members_add(group_id=group["id"], contact_ids=chosen)
    return int(group["id"])
