"""Linkflow's documented error codes, as the running sandbox answers them over real HTTP,
raised by the client as `LinkflowRejected` with that code, that HTTP status and the
endpoint, sent once and never retried (even a B-code with HTTP 500 on a read); and the
documented limits, refused before anything is sent."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from portal.integrations.linkflow.client import contact_message, event_message, order_message
from portal.integrations.linkflow.errors import (
    DOCUMENTED_CODES,
    LinkflowInvalidRequest,
    LinkflowLimitExceeded,
    LinkflowRejected,
)
from tests.integrations.linkflow_sandboxed import LinkflowSandbox, has

MISSING = 99_999  # no group, report, dashboard or export task has this id
NOBODY = 1  # no contact has this id
UNKNOWN_PHONE = "12100000001"
UPLOAD = "/v1/tags/tagkeys/{tagKey}/upload/file/operates/{operate}"
CALCULATE = "/v1/tags/tagkeys/{tagKey}/calculate"
EXPORT = "/v1/tags/tagkeys/{tagKey}/export"
UNBIND = "/open/contacts/identities/unbind"
MEMBERS = "/open/groups/{groupId}/contacts"
DIM = "/open/dim/{dimensionId}/data"


@pytest.fixture
def lf(control) -> LinkflowSandbox:
    return LinkflowSandbox.reset(control)


@dataclass(frozen=True)
class Refusal:
    code: str
    status: int
    endpoint: str
    call: Callable[[LinkflowSandbox], Any]
    setup: Callable[[LinkflowSandbox], Any] | None = None
    sent_code: str | None = None  # the code as Linkflow spells it, when not `code`

    @property
    def id(self) -> str:
        return f"{self.code}-{self.endpoint}"


def unbind(lf: LinkflowSandbox, contact, *pairs: tuple[str, str]) -> None:
    lf.client.contact_identity_unbind(
        contact_id=contact.id, identities=[{"type": t, "id": v} for t, v in pairs]
    )


def new_tag(lf: LinkflowSandbox, **fields) -> dict:
    return lf.client.tag_create(
        **{
            "tag_key": "tag_new",
            "tag_name": "新标签",
            "data_type": "text",
            "identity_type": "mobilePhone",
            **fields,
        }
    )


def with_email(lf: LinkflowSandbox):
    return lf.find_contact(has("mobilePhone", "email"))


REFUSALS = [
    Refusal("B00001", 400, "/open/groups", lambda lf: lf.client.group_create(name="618潜在客户")),
    Refusal("B00002", 500, "/open/groups", lambda lf: lf.client.group_create(name="   ")),
    *[
        Refusal("B00008", 404, endpoint, call)
        for endpoint, call in [
            ("/open/groups/{id}", lambda lf: lf.client.group_rename(group_id=MISSING, name="x")),
            ("/open/groups/{id}", lambda lf: lf.client.group_delete(group_id=MISSING)),
            (MEMBERS, lambda lf: lf.client.group_members(group_id=MISSING)),
            (MEMBERS, lambda lf: lf.client.group_members_add(group_id=MISSING, contact_ids=[1])),
            (MEMBERS, lambda lf: lf.client.group_members_remove(group_id=MISSING, contact_ids=[1])),
            ("/open/contacts", lambda lf: lf.client.contacts(group_id=MISSING)),
            (
                "/open/contacts/{id}/identities",
                lambda lf: lf.client.contact_identities(contact_id=NOBODY),
            ),
            (
                "/open/contacts/{id}/channel_identities",
                lambda lf: lf.client.channel_identities(contact_id=NOBODY),
            ),
            (
                "/open/contacts/{contactId}/groups",
                lambda lf: lf.client.contact_groups(contact_id=NOBODY),
            ),
            (
                UNBIND,
                lambda lf: lf.client.contact_identity_unbind(
                    contact_id=NOBODY, identities=[{"id": "x", "type": "email"}]
                ),
            ),
            ("/open/report/{reportId}", lambda lf: lf.client.report(report_id=MISSING)),
            (
                "/open/dashboard/{dashboardId}/summary",
                lambda lf: lf.client.dashboard(dashboard_id=MISSING),
            ),
            (
                "/v1/tags/tagkeys/export/{taskId}",
                lambda lf: lf.client.tag_export_status(task_id=MISSING),
            ),
        ]
    ],
    # the spec's own example of this refusal answers 420 (its table says 500)
    Refusal(
        "B00008",
        420,
        "/open/shorturl/distribute",
        lambda lf: lf.client.short_url_distribute(url="https://x.example.com", contact_id=NOBODY),
    ),
    Refusal(
        "B00010",
        500,
        "/open/groups",
        lambda lf: lf.client.group_create(name="动态", group_type="dynamic"),
    ),
    Refusal(
        "B00010",
        500,
        "/open/shorturl",
        lambda lf: lf.client.short_url(url="ftp://files.example.com/a"),
    ),
    Refusal("B00010", 500, "/v1/tags", lambda lf: new_tag(lf, identity_type="noSuchType")),
    Refusal(
        "B00010",
        500,
        "/v1/tags/value",
        lambda lf: lf.client.tag_values(
            id_type="email",
            id_value=with_email(lf).first("email"),
            actions=[{"tagId": lf.model.tags["tag_gjz"].tag_id, "action": "set", "value": "maybe"}],
        ),
    ),
    Refusal(
        "B00022",
        500,
        "/open/workwechat/{channelId}/qrcodes",
        lambda lf: lf.client.workwechat_qrcodes(channel_id="ww_unknown"),
    ),
    # /open/contacts: the spec documents the limit for contacts_bulk/ids only; the sandbox
    # (as Linkflow) applies it to the contact list too, and the client does not check it there
    Refusal("B00030", 420, "/open/contacts", lambda lf: lf.client.contacts(page=51, size=200)),
    Refusal(
        "B00031",
        400,
        MEMBERS,
        lambda lf: lf.client.group_members_add(
            group_id=100, contact_ids=range(lf.model.first_id, lf.model.first_id + 501)
        ),
    ),
    Refusal(
        "B00031",
        400,
        MEMBERS,
        lambda lf: lf.client.group_members_remove(
            group_id=100, contact_ids=range(lf.model.first_id, lf.model.first_id + 501)
        ),
    ),
    Refusal(
        "B00037",
        500,
        "/v1/tags",
        new_tag,
        setup=lambda lf: lf.configure(tag_quota=len(lf.model.tags)),
    ),
    Refusal(
        "B00043",
        500,
        DIM,
        lambda lf: lf.client.dimension_data(dimension_id="dim_nope", rows=[{"id": "1"}]),
    ),
    Refusal(
        "B00157",
        412,
        "/open/groups",
        lambda lf: lf.client.group_create(name="满了"),
        setup=lambda lf: lf.configure(group_quota=len(lf.model.groups)),
    ),
    Refusal(
        "B00159",
        500,
        "/v1/tags",
        lambda lf: new_tag(lf, identity_type="externalId", channel_id=MISSING),
    ),
    Refusal(
        "B00159",
        500,
        EXPORT,
        lambda lf: lf.client.tag_export(
            tag_key="tag_yhxb", identity_type="externalId", channel_id=MISSING
        ),
    ),
    Refusal(
        "B01102",
        420,
        "/open/groups/{id}",
        lambda lf: lf.client.group_rename(group_id=lf.group("618潜在客户").id, name="关注用户"),
    ),
    Refusal("B01151", 500, "/v1/tags", lambda lf: new_tag(lf, tag_key="tag_yhxb")),
    Refusal(
        "B01152",
        500,
        CALCULATE,
        lambda lf: lf.client.tag_calculate(tag_key="tag_878"),
        setup=lambda lf: lf.client.tag_calculate(tag_key="tag_878"),
    ),
    Refusal(
        "B01162",
        500,
        UPLOAD,
        lambda lf: lf.client.tag_upload(
            tag_key="tag_nope", operate="append", file=b"13800000000\n"
        ),
    ),
    Refusal("B01162", 500, CALCULATE, lambda lf: lf.client.tag_calculate(tag_key="tag_nope")),
    Refusal(
        "B01162",
        500,
        EXPORT,
        lambda lf: lf.client.tag_export(tag_key="tag_nope", identity_type="mobilePhone"),
    ),
    # spec 删除用户标签元数据 spells it B_01162; the client reads it as everywhere else
    Refusal(
        "B01162",
        500,
        "/v1/tags/tagkeys/{tagKey}",
        lambda lf: lf.client.tag_delete(tag_key="tag_nope"),
        sent_code="B_01162",
    ),
    Refusal(
        "B01163",
        500,
        UPLOAD,
        lambda lf: lf.client.tag_upload(tag_key="tag_878", operate="overwrite", file=b"1" * 100),
        setup=lambda lf: lf.configure(upload_limit_bytes=10),
    ),
    Refusal("B01165", 500, CALCULATE, lambda lf: lf.client.tag_calculate(tag_key="tag_s11_2023")),
    Refusal(
        "B01201",
        500,
        DIM,
        lambda lf: lf.client.dimension_data(dimension_id="dim_campaign", rows=[{"id": "1"}]),
    ),
    Refusal(
        "B01205",
        500,
        DIM,
        lambda lf: lf.client.dimension_data(dimension_id="dim_product", rows=[{"color": "红"}]),
    ),
    Refusal(
        "B01206",
        500,
        DIM,
        lambda lf: lf.client.dimension_data(
            dimension_id="dim_product", rows=[{"id": str(n)} for n in range(1001)]
        ),
    ),
    Refusal(
        "B01376",
        400,
        "/open/contacts/identities",
        lambda lf: lf.client.contact_identities_lookup(
            id_type="mobilePhone", id_value=UNKNOWN_PHONE
        ),
    ),
    Refusal(
        "B01376",
        400,
        "/open/contacts/tags",
        lambda lf: lf.client.contact_tag_values(id_type="mobilePhone", id_value=UNKNOWN_PHONE),
    ),
    Refusal(
        "B01376",
        400,
        "/v1/tags/value",
        lambda lf: lf.client.tag_values(
            id_type="mobilePhone",
            id_value=UNKNOWN_PHONE,
            actions=[{"tagId": 9, "action": "delete"}],
        ),
    ),
    # an anonymous follower holds only its openId
    Refusal(
        "B01402",
        500,
        UNBIND,
        lambda lf: unbind(
            lf, lf.contact(49), ("wechat.openId", lf.contact(49).first("wechat.openId"))
        ),
    ),
    Refusal("B01403", 500, UNBIND, lambda lf: unbind(lf, with_email(lf), ("noSuchType", "x"))),
    Refusal(
        "B01404",
        500,
        UNBIND,
        lambda lf: unbind(lf, with_email(lf), ("email", with_email(lf).first("email"))),
    ),
    Refusal(
        "B01405", 500, UNBIND, lambda lf: unbind(lf, with_email(lf), ("mobilePhone", UNKNOWN_PHONE))
    ),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r.id for r in REFUSALS])
def test_each_documented_code_is_raised_as_a_refusal_and_sent_once(lf, refusal):
    if refusal.setup is not None:
        refusal.setup(lf)
    lf.clear_journal()

    with pytest.raises(LinkflowRejected) as raised:
        refusal.call(lf)

    refused = raised.value
    assert (refused.code, refused.http_status, refused.endpoint) == (
        refusal.code,
        refusal.status,
        refusal.endpoint,
    )
    assert refused.message and refusal.code in str(refused)
    assert lf.answers(refusal.endpoint) == [(refusal.status, refusal.sent_code or refusal.code)]


# The documented codes the client never lets the sandbox answer: it refuses first.
REFUSED_BEFORE_SENDING = {
    "B00093": "orders_page: page 1-100",
    "B01157": "tag_create / tag_* : the tag_ key rule",
}


def test_every_documented_code_is_tested_against_the_sandbox():
    assert {r.code for r in REFUSALS} | set(REFUSED_BEFORE_SENDING) == set(DOCUMENTED_CODES)


# -- limits, refused before sending -------------------------------------------------------


def big_file(tmp_path) -> str:
    """A sparse file one byte over the spec's 100M: measured, never read."""
    path = tmp_path / "values.csv"
    with open(path, "wb") as handle:
        handle.truncate(100 * 1024 * 1024 + 1)
    return str(path)


