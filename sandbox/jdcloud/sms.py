"""SMS (spec "短信相关"): short links, templates, signatures, balance and the ledger."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qs, urlsplit

from sandbox.catalog import SMS_TEMPLATES
from sandbox.jdcloud.envelope import (
    CODE_INT,
    RESULT_KEY,
    ApiError,
    Params,
    brand_of,
    endpoint,
    page_of,
)
from sandbox.state import LedgerEntry, SandboxState

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def short_code(text: str, length: int = 7) -> str:
    """Deterministic: the same long URL always gets the same short one."""
    number = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:12], "big")
    out = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        out.append(BASE62[digit])
    return "".join(out)


def check_tracked_url(url: str) -> None:
    """Spec "长链接转换成短链接": utm_source and utm_campaign in the query string,
    utm_campaign with two underscores (包ID_店铺ID_SKU), and a "/" before "?" when the
    query follows the domain directly."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiError(f"url格式错误:{url!r},应为http或https开头的完整地址")
    if parts.query and not parts.path:
        raise ApiError(
            f'url格式错误:域名后直接加请求参数时,需要在"?"之前加上"/",如{parts.scheme}://{parts.netloc}/?{parts.query}'
        )
    query = parse_qs(parts.query)
    for name in ("utm_source", "utm_campaign"):
        if not query.get(name, [""])[0]:
            raise ApiError(f"url的querystring中必须包含{name}")
    campaign = query["utm_campaign"][0]
    if campaign.count("_") < 2:
        raise ApiError(f"utm_campaign必须包含2个下划线(包ID_店铺ID_SKU),收到{campaign!r}")


@endpoint(RESULT_KEY)
def shorturl_create(state: SandboxState, params: Params) -> dict:
    url = params.text("url", max_length=2000)
    check_tracked_url(url)
    short = f"3.cn/{short_code(url)}"
    state.short_urls[short] = url
    return {"short_url": short}


@endpoint(CODE_INT)
def sms_templates(state: SandboxState, params: Params) -> list:
    brand_of(state, params)
    domain = params.int_choice("type", (1, 2))
    return [
        {**template, "template_params": json.dumps(template["template_params"])}
        for template in SMS_TEMPLATES[domain]
    ]


@endpoint(CODE_INT)
def sms_signature(state: SandboxState, params: Params) -> list:
    """Spec "获取短信签名列表": only private signatures exist here (type fixed to 2)."""
    brand = brand_of(state, params)
    domain = params.int_choice("type", (1, 2))
    if domain != 2:
        raise ApiError("参数type固定传2:公域签名只有【京东】,只能获取私域签名列表")
    return [{"type": 2, **signature} for signature in brand.signatures]


@endpoint(CODE_INT)
def sms_balance(state: SandboxState, params: Params) -> dict:
    brand = brand_of(state, params)
    return {"public_balance": brand.public_balance, "private_balance": brand.private_balance}


def _ledger_page(entries: list[LedgerEntry], params: Params, render) -> dict:
    start = params.moment("start_date", required=False)
    end = params.moment("end_date", required=False)
    if start and end and start > end:
        raise ApiError("start_date不能晚于end_date")
    # Not in the tables, but the spec's /sms/consume example sends `type=2`: a filter.
    domain = params.int_choice("type", (1, 2), required=False)
    chosen = [
        entry
        for entry in entries
        if (start is None or entry.created_at >= start)
        and (end is None or entry.created_at <= end)
        and (domain is None or entry.type == domain)
    ]
    chosen.sort(key=lambda entry: entry.created_at, reverse=True)
    page = page_of(chosen, params)
    page["result"] = [render(entry) for entry in page["result"]]
    return page


@endpoint(CODE_INT)
def sms_recharge(state: SandboxState, params: Params) -> dict:
    brand = brand_of(state, params)
    return _ledger_page(brand.recharges, params, LedgerEntry.as_recharge)


@endpoint(CODE_INT)
def sms_consume(state: SandboxState, params: Params) -> dict:
    brand = brand_of(state, params)
    return _ledger_page(brand.consumptions, params, LedgerEntry.as_consume)
