"""Contacts, events and orders sent to Linkflow, and the order list (spec "创建联系人和事件",
"创建/更新订单订单", "获取订单列表").

The identities of a request find its contact (the first one known wins) or create one;
every identity is then bound to that contact. Each message is kept in the workspace's
message log (`GET /_control/linkflow/messages`) with the request's `request_id`, its
`message_id` and `duplicate` (true when either was seen before), so a test can see what
the portal wrote back and whether it sent something twice. Duplicates are applied again
(the writes are idempotent), as the sandbox cannot know which copy a client meant.
"""

from __future__ import annotations

from itertools import islice

from starlette.responses import Response

from sandbox.linkflow.endpoint import Call, LinkflowError, done, invalid, ok
from sandbox.linkflow.population import Contact
from sandbox.linkflow.state import Workspace

MESSAGE_CHANNEL_TYPES = {"UDC", "TTMP", "WECHAT_WXA"}
ORDER_CHANNEL_TYPES = {"UDC", "YOUZAN", "YOUZANSELF"}
DOMAIN_ACTIONS = {"contact": "set", "event": "track"}
# The spec's example says "salesOrder", its table "salesOrders": both are taken.
ORDER_DOMAINS = {"salesOrder", "salesOrders"}
PROFILE_FIELDS = {"name": "name", "gender": "gender", "nickname": "nickname"}
IDENTITY_FIELDS = {"mobilePhone": "mobilePhone", "email": "email", "idCard": "idCard"}
ORDER_PAGE_SIZE = 100
MAX_ORDER_PAGES = 100


def _validate(body, channel_types: set[str]) -> tuple[list[dict], list[dict]]:
    if not isinstance(body, dict):
        raise invalid()
    if not isinstance(body.get("channelKey"), str) or not body["channelKey"]:
        raise invalid("参数不合法: channelKey")
    if (body.get("channelType") or "UDC") not in channel_types:
        raise invalid("参数不合法: channelType")
    identities, messages = body.get("identities"), body.get("messages")
    if not isinstance(identities, list) or not identities:
        raise invalid("参数不合法: identities")
    for identity in identities:
        if not isinstance(identity, dict) or not identity.get("id") or not identity.get("type"):
            raise invalid("参数不合法: identities")
    if not isinstance(messages, list) or not messages:
        raise invalid("参数不合法: messages")
    for message in messages:
        if not isinstance(message, dict):
            raise invalid("参数不合法: messages")
        if message.get("ts") in (None, "") or not isinstance(message.get("data"), dict):
            raise invalid("参数不合法: ts/data")
    return identities, messages


def _contact_for(ws: Workspace, identities: list[dict], call: Call) -> Contact:
    contact = None
    for identity in identities:
        contact = ws.find_by_identity(str(identity["type"]), str(identity["id"]))
        if contact is not None:
            break
    contact = ws.new_contact(call.now) if contact is None else ws.editable(contact.id)
    for identity in identities:
        ws.bind(contact, str(identity["type"]), str(identity["id"]), call.now)
    return contact


def _log(call: Call, body: dict, contact: Contact, messages: list[dict]) -> None:
    ws = call.workspace
    request_id = body.get("request_id")
    repeated_request = request_id is not None and request_id in ws.seen_requests
    if request_id is not None:
        ws.seen_requests.add(request_id)
    for message in messages:
        message_id = message.get("message_id")
        repeated = repeated_request or (message_id is not None and message_id in ws.seen_messages)
        if message_id is not None:
            ws.seen_messages.add(message_id)
        ws.messages.append(
            {
                "endpoint": call.request.scope["path"],
                "received_at": call.now.isoformat(),
                "request_id": request_id,
                "channelKey": body["channelKey"],
                "channelType": body.get("channelType") or "UDC",
                "identities": body["identities"],
                "contactId": contact.id,
                "duplicate": repeated,
                **message,
            }
        )


