"""Marketing reports (spec "报表相关").

A package is registered for reports when it is reached (automatically, from its send
time) or through `/report/create` (non-reached packages, from `report_date` or now).
`/report` then has one row per registered package and report type for every day from
registration up to yesterday on the sandbox clock ("每天中午12点开始可以同步前一天的报表"
is simplified to "yesterday is available"). The metrics are deterministic per package,
day and type, and keep the funnel: pv ≥ uv ≥ cart ≥ ord_pins ≥ pay_pins,
delivered_num ≤ people_sent_num = package size. The `*_top5` strings have the spec's
format `rank_skuId_value*...`, sometimes out of rank order, as in the spec's example.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import date, datetime, time, timedelta

from sandbox.clock import CST, format_date, format_datetime
from sandbox.jdcloud.envelope import (
    CODE_INT,
    ApiError,
    Params,
    brand_of,
    conflict,
    endpoint,
    generated_instance,
)
from sandbox.population import sms_outcome
from sandbox.state import Brand, Instance, SandboxState

REPORT_TYPES = ("click", "exposure", "all")


def _check_partner(state: SandboxState, params: Params) -> str:
    partner_id = params.text("partner_id")
    if partner_id != state.settings.partner_id:
        raise ApiError(f"合作伙伴partner_id不正确:{partner_id}", "403")
    return partner_id


def _report_start(params: Params):
    """The table says "yyyy-MM-dd HH:mm:ss"; a bare date is taken as its midnight."""
    if params.present("report_date") and len(str(params.values["report_date"]).strip()) == 10:
        day = params.day("report_date")
        return datetime.combine(day, time(), CST)
    return params.moment("report_date", required=False)


@endpoint(CODE_INT)
def report_create(state: SandboxState, params: Params) -> dict:
    _check_partner(state, params)
    brand = brand_of(state, params)
    instance = generated_instance(state, params.text("package_id"), brand)
    start = _report_start(params)
    if instance.reach is not None:
        raise conflict("已触达的人群包由京东云自动创建营销报表,无需调用/report/create")
    instance.report_from = start or state.now()
    return {"status": "0"}


@endpoint(CODE_INT)
def report(state: SandboxState, params: Params) -> dict:
    partner_id = _check_partner(state, params)
    brand = brand_of(state, params)
    day = params.day("report_date")
    wanted = params.choice("report_type", REPORT_TYPES, required=False, default="exposure")
    types = ("click", "exposure") if wanted == "all" else (wanted,)
    rows = []
    if day <= state.now().date() - timedelta(days=1):
        registered = sorted(
            (
                instance
                for instance in state.instances.values()
                if instance.master_id == brand.master_id
                and instance.report_from is not None
                and instance.report_from.date() <= day
            ),
            key=lambda instance: instance.created_at,
        )
        rows = [report_row(brand, instance, day, kind) for instance in registered for kind in types]
    return {
        "partner_id": partner_id,
        "shop_id": brand.shop_id,
        "report_date": format_date(day),
        "report_data": rows,
    }


@endpoint(CODE_INT)
def report_pull(state: SandboxState, params: Params) -> dict:
    partner_id = _check_partner(state, params)
    day = params.day("report_date", required=False)
    if day is not None and day >= state.now().date():
        raise ApiError(f"report_date只能是今天之前的日期,收到{format_date(day)}")
    state.report_pulls.append(
        {
            "partner_id": partner_id,
            "report_date": format_date(day) if day else None,
            "time": format_datetime(state.now()),
        }
    )
    return {"status": "0"}


def _skus(shop_id: str) -> list[str]:
    digest = hashlib.sha256(shop_id.encode()).digest()
    long_ids = [
        str(100_000_000_000 + int.from_bytes(digest[i : i + 4], "big") % 9_999_999_999)
        for i in range(0, 24, 4)
    ]
    short_ids = [str(3_000_000 + int.from_bytes(digest[i : i + 2], "big") * 30) for i in (24, 27)]
    return long_ids + short_ids


def _top5(rng: random.Random, skus: list[str], total: float, money: bool = False) -> str:
    if total <= 0:
        return ""
    weights = sorted((rng.uniform(0.05, 1.0) for _ in range(5)), reverse=True)
    scale = rng.uniform(0.5, 0.9) / sum(weights)
    entries = []
    for rank, (sku, weight) in enumerate(zip(rng.sample(skus, 5), weights, strict=True), 1):
        value = total * weight * scale
        entries.append(
            f"{rank}_{sku}_{value:.1f}" if money else f"{rank}_{sku}_{max(1, int(value))}"
        )
    if rng.random() < 0.4:  # as in the spec's example: "...*2_..*4_..*5_..*3_.."
        entries.append(entries.pop(2))
    return "*".join(entries)


def _part(rng: random.Random, whole: int, low: float, high: float) -> int:
    return min(whole, math.floor(whole * rng.uniform(low, high)))


def report_row(brand: Brand, instance: Instance, day: date, kind: str) -> dict:
    rng = random.Random(f"{instance.package_id}|{day.isoformat()}|{kind}")  # noqa: S311
    reach = instance.reach
    size = instance.size
    delivered = sms_outcome(instance.package_id, size)["success"] if reach else 0
    age = max(0, (day - instance.report_from.date()).days)
    decay = 0.55**age  # the response fades in the days after sending
    audience = delivered if reach else size
    uv = math.floor(audience * rng.uniform(0.01, 0.05) * decay)
    pv = uv + _part(rng, uv, 0.2, 2.0)
    sku_uv = _part(rng, uv, 0.4, 0.8)
    shop_uv = _part(rng, uv, 0.2, 0.5)
    cart = _part(rng, uv, 0.1, 0.3)
    ord_pins = _part(rng, cart, 0.3, 0.7)
    ord_num = ord_pins + _part(rng, ord_pins, 0.0, 0.2)
    ord_qtty = ord_num + _part(rng, ord_num, 0.0, 0.6)
    pay_pins = _part(rng, ord_pins, 0.7, 0.95)
    pay_num = min(ord_num, pay_pins + _part(rng, pay_pins, 0.0, 0.2))
    pay_qtty = min(ord_qtty, pay_num + _part(rng, pay_num, 0.0, 0.6))
    price = round(rng.uniform(59, 1999), 1)
    coupon = reach is not None and reach.type.startswith("COUPON")
    coupon_pins = _part(rng, delivered, 0.05, 0.15) if coupon else 0
    coupon_use = min(coupon_pins, _part(rng, pay_pins, 0.3, 0.8)) if coupon else 0
    coupon_orders = min(ord_num, coupon_use)
    skus = _skus(brand.shop_id)
    return {
        "package_id": instance.package_id,
        "shop_id": brand.shop_id,
        "reach_type": reach.type if reach else "NULL",
        "pv": pv,
        "uv": uv,
        "cart_num": cart,
        "sku_pv_num": sku_uv + _part(rng, sku_uv, 0.1, 1.5),
        "sku_uv_num": sku_uv,
        "shop_pv_num": shop_uv + _part(rng, shop_uv, 0.1, 1.0),
        "shop_uv_num": shop_uv,
        "follow_sku_num": _part(rng, uv, 0.02, 0.08),
        "follow_shop_num": _part(rng, uv, 0.01, 0.05),
        "ord_pins": ord_pins,
        "ord_amount": round(ord_qtty * price, 2),
        "ord_num": ord_num,
        "ord_qtty": ord_qtty,
        "pay_pins": pay_pins,
        "pay_amount": round(pay_qtty * price, 2),
        "pay_num": pay_num,
        "pay_qtty": pay_qtty,
        "people_sent_num": size,
        "delivered_num": delivered,
        "coupon_pins": coupon_pins,
        "coupon_use_pins": coupon_use,
        "coupon_orders": coupon_orders,
        "coupon_amount": round(coupon_orders * price * 0.9, 2),
        "browse_sku_top5": _top5(rng, skus, sku_uv * 2),
        "cart_add_top5": _top5(rng, skus, cart),
        "follow_product_top5": _top5(rng, skus, cart / 2),
        "ord_qtty_top5": _top5(rng, skus, ord_qtty),
        "ord_amount_top5": _top5(rng, skus, ord_qtty * price, money=True),
        "pay_qtty_top5": _top5(rng, skus, pay_qtty),
        "pay_amount_top5": _top5(rng, skus, pay_qtty * price, money=True),
        "op_time": format_date(day + timedelta(days=1)),
        "report_type": kind,
    }
