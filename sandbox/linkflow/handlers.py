"""Linkflow Open API handlers (spec: Linkflow开放接口指南).

Errors use the spec's body `{"code": "B000xx", "message": ...}` with the HTTP status the
spec lists next to each code; an absent, unknown or expired `X-OpenApi-Token` is HTTP 401
`{"code": "401", "message": ...}`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.clock import CST, format_datetime
from sandbox.linkflow.state import GROUP_LIMIT, LinkflowState

JSON_UTF8 = "application/json;charset=UTF-8"
MAX_PAGE_PRODUCT = 10_000
MAX_GROUP_PAGE = 500
MAX_GROUP_CONTACTS = 500
MAX_BULK_IDS = 100
CHANNEL_TYPES = {"UDC", "TTMP", "WECHAT_WXA"}
DOMAIN_ACTIONS = {"contact": "set", "event": "track"}


class LinkflowError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def ok(data) -> JSONResponse:
    return JSONResponse(data, media_type=JSON_UTF8)


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message}, status_code=status, media_type=JSON_UTF8
    )


def invalid(message: str = "参数不合法") -> LinkflowError:
    return LinkflowError(500, "B00010", message)


def state_for(request: Request) -> LinkflowState:
    """The Linkflow state, re-seeded from the sandbox seed after every sandbox reset."""
    sandbox = request.app.state.sandbox
    linkflow = getattr(request.app.state, "linkflow", None)
    if linkflow is None:
        linkflow = request.app.state.linkflow = LinkflowState()
    if linkflow.generation is not sandbox.rng_ids:
        linkflow.reset(sandbox.seed, sandbox.now())
        linkflow.generation = sandbox.rng_ids
    return linkflow


def now_of(request: Request) -> datetime:
    return request.app.state.sandbox.now()


Handler = Callable[[Request, LinkflowState, Any], Awaitable[Response]]


def endpoint(handler: Handler, *, auth: bool = True):
    async def view(request: Request) -> Response:
        sandbox = request.app.state.sandbox
        async with sandbox.lock:
            linkflow = state_for(request)
            if auth and not linkflow.token_valid(
                request.headers.get("X-OpenApi-Token"), now_of(request)
            ):
                return error(401, "401", "invalid or expired access token")
        try:
            body = await _body(request)
            async with sandbox.lock:
                return await handler(request, linkflow, body)
        except LinkflowError as exc:
            return error(exc.status, exc.code, exc.message)

    return view


async def _body(request: Request):
    if request.method not in ("POST", "PUT", "DELETE"):
        return None
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise invalid("请求体不是合法的JSON") from exc


def _int(request: Request, name: str, default: int | None = None, *, low: int = 0) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        if default is None:
            raise LinkflowError(500, "B00002", f"必填参数为空: {name}")
        return default
    try:
        value = int(text)
    except ValueError as exc:
        raise invalid(f"参数不合法: {name}") from exc
    if value < low:
        raise invalid(f"参数不合法: {name}")
    return value


def _path_id(request: Request, name: str) -> int:
    try:
        return int(request.path_params[name])
    except ValueError as exc:
        raise invalid(f"参数不合法: {name}") from exc


def _moment(text: str, name: str) -> datetime:
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).replace(tzinfo=CST)
        except ValueError:
            continue
    raise invalid(f"参数不合法: {name}")


def _page(request: Request, default_size: int | None) -> tuple[int, int]:
    page = _int(request, "page", 0 if default_size is not None else None)
    size = _int(request, "size", default_size, low=1)
    if page * size > MAX_PAGE_PRODUCT or size > MAX_PAGE_PRODUCT:
        raise LinkflowError(420, "B00030", "page*size必须小于等于10000")
    return page, size


# -- token ----------------------------------------------------------------------------
async def token(request: Request, linkflow: LinkflowState, body) -> Response:
    key = request.headers.get("X-OpenApi-Key")
    secret = request.headers.get("X-OpenApi-Secret")
    if not key or linkflow.apps.get(key) != secret:
        return error(401, "401", "invalid App Key or App Secret")
    value, expires = linkflow.issue_token(now_of(request))
    return ok({"expiration": format_datetime(expires), "token": value})


# -- contacts -------------------------------------------------------------------------
async def contacts(request: Request, linkflow: LinkflowState, body) -> Response:
    page, size = _page(request, 200)
    found = list(linkflow.contacts.values())
    if request.query_params.get("groupId"):
        group = linkflow.groups.get(_int(request, "groupId"))
        if group is None:
            raise LinkflowError(404, "B00008", "群组不存在")
        found = [c for c in found if c.id in group.members]
    search = request.query_params.get("search")
    if search:
        found = [
            c
            for c in found
            if search in c.name or search in (c.mobile_phone or "") or search in (c.email or "")
        ]
    return ok([c.as_json() for c in found[page * size : (page + 1) * size]])


async def contacts_cursor(request: Request, linkflow: LinkflowState, body) -> Response:
    last_max_id = _int(request, "lastMaxId")
    size = _int(request, "size", 200, low=1)
    if size > MAX_PAGE_PRODUCT:
        raise invalid("参数不合法: size")
    found = sorted(c for c in linkflow.contacts if c > last_max_id)[:size]
    return ok([linkflow.contacts[c].as_json() for c in found])


async def contacts_bulk_ids(request: Request, linkflow: LinkflowState, body) -> Response:
    page, size = _page(request, None)
    query = request.query_params
    low = _moment(query["minUpdateTime"], "minUpdateTime") if query.get("minUpdateTime") else None
    high = _moment(query["maxUpdateTime"], "maxUpdateTime") if query.get("maxUpdateTime") else None
    anonymous = _int(request, "anonymous", 0, low=-1)
    if anonymous not in (-1, 0, 1):
        raise invalid("参数不合法: anonymous")
    found = [
        c.id
        for c in linkflow.contacts.values()
        if (low is None or c.updated_at >= low)
        and (high is None or c.updated_at <= high)
        and (anonymous == -1 or c.is_anonymous == bool(anonymous))
    ]
    return ok(found[page * size : (page + 1) * size])


async def contacts_bulk(request: Request, linkflow: LinkflowState, body) -> Response:
    text = request.query_params.get("ids")
    if not text:
        raise LinkflowError(500, "B00002", "必填参数为空: ids")
    try:
        ids = [int(part) for part in text.split(",") if part.strip()][:MAX_BULK_IDS]
    except ValueError as exc:
        raise invalid("参数不合法: ids") from exc
    need_open_id = request.query_params.get("needOpenId") == "1"
    return ok(
        [linkflow.contacts[i].as_bulk_json(need_open_id) for i in ids if i in linkflow.contacts]
    )


def _contact(request: Request, linkflow: LinkflowState, name: str):
    contact = linkflow.contacts.get(_path_id(request, name))
    if contact is None:
        raise LinkflowError(404, "B00008", "联系人id不存在")
    return contact


async def contact_identities(request: Request, linkflow: LinkflowState, body) -> Response:
    return ok(_contact(request, linkflow, "id").identities())


async def identity_contact(request: Request, linkflow: LinkflowState, body) -> Response:
    value, id_type = request.query_params.get("id"), request.query_params.get("idType")
    if not value or not id_type:
        raise invalid()
    contact = linkflow.find_by_identity(id_type, value)
    return ok(contact.id if contact else None)


async def contact_groups(request: Request, linkflow: LinkflowState, body) -> Response:
    contact = _contact(request, linkflow, "contactId")
    group_type = request.query_params.get("groupType")
    return ok(
        [
            g.as_json()
            for g in linkflow.groups.values()
            if contact.id in g.members and (not group_type or g.group_type == group_type)
        ]
    )


# -- groups ---------------------------------------------------------------------------
def _group(request: Request, linkflow: LinkflowState, name: str):
    group = linkflow.groups.get(_path_id(request, name))
    if group is None:
        raise LinkflowError(404, "B00008", "群组不存在")
    return group


def _name(body) -> str:
    if not isinstance(body, dict):
        raise invalid()
    name = body.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        raise LinkflowError(500, "B00002", "必填参数为空: name")
    if not isinstance(name, str):
        raise invalid("参数不合法: name")
    return name.strip()


async def groups(request: Request, linkflow: LinkflowState, body) -> Response:
    query = request.query_params
    found = list(linkflow.groups.values())
    if query.get("id"):
        group_id = _int(request, "id")
        found = [g for g in found if g.id == group_id]
    if query.get("name"):
        found = [g for g in found if query["name"] in g.name]
    if query.get("groupType"):
        found = [g for g in found if g.group_type == query["groupType"]]
    if query.get("lastUpdated"):
        since = _moment(query["lastUpdated"], "lastUpdated")
        found = [g for g in found if g.updated_at >= since]
    for ext in ("ext1", "ext2"):
        if query.get(ext):
            found = [g for g in found if getattr(g, ext) == query[ext]]
    return ok([g.as_json() for g in found])


async def create_group(request: Request, linkflow: LinkflowState, body) -> Response:
    name = _name(body)
    group_type = body.get("groupType") or "static"
    if group_type != "static":
        raise invalid("参数不合法: groupType")
    if linkflow.group_by_name(name):
        raise LinkflowError(400, "B00001", "群组已存在")
    if len(linkflow.groups) >= GROUP_LIMIT:
        raise LinkflowError(412, "B00157", "群组数量已达到上限")
    group = linkflow.new_group(
        name, group_type, now_of(request), body.get("ext1"), body.get("ext2")
    )
    return ok(group.as_json())


async def rename_group(request: Request, linkflow: LinkflowState, body) -> Response:
    group = _group(request, linkflow, "id")
    name = _name(body)
    other = linkflow.group_by_name(name)
    if other is not None and other.id != group.id:
        raise LinkflowError(420, "B01102", "群组名已存在")
    group.name = name
    group.updated_at = now_of(request)
    return Response(status_code=200)


async def delete_group(request: Request, linkflow: LinkflowState, body) -> Response:
    group = _group(request, linkflow, "id")
    del linkflow.groups[group.id]
    return Response(status_code=200)


async def group_contacts(request: Request, linkflow: LinkflowState, body) -> Response:
    group = _group(request, linkflow, "groupId")
    member_id = _int(request, "memberId", 0)
    size = _int(request, "size", MAX_GROUP_PAGE, low=1)
    if size > MAX_GROUP_PAGE:
        raise LinkflowError(400, "B00031", "size超过最大数量")
    members = sorted(
        (m for m in group.members.values() if m.member_id > member_id), key=lambda m: m.member_id
    )[:size]
    return ok(
        [
            {
                "lastUpdated": format_datetime(m.created_at),
                "dateCreated": format_datetime(m.created_at),
                "contact": linkflow.contacts[m.contact_id].brief(),
                "contactGroupId": group.id,
                "version": None,
                "memberId": m.member_id,
            }
            for m in members
            if m.contact_id in linkflow.contacts
        ]
    )


def _contact_ids(body) -> list:
    if not isinstance(body, list):
        raise invalid("参数不合法: contactIds")
    if len(body) > MAX_GROUP_CONTACTS:
        raise LinkflowError(400, "B00031", "联系人超过最大数量")
    return body


async def add_group_contacts(request: Request, linkflow: LinkflowState, body) -> Response:
    group = _group(request, linkflow, "groupId")
    success, failure = [], []
    now = now_of(request)
    for contact_id in _contact_ids(body):
        if isinstance(contact_id, int) and contact_id in linkflow.contacts:
            linkflow.add_member(group, contact_id, now)
            success.append(contact_id)
        else:
            failure.append(contact_id)
    if success:
        group.updated_at = now
    return ok({"success": success, "failure": failure, "group": group.as_json()})


async def remove_group_contacts(request: Request, linkflow: LinkflowState, body) -> Response:
    group = _group(request, linkflow, "groupId")
    success, failure = [], []
    for contact_id in _contact_ids(body):
        if isinstance(contact_id, int) and group.members.pop(contact_id, None) is not None:
            success.append(contact_id)
        else:
            failure.append(contact_id)
    if success:
        group.updated_at = now_of(request)
    return ok({"success": success, "failure": failure, "group": group.as_json()})


# -- messages -------------------------------------------------------------------------
IDENTITY_FIELDS = {"mobile": "mobile_phone", "email": "email", "idCard": "id_card"}
CONTACT_FIELDS = {
    "name": "name",
    "gender": "gender",
    "mobilePhone": "mobile_phone",
    "email": "email",
}


def _validate_messages(body) -> tuple[list[dict], list[dict]]:
    if not isinstance(body, dict):
        raise invalid()
    if not isinstance(body.get("channelKey"), str) or not body["channelKey"]:
        raise invalid("参数不合法: channelKey")
    if (body.get("channelType") or "UDC") not in CHANNEL_TYPES:
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
        domain = message.get("domain")
        if domain not in DOMAIN_ACTIONS or message.get("action") != DOMAIN_ACTIONS[domain]:
            raise invalid("参数不合法: domain/action")
        if message.get("ts") in (None, "") or not isinstance(message.get("data"), dict):
            raise invalid("参数不合法: ts/data")
        if domain == "event" and not message["data"].get("event"):
            raise invalid("参数不合法: event")
    return identities, messages


async def post_messages(request: Request, linkflow: LinkflowState, body) -> Response:
    identities, messages = _validate_messages(body)
    now = now_of(request)
    contact = None
    for identity in identities:
        contact = linkflow.find_by_identity(str(identity["type"]), str(identity["id"]))
        if contact:
            break
    if contact is None:
        contact = linkflow.new_contact(now)
    for identity in identities:
        attribute = IDENTITY_FIELDS.get(str(identity["type"]))
        if attribute and not getattr(contact, attribute):
            setattr(contact, attribute, str(identity["id"]))
    for message in messages:
        if message["domain"] == "contact":
            data = message["data"]
            for key, attribute in CONTACT_FIELDS.items():
                if isinstance(data.get(key), str):
                    setattr(contact, attribute, data[key])
            if isinstance(data.get("props"), dict):
                contact.props.update(data["props"])
            contact.updated_at = now
        linkflow.messages.append(
            {
                "request_id": body.get("request_id"),
                "channelKey": body["channelKey"],
                "channelType": body.get("channelType") or "UDC",
                "contactId": contact.id,
                **message,
            }
        )
    return Response(status_code=200)