WINDOW = {"start_time": "2025-01-01", "end_time": "2025-02-01"}
IDENTITY = [{"id": UNKNOWN_PHONE, "type": "mobilePhone"}]

LIMITS = {
    # documented limits (LinkflowLimitExceeded)
    "bulk ids page*size > 10000": (True, lambda c, p: c.contacts_bulk_ids(page=101, size=100)),
    "bulk ids walk size > 10000": (True, lambda c, p: c.iter_contact_ids(size=10_001)),
    "bulk details > 100 ids": (True, lambda c, p: c.contacts_bulk(ids=list(range(1, 102)))),
    "bulk details no id": (True, lambda c, p: c.contacts_bulk(ids=[])),
    "group members size > 500": (True, lambda c, p: c.group_members(group_id=100, size=501)),
    "group members walk size > 500": (
        True,
        lambda c, p: c.iter_group_members(group_id=100, size=501),
    ),
    "tags size > 200": (True, lambda c, p: c.tags(size=201)),
    "tags walk size > 200": (True, lambda c, p: c.iter_tags(size=201)),
    "orders page > 100": (True, lambda c, p: c.orders_page(page=101, **WINDOW)),
    "orders page < 1": (True, lambda c, p: c.orders_page(page=0, **WINDOW)),
    "tag values > 100 actions": (
        True,
        lambda c, p: c.tag_values(
            id_type="email", id_value="a@b.cn", actions=[{"tagId": 9, "action": "delete"}] * 101
        ),
    ),
    "upload over 100M": (
        True,
        lambda c, p: c.tag_upload(tag_key="tag_878", operate="append", file=big_file(p)),
    ),
    # the spec's rules and enumerations (LinkflowInvalidRequest)
    "tag key rule": (
        False,
        lambda c, p: c.tag_create(
            tag_key="Tag_VIP", tag_name="x", data_type="text", identity_type="mobilePhone"
        ),
    ),
    "tag data type": (
        False,
        lambda c, p: c.tag_create(
            tag_key="tag_x", tag_name="x", data_type="date", identity_type="mobilePhone"
        ),
    ),
    "externalId needs channelId": (
        False,
        lambda c, p: c.tag_export(tag_key="tag_x", identity_type="externalId"),
    ),
    "upload operate": (
        False,
        lambda c, p: c.tag_upload(tag_key="tag_878", operate="replace", file=b"1"),
    ),
    "tag value action": (
        False,
        lambda c, p: c.tag_values(
            id_type="email", id_value="a@b.cn", actions=[{"tagId": 9, "action": "add"}]
        ),
    ),
    "messages channel type": (
        False,
        lambda c, p: c.messages(
            channel_key="k",
            channel_type="YOUZAN",
            identities=IDENTITY,
            messages=[contact_message({})],
        ),
    ),
    "messages domain/action": (
        False,
        lambda c, p: c.messages(
            channel_key="k", identities=IDENTITY, messages=[{**event_message("E"), "action": "set"}]
        ),
    ),
    "messages identity": (
        False,
        lambda c, p: c.messages(
            channel_key="k",
            identities=[{"id": "", "type": "mobilePhone"}],
            messages=[contact_message({})],
        ),
    ),
    "orders channel type": (
        False,
        lambda c, p: c.order_messages(
            channel_key="k",
            channel_type="TTMP",
            identities=IDENTITY,
            messages=[order_message({"orderId": "1", "orderDate": "2025-01-01"})],
        ),
    ),
    "order line id": (
        False,
        lambda c, p: c.order_messages(
            channel_key="k",
            identities=IDENTITY,
            messages=[
                order_message(
                    {"orderId": "1", "orderDate": "2025-01-01", "lines": [{"quantity": 1}]}
                )
            ],
        ),
    ),
    "orders window needs both ends": (
        False,
        lambda c, p: c.iter_orders(start_time=datetime(2025, 1, 1)),
    ),
    "distribute term is the contact": (
        False,
        lambda c, p: c.short_url_distribute(url="https://x.cn", contact_id=7, utm={"term": "8"}),
    ),
    "short url utm fields": (
        False,
        lambda c, p: c.short_url(url="https://x.cn", utm={"keyword": "x"}),
    ),
}


@pytest.mark.parametrize(("documented", "call"), LIMITS.values(), ids=LIMITS.keys())
def test_limits_and_rules_are_refused_before_anything_is_sent(lf, tmp_path, documented, call):
    with pytest.raises(LinkflowInvalidRequest) as refused:
        call(lf.client, tmp_path)

    assert isinstance(refused.value, LinkflowLimitExceeded) == documented
    assert refused.value.field
    assert lf.journal() == []  # not even a token
