"""The bodies of `POST /open/messages` and `POST /open/messages/orders` (spec: 创建联系人和事件,
创建/更新订单订单): builders for one message each, and the checks made before sending.

A message is `{message_id, domain, action, ts, data}`; `domain` and `action` come in fixed
pairs (contact/set, event/track on `/open/messages`; salesOrder/set on the orders path).
Timestamps are epoch milliseconds.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from portal.integrations.linkflow.auth import CHINA
from portal.integrations.linkflow.errors import LinkflowInvalidRequest

# spec: channelType "UDC、TTMP或WECHAT_WXA" (messages), "UDC、YOUZAN、YOUZANSELF" (orders)
MESSAGE_CHANNEL_TYPES = ("UDC", "TTMP", "WECHAT_WXA")
ORDER_CHANNEL_TYPES = ("UDC", "YOUZAN", "YOUZANSELF")

# spec: "当domain=contact值固定为set,当domain=event值固定为track"
MESSAGE_ACTIONS = {"contact": "set", "event": "track"}
# The orders section spells the domain `salesOrder` in its text and example and
# `salesOrders` in its table; we send the former and accept both.
ORDER_DOMAIN = "salesOrder"
ORDER_ACTIONS = {"salesOrder": "set", "salesOrders": "set"}


def epoch_ms(value: int | float | datetime | None) -> int:
    """Milliseconds since the epoch; now when `value` is None. A naive datetime is read as
    China time, like every time Linkflow writes as text."""
    if value is None:
        return int(time.time() * 1000)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=CHINA)
        return int(value.timestamp() * 1000)
    return int(value)


def _message(
    domain: str,
    action: str,
    data: Mapping[str, Any],
    *,
    ts: int | float | datetime | None,
    message_id: str | None,
) -> dict[str, Any]:
    return {
        "message_id": message_id or str(uuid.uuid4()),
        "domain": domain,
        "action": action,
        "ts": epoch_ms(ts),
        "data": dict(data),
    }


def contact_message(
    data: Mapping[str, Any],
    *,
    ts: int | float | datetime | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A contact/set message: `data` holds the contact's fields (`name`, `email`, `utm`,
    `props` for custom attributes, …) as the spec spells them."""
    return _message("contact", "set", data, ts=ts, message_id=message_id)


def event_message(
    event: str,
    *,
    props: Mapping[str, Any] | None = None,
    event_date: int | float | datetime | None = None,
    ts: int | float | datetime | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """An event/track message for `event` (e.g. "WECHAT_WXA__HIDE"); `event_date` (when it
    happened) defaults to `ts` (when it is sent), which defaults to now."""
    sent = epoch_ms(ts)
    data: dict[str, Any] = {
        "event": event,
        "eventDate": epoch_ms(event_date) if event_date is not None else sent,
    }
    if props is not None:
        data["props"] = dict(props)
    return _message("event", "track", data, ts=sent, message_id=message_id)


def order_message(
    order: Mapping[str, Any],
    *,
    ts: int | float | datetime | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A salesOrder/set message: `order` is the order head (`orderId`, `orderDate`,
    `saleChannel`, `orderStatus`, …, datetimes as "yyyy-MM-dd HH:mm:ss") with its `lines`."""
    return _message(ORDER_DOMAIN, "set", order, ts=ts, message_id=message_id)


def _invalid(endpoint: str, field: str, message: str) -> LinkflowInvalidRequest:
    return LinkflowInvalidRequest(message, endpoint=endpoint, field=field)


def check_identities(identities: Sequence[Mapping[str, Any]], *, endpoint: str) -> list[dict]:
    """At least one `{id, type}`, both present (spec: identities, id / type required)."""
    if isinstance(identities, Mapping) or not identities:
        raise _invalid(endpoint, "identities", "at least one {id, type} is required")
    checked = []
    for index, identity in enumerate(identities):
        if not isinstance(identity, Mapping):
            raise _invalid(endpoint, f"identities[{index}]", "must be an object {id, type}")
        for name in ("id", "type"):
            if identity.get(name) in (None, ""):
                raise _invalid(endpoint, f"identities[{index}].{name}", "is required")
        checked.append({"id": str(identity["id"]), "type": str(identity["type"])})
    return checked


def check_messages(
    messages: Sequence[Mapping[str, Any]],
    *,
    actions: Mapping[str, str],
    endpoint: str,
) -> list[dict]:
    """Each message has a documented domain/action pair, a `ts` and a `data` object."""
    if isinstance(messages, Mapping) or not messages:
        raise _invalid(endpoint, "messages", "at least one message is required")
    checked = []
    for index, message in enumerate(messages):
        field = f"messages[{index}]"
        if not isinstance(message, Mapping):
            raise _invalid(endpoint, field, "must be an object")
        domain, action = message.get("domain"), message.get("action")
        if domain not in actions:
            raise _invalid(
                endpoint, f"{field}.domain", f"{domain!r} is not one of {sorted(actions)}"
            )
        if action != actions[domain]:
            raise _invalid(
                endpoint, f"{field}.action", f"domain {domain} takes action {actions[domain]}"
            )
        if message.get("ts") in (None, ""):
            raise _invalid(endpoint, f"{field}.ts", "is required")
        if not isinstance(message.get("data"), Mapping):
            raise _invalid(endpoint, f"{field}.data", "must be an object")
        checked.append(dict(message))
    return checked


def check_orders(messages: list[dict], *, endpoint: str) -> None:
    """The required fields of an order head and its lines (spec: salesOrderHead: orderId,
    orderDate; salesOrderLine: lineId). saleChannel / orderStatus are required only when
    the order is created, which only Linkflow knows."""
    for index, message in enumerate(messages):
        data = message["data"]
        for name in ("orderId", "orderDate"):
            if data.get(name) in (None, ""):
                raise _invalid(endpoint, f"messages[{index}].data.{name}", "is required")
        lines = data.get("lines") or []
        if not isinstance(lines, list):
            raise _invalid(endpoint, f"messages[{index}].data.lines", "must be a list")
        for number, line in enumerate(lines):
            if not isinstance(line, Mapping) or line.get("lineId") in (None, ""):
                raise _invalid(
                    endpoint, f"messages[{index}].data.lines[{number}].lineId", "is required"
                )


def check_channel_type(channel_type: str, allowed: Sequence[str], *, endpoint: str) -> str:
    if channel_type not in allowed:
        raise _invalid(endpoint, "channelType", f"{channel_type!r} is not one of {list(allowed)}")
    return channel_type