def post_messages(call: Call) -> Response:
    identities, messages = _validate(call.body, MESSAGE_CHANNEL_TYPES)
    for message in messages:
        domain = message.get("domain")
        if domain not in DOMAIN_ACTIONS or message.get("action") != DOMAIN_ACTIONS[domain]:
            raise invalid("参数不合法: domain/action")
        if domain == "event" and not message["data"].get("event"):
            raise invalid("参数不合法: event")
    ws = call.workspace
    ws.channel_for_key(call.body["channelKey"], call.body.get("channelType") or "UDC")
    contact = _contact_for(ws, identities, call)
    for message in messages:
        if message["domain"] != "contact":
            continue
        data = message["data"]
        for key, attribute in PROFILE_FIELDS.items():
            if isinstance(data.get(key), str):
                setattr(contact, attribute, data[key])
        for key, identity_type in IDENTITY_FIELDS.items():
            if isinstance(data.get(key), str) and data[key]:
                ws.replace_identity(contact, identity_type, data[key], call.now)
        if isinstance(data.get("props"), dict):
            contact.props.update(data["props"])
        if isinstance(data.get("utm"), dict):
            contact.utm.update({k: v for k, v in data["utm"].items() if v})
        contact.updated_at = call.now
    _log(call, call.body, contact, messages)
    return done()


def post_orders(call: Call) -> Response:
    """`POST /open/messages/orders`: create or update orders (by `orderId`)."""
    identities, messages = _validate(call.body, ORDER_CHANNEL_TYPES)
    ws = call.workspace
    for message in messages:
        if message.get("domain") not in ORDER_DOMAINS or message.get("action") != "set":
            raise invalid("参数不合法: domain/action")
        data = message["data"]
        if data.get("orderId") in (None, ""):
            raise invalid("参数不合法: orderId")
        if str(data["orderId"]) not in ws.orders.orders:
            for name in ("saleChannel", "orderStatus", "orderDate"):
                if data.get(name) in (None, ""):
                    raise invalid(f"参数不合法: {name}(创建时必填)")
        lines = data.get("lines") or []
        if not isinstance(lines, list) or not all(
            isinstance(line, dict) and line.get("lineId") not in (None, "") for line in lines
        ):
            raise invalid("参数不合法: lines.lineId")
    channel_type = call.body.get("channelType") or "UDC"
    channel = ws.channel_for_key(call.body["channelKey"], channel_type)
    contact = _contact_for(ws, identities, call)
    for message in messages:
        ws.orders.upsert(
            data=message["data"],
            contact_id=contact.id,
            channel_id=channel.id,
            channel_type=channel_type,
            now=call.now,
        )
    _log(call, call.body, contact, messages)
    return done()


def orders(call: Call) -> Response:
    """`GET /open/orders`: by cursor (`lastMaxId`: the next orders by id) or by page
    (`page` from 1, at most 100, over the update time window [startTime, endTime)).
    Both answer at most 100 orders; without any parameter, the cursor from 0."""
    book = call.workspace.orders.by_id()
    paged = any(call.query(name) for name in ("startTime", "endTime", "page"))
    if call.query("lastMaxId") is not None or not paged:
        last = call.int_query("lastMaxId", 0)
        found = (o for o in book if o.id > last)
        return ok([o.as_json() for o in islice(found, ORDER_PAGE_SIZE)])
    page = call.int_query("page", 1, low=1)
    if page > MAX_ORDER_PAGES:
        raise LinkflowError(500, "B00093", "超过最大页数")
    start, end = call.moment_query("startTime"), call.moment_query("endTime")
    found = sorted(
        (
            o
            for o in book
            if (start is None or o.updated_at >= start) and (end is None or o.updated_at < end)
        ),
        key=lambda o: (o.updated_at, o.id),
    )
    window = found[(page - 1) * ORDER_PAGE_SIZE : page * ORDER_PAGE_SIZE]
    return ok([o.as_json() for o in window])
