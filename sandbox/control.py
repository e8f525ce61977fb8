"""The control API for tests and demos: `/_control/...`, JSON in and out, no signature.

Reset to a seeded state and pick the clock, move the clock, tune timings, inject
faults into `/jdcloud` and `/linkflow`, read the request journal (`?path=` or, for
Linkflow, `?endpoint=/linkflow/open/report/{reportId}`), add brands and notices, take the
system down. Linkflow's own knobs are in `sandbox.linkflow.control`. Errors answer HTTP
400 `{"error": "..."}`.
"""

from __future__ import annotations

import json
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.clock import parse_iso
from sandbox.jdcloud import PREFIX
from sandbox.linkflow import PREFIX as LINKFLOW_PREFIX
from sandbox.state import SandboxState

FAULT_KINDS = ("latency", "http_error", "timeout", "code")


class ControlError(ValueError):
    pass


async def _body(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ControlError(f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _number(body: dict, name: str, default, *, low=None, high=None, integer=False):
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"{name} must be a number")
    if integer and not float(value).is_integer():
        raise ControlError(f"{name} must be an integer")
    if low is not None and value < low or high is not None and value > high:
        raise ControlError(f"{name} must be between {low} and {high}")
    return int(value) if integer else value


def control(handler):
    async def view(request: Request) -> JSONResponse:
        state: SandboxState = request.app.state.sandbox
        try:
            body = await _body(request) if request.method in ("POST", "PUT") else {}
            async with state.lock:
                result = handler(state, body, request)
        except (ControlError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(result)

    return view


@control
def reset(state: SandboxState, body: dict, request: Request) -> dict:
    seed = _number(body, "seed", 0, integer=True)
    clock = body.get("clock", "real")
    if clock not in ("manual", "real"):
        raise ControlError("clock must be 'manual' or 'real'")
    start = parse_iso(body["start"]) if body.get("start") else None
    state.reset(seed=seed, clock=clock, start=start)
    return state.summary()


@control
def clock(state: SandboxState, body: dict, request: Request) -> dict:
    return state.clock.describe()


@control
def advance(state: SandboxState, body: dict, request: Request) -> dict:
    seconds = _number(body, "seconds", None, low=0)
    if seconds is None:
        raise ControlError("seconds is required")
    state.clock.advance(seconds)
    return state.clock.describe()


@control
def config(state: SandboxState, body: dict, request: Request) -> dict:
    return state.set_config(body) if request.method == "POST" else dict(state.config)


@control
def faults(state: SandboxState, body: dict, request: Request) -> dict:
    if request.method == "DELETE":
        state.faults.clear()
    elif request.method == "POST":
        state.add_fault(**_fault_spec(body))
    return {"faults": [fault.as_json() for fault in state.faults]}


def _fault_spec(body: dict) -> dict:
    """JD Cloud paths are given without `/jdcloud` ("/crowd/list"; "*" is every JD path);
    Linkflow paths with `/linkflow` or as "linkflow:/open/groups" ("/linkflow" is every
    Linkflow path). Templates match one segment per `{name}`."""
    path = body.get("path")
    if isinstance(path, str) and path.startswith("linkflow:"):
        path = LINKFLOW_PREFIX + "/" + path.removeprefix("linkflow:").lstrip("/")
    if not isinstance(path, str) or not (path == "*" or path.startswith("/")):
        raise ControlError(
            'path must be a JD path like "/crowd/list", "*", or a Linkflow path like '
            '"/linkflow/open/groups" or "linkflow:/open/report/{reportId}"'
        )
    kind = body.get("kind")
    if kind not in FAULT_KINDS:
        raise ControlError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    status = _number(body, "status", 500, low=400, high=599, integer=True)
    return {
        "path": path.removeprefix(PREFIX) if path.startswith(PREFIX + "/") else path,
        "kind": kind,
        "rate": _number(body, "rate", 1.0, low=0, high=1),
        "times": _number(body, "times", None, low=1, integer=True),
        "latency_ms": _number(body, "latency_ms", None, low=0, integer=True),
        "status": status,
        "code": str(body.get("code", "500")),
        "msg": str(body.get("msg", "系统繁忙")),
    }


@control
def requests(state: SandboxState, body: dict, request: Request) -> dict:
    if request.method == "DELETE":
        state.journal.clear()
        return {"requests": []}
    path = request.query_params.get("path")
    endpoint = request.query_params.get("endpoint")
    entries = [
        entry
        for entry in state.journal
        if (path is None or entry["path"] == path)
        and (endpoint is None or entry.get("endpoint") == endpoint)
    ]
    return {"requests": entries}


@control
def brands(state: SandboxState, body: dict, request: Request) -> dict:
    if request.method == "GET":
        return {"brands": [_brand_json(brand) for brand in state.brands.values()]}
    master_id = body.get("master_id")
    if not isinstance(master_id, str) or not master_id:
        raise ControlError("master_id is required")
    existing = state.brands.get(master_id)
    pins = body.get("pins", existing.pins if existing else [])
    if not isinstance(pins, list) or not all(isinstance(pin, str) and pin for pin in pins):
        raise ControlError("pins must be a list of strings")
    for pin in pins:
        holder = state.brand_for_pin(pin)
        if holder is not None and holder.master_id != master_id:
            raise ControlError(f"pin {pin!r} already belongs to brand {holder.master_id}")
    brand = state.upsert_brand(
        master_id=master_id,
        name=str(body.get("name") or (existing.name if existing else master_id)),
        shop_id=str(body.get("shop_id") or (existing.shop_id if existing else "10000000")),
        pins=pins,
        public_balance=_number(body, "public_balance", None, low=0, integer=True),
        private_balance=_number(body, "private_balance", None, low=0, integer=True),
    )
    for name in ("status", "expire_time"):
        if name in body:
            setattr(brand, name, _number(body, name, None, integer=True))
    return _brand_json(brand)


def _brand_json(brand) -> dict:
    return {
        "master_id": brand.master_id,
        "name": brand.name,
        "shop_id": brand.shop_id,
        "pins": brand.pins,
        "public_balance": brand.public_balance,
        "private_balance": brand.private_balance,
        "status": brand.status,
        "expire_time": brand.expire_time,
        "signatures": brand.signatures,
    }


@control
def system(state: SandboxState, body: dict, request: Request) -> dict:
    if request.method == "POST":
        status = body.get("status")
        if status not in ("up", "down"):
            raise ControlError("status must be 'up' or 'down'")
        state.system_up = status == "up"
    return {"status": "up" if state.system_up else "down"}


@control
def notices(state: SandboxState, body: dict, request: Request) -> dict:
    if request.method == "POST":
        now = state.now()

        def moment(name: str, default):
            value = body.get(name)
            return parse_iso(value) if value else default

        notice_type = body.get("notice_type", "SYS_UPGRADE")
        if notice_type not in ("SYS_UPGRADE", "OTHER"):
            raise ControlError("notice_type must be SYS_UPGRADE or OTHER")
        state.notices.append(
            state.make_notice(
                title=str(body.get("title", "系统升级公告")),
                content=str(body.get("content", "系统升级,请稍后登录")),
                notice_type=notice_type,
                start_time=moment("start_time", now + timedelta(days=1)),
                end_time=moment("end_time", now + timedelta(days=1, hours=2)),
                expire_time=moment("expire_time", None),
            )
        )
    return {
        "notices": [
            {
                key: value.isoformat() if hasattr(value, "isoformat") else value
                for key, value in notice.items()
            }
            for notice in state.notices
        ]
    }


@control
def summary(state: SandboxState, body: dict, request: Request) -> dict:
    return state.summary()


ROUTES = [
    Route("/_control/reset", reset, methods=["POST"]),
    Route("/_control/clock", clock, methods=["GET"]),
    Route("/_control/clock/advance", advance, methods=["POST"]),
    Route("/_control/config", config, methods=["GET", "POST"]),
    Route("/_control/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_control/requests", requests, methods=["GET", "DELETE"]),
    Route("/_control/brands", brands, methods=["GET", "POST"]),
    Route("/_control/system", system, methods=["GET", "POST"]),
    Route("/_control/notices", notices, methods=["GET", "POST"]),
    Route("/_control/state", summary, methods=["GET"]),
]
