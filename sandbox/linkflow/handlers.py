"""Token, contacts, identities, channels and groups (spec "Private App", "联系人和事件",
"联系人", "群组"). Errors carry the code and HTTP status the spec lists for each."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from starlette.responses import Response

from sandbox.clock import format_datetime
from sandbox.linkflow.endpoint import (
    Call,
    LinkflowError,
    done,
    error,
    invalid,
    not_found,
    ok,
    required,
)
from sandbox.linkflow.population import BUILTIN_TYPES, Contact, canonical_type

MAX_PAGE_PRODUCT = 10_000
MAX_GROUP_PAGE = 500
MAX_GROUP_CONTACTS = 500
MAX_BULK_IDS = 100
# Spec "解绑用户身份": besides custom types, only these may be unbound.
UNBINDABLE = {"mobilePhone", "wechat.unionId", "wechat.openId", "wxa.openId"} | {
    "workwechat.externalUserId"
}
FIRST_CHANNEL_IDENTITY_ID = 140_992_033_742_850


def _page(call: Call, default_size: int | None) -> tuple[int, int]:
    page = call.int_query("page", 0 if default_size is not None else None)
    size = call.int_query("size", default_size, low=1)
    if page * size > MAX_PAGE_PRODUCT or size > MAX_PAGE_PRODUCT:
        raise LinkflowError(420, "B00030", "page*size必须小于等于10000")
    return page, size


# -- token ----------------------------------------------------------------------------
def token(call: Call) -> Response:
    key = call.request.headers.get("X-OpenApi-Key")
    secret = call.request.headers.get("X-OpenApi-Secret")
    if not key or call.linkflow.apps.get(key) != secret:
        return error(401, "401", "invalid App Key or App Secret")
    value, expires = call.linkflow.issue_token(key, call.now)
    return ok({"expiration": format_datetime(expires), "token": value})


# -- contacts -------------------------------------------------------------------------
def _matches(contact: Contact, text: str) -> bool:
    fields = (contact.name, contact.first("mobilePhone"), contact.first("email"))
    return any(text in value for value in fields if value)


def contacts(call: Call) -> Response:
    """`GET /open/contacts`: a page of all contacts, or of one group's, optionally searched
    (name, phone or email containing the text; an exact phone, email or member number is
    found at once)."""
    ws = call.workspace
    page, size = _page(call, 200)
    group = None
    ids: Iterable[int] = ws.contact_ids()
    if call.query("groupId"):
        group = ws.groups.get(call.int_query("groupId"))
        if group is None:
            raise not_found("group", call.query("groupId"))
        ids = (i for i in ids if group.has(i))
    search = call.query("search")
    if not search:
        window = (ws.contact(i) for i in islice(ids, page * size, (page + 1) * size))
        return ok([c.as_json() for c in window if c is not None])
    exact = next(
        (
            found
            for kind in ("mobilePhone", "email", "memberNo")
            if (found := ws.find_by_identity(kind, search)) is not None
        ),
        None,
    )
    candidates: Iterable[Contact]
    if exact is not None:
        candidates = [exact] if group is None or group.has(exact.id) else []
    else:
        candidates = (c for c in map(ws.contact, ids) if c is not None and _matches(c, search))
    return ok([c.as_json() for c in islice(candidates, page * size, (page + 1) * size)])


def contacts_cursor(call: Call) -> Response:
    last_max_id = call.int_query("lastMaxId")
    size = call.int_query("size", 200, low=1)
    if size > MAX_PAGE_PRODUCT:
        raise invalid("参数不合法: size")
    return ok([c.as_json() for c in islice(call.workspace.contacts_after(last_max_id), size)])


def contacts_bulk_ids(call: Call) -> Response:
    ws = call.workspace
    page, size = _page(call, None)
    low, high = call.moment_query("minUpdateTime"), call.moment_query("maxUpdateTime")
    anonymous = call.int_query("anonymous", 0, low=-1)
    if anonymous not in (-1, 0, 1):
        raise invalid("参数不合法: anonymous")

    def wanted(contact_id: int) -> bool:
        if anonymous != -1 and ws.is_anonymous(contact_id) != bool(anonymous):
            return False
        if low is None and high is None:
            return True
        updated = ws.updated_at(contact_id)
        return (low is None or updated >= low) and (high is None or updated <= high)

    found = (i for i in ws.contact_ids() if wanted(i))
    return ok(list(islice(found, page * size, (page + 1) * size)))


def contacts_bulk(call: Call) -> Response:
    text = call.query("ids")
    if not text:
        raise required("ids")
    try:
        ids = [int(part) for part in text.split(",") if part.strip()][:MAX_BULK_IDS]
    except ValueError as exc:
        raise invalid("参数不合法: ids") from exc
    ws = call.workspace
    channel = (ws.wechat.channel_id, ws.wechat.name) if call.query("needOpenId") == "1" else None
    found = [ws.contact(i) for i in ids]
    return ok([c.as_bulk_json(channel) for c in found if c is not None])


def _contact(call: Call, name: str) -> Contact:
    contact = call.workspace.contact(call.path_int(name))
    if contact is None:
        raise not_found("contact", call.path(name))
    return contact


# -- identities -----------------------------------------------------------------------
def contact_identities(call: Call) -> Response:
    return ok([i.as_json() for i in _contact(call, "id").identities])


def identity_contact(call: Call) -> Response:
    value, id_type = call.query("id"), call.query("idType")
    if not value or not id_type:
        raise invalid()
    contact = call.workspace.find_by_identity(id_type, value)
    return ok(contact.id if contact else None)


def _identity(value: object, name: str = "identity") -> tuple[str, str]:
    if not isinstance(value, dict) or value.get("id") in (None, "") or not value.get("type"):
        raise required(name)
    return canonical_type(str(value["type"])), str(value["id"])


def contact_all_identities(call: Call) -> Response:
    """`POST /open/contacts/identities`: the contact of one identity, with its identities
    of the asked types (all when `identityTypes` is absent or empty)."""
    body = call.json_object()
    identity_type, value = _identity(body.get("identity"))
    contact = call.workspace.find_by_identity(identity_type, value)
    if contact is None:
        raise LinkflowError(400, "B01376", "身份不存在")
    types = body.get("identityTypes") or []
    if not isinstance(types, list):
        raise invalid("参数不合法: identityTypes")
    wanted = {canonical_type(str(t)) for t in types}
    return ok(
        {
            "contactId": contact.id,
            "identities": [
                i.as_json() for i in contact.identities if not wanted or i.type in wanted
            ],
        }
    )


def unbind_identities(call: Call) -> Response:
    """`DELETE /open/contacts/identities/unbind`: all or nothing."""
    ws, body = call.workspace, call.json_object()
    if body.get("contactId") in (None, ""):
        raise required("contactId")
    identities = body.get("identities")
    if not isinstance(identities, list) or not identities:
        raise required("identities")
    try:
        contact_id = int(body["contactId"])
    except (TypeError, ValueError):
        raise not_found("contact", body["contactId"]) from None
    contact = ws.editable(contact_id)
    if contact is None:
        raise not_found("contact", contact_id)
    pairs = [_identity(item, "identities") for item in identities]
    for identity_type, value in pairs:
        if identity_type not in ws.identity_types:
            raise LinkflowError(500, "B01403", f"身份类型不存在: {identity_type}")
        if identity_type in BUILTIN_TYPES and identity_type not in UNBINDABLE:
            raise LinkflowError(500, "B01404", f"身份类型不可解绑: {identity_type}")
        if not contact.has_identity(identity_type, value):
            raise LinkflowError(500, "B01405", f"身份值不存在: {value}")
    if len(contact.identities) - len(set(pairs)) < 1:
        raise LinkflowError(500, "B01402", "解绑后联系人身份数量小于1")
    for identity_type, value in pairs:
        ws.unbind(contact, identity_type, value)
    contact.updated_at = call.now
    return done()


# -- channels -------------------------------------------------------------------------
def channel_identities(call: Call) -> Response:
    """Spec "根据联系人查询渠道账号": one entry per WeChat openId and WeCom external user."""
    ws = call.workspace
    contact = _contact(call, "id")
    stamp = format_datetime(contact.created_at)
    out = []
    for k, identity in enumerate(contact.identities):
        if identity.type == "wechat.openId":
            channel, extra = ws.wechat, {}
        elif identity.type == "workwechat.externalUserId":
            channel, extra = ws.workwechat, {"externalId": identity.value}
        else:
            continue
        out.append(
            {
                "dateCreated": stamp,
                "lastUpdated": stamp,
                "ver": 2,
                "id": FIRST_CHANNEL_IDENTITY_ID + (contact.id - ws.first_id) * 8 + k,
                "contactId": contact.id,
                "channelId": channel.id,
                "isActive": True,
                **extra,
                "channel": channel.as_json(),
            }
        )
    return ok(out)


def workwechat_qrcodes(call: Call) -> Response:
    ws = call.workspace
    if call.path("channelId") not in (ws.workwechat.channel_id, str(ws.workwechat.id)):
        raise LinkflowError(500, "B00022", "渠道不存在")
    return ok([dict(code) for code in ws.qrcodes])


def contact_groups(call: Call) -> Response:
    contact = _contact(call, "contactId")
    group_type = call.query("groupType")
    return ok(
        [
            g.as_json()
            for g in call.workspace.groups.values()
            if g.has(contact.id) and (not group_type or g.group_type == group_type)
        ]
    )


# -- groups ---------------------------------------------------------------------------
def _group(call: Call, name: str):
    group = call.workspace.groups.get(call.path_int(name))
    if group is None:
        raise not_found("group", call.path(name))
    return group


def _name(call: Call) -> str:
    name = call.json_object().get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        raise required("name")
    if not isinstance(name, str):
        raise invalid("参数不合法: name")
    return name.strip()


def groups(call: Call) -> Response:
    found = list(call.workspace.groups.values())
    if call.query("id"):
        group_id = call.int_query("id")
        found = [g for g in found if g.id == group_id]
    if call.query("name"):
        found = [g for g in found if call.query("name") in g.name]
    if call.query("groupType"):
        found = [g for g in found if g.group_type == call.query("groupType")]
    since = call.moment_query("lastUpdated")
    if since is not None:
        found = [g for g in found if g.updated_at >= since]
    for ext in ("ext1", "ext2"):
        if call.query(ext):
            found = [g for g in found if getattr(g, ext) == call.query(ext)]
    return ok([g.as_json() for g in found])


def create_group(call: Call) -> Response:
    ws, name = call.workspace, _name(call)
    body = call.body
    group_type = body.get("groupType") or "static"
    if group_type != "static":
        raise invalid("参数不合法: groupType")
    if ws.group_by_name(name):
        raise LinkflowError(400, "B00001", "群组已存在")
    if len(ws.groups) >= call.config["group_quota"]:
        raise LinkflowError(412, "B00157", "群组数量已达到上限")
    group = ws.new_group(name, group_type, call.now, body.get("ext1"), body.get("ext2"))
    return ok(group.as_json())


def rename_group(call: Call) -> Response:
    group = _group(call, "id")
    name = _name(call)
    other = call.workspace.group_by_name(name)
    if other is not None and other.id != group.id:
        raise LinkflowError(420, "B01102", "群组名已存在")
    group.name, group.updated_at = name, call.now
    return done()


def delete_group(call: Call) -> Response:
    group = _group(call, "id")
    del call.workspace.groups[group.id]
    return done()


def group_contacts(call: Call) -> Response:
    group = _group(call, "groupId")
    member_id = call.int_query("memberId", 0)
    size = call.int_query("size", MAX_GROUP_PAGE, low=1)
    if size > MAX_GROUP_PAGE:
        raise LinkflowError(400, "B00031", "size超过最大数量")
    ws = call.workspace
    out = []
    for member in group.members_after(member_id, size):
        brief = ws.brief(member.contact_id)
        if brief is not None:
            out.append(member.as_json(brief, group.id))
    return ok(out)


def _contact_ids(call: Call) -> list:
    if not isinstance(call.body, list):
        raise invalid("参数不合法: contactIds")
    if len(call.body) > MAX_GROUP_CONTACTS:
        raise LinkflowError(400, "B00031", "联系人超过最大数量")
    return call.body


def add_group_contacts(call: Call) -> Response:
    ws, group = call.workspace, _group(call, "groupId")
    success, failure = [], []
    for contact_id in _contact_ids(call):
        if isinstance(contact_id, int) and ws.exists(contact_id):
            ws.add_member(group, contact_id, call.now)
            success.append(contact_id)
        else:
            failure.append(contact_id)
    if success:
        group.updated_at = call.now
    return ok({"success": success, "failure": failure, "group": group.as_json()})


def remove_group_contacts(call: Call) -> Response:
    group = _group(call, "groupId")
    success, failure = [], []
    for contact_id in _contact_ids(call):
        if isinstance(contact_id, int) and group.remove(contact_id):
            success.append(contact_id)
        else:
            failure.append(contact_id)
    if success:
        group.updated_at = call.now
    return ok({"success": success, "failure": failure, "group": group.as_json()})
