"""Every Linkflow endpoint of the spec at the transport level (respx): the request as the spec
spells it, the decoded answer, each documented error code, the limits checked before sending,
the tag export wait and the lazy iterators."""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from portal.integrations.linkflow.auth import TokenCache, parse_expiration
from portal.integrations.linkflow.client import (
    LinkflowClient,
    contact_message,
    event_message,
    order_message,
)
from portal.integrations.linkflow.errors import (
    DOCUMENTED_CODES,
    LinkflowInvalidRequest,
    LinkflowLimitExceeded,
    LinkflowRejected,
    LinkflowTagExportFailed,
    LinkflowTagExportTimeout,
)

BASE = "https://linkflow.example.test"
EXPIRES = "2030-01-01 08:00:00"
UPLOAD_PATH = "/v1/tags/tagkeys/tag_vip/upload/file/operates/overwrite"


@pytest.fixture
def client():
    return LinkflowClient(
        http=httpx.Client(base_url=BASE),
        app_key="key-1",
        app_secret="secret-1",
        cache=TokenCache(clock=lambda: parse_expiration(EXPIRES) - 3600),
    )


@pytest.fixture
def linkflow():
    """respx with the token endpoint answering; other routes are added by each test."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/token").mock(
            return_value=httpx.Response(200, json={"token": "tok", "expiration": EXPIRES})
        )
        yield mock


def sent_json(route) -> Any:
    return json.loads(route.calls.last.request.content)


def sent_params(route) -> dict[str, str]:
    return dict(route.calls.last.request.url.params)


# --- the builders of /open/messages ---------------------------------------------------------


def test_contact_message_is_a_contact_set_with_a_millisecond_timestamp():
    message = contact_message({"name": "peter", "props": {"vip": True}}, ts=1663146117310)
    assert message["domain"] == "contact" and message["action"] == "set"
    assert message["ts"] == 1663146117310
    assert message["data"] == {"name": "peter", "props": {"vip": True}}
    assert len(message["message_id"]) == 36  # a random uuid


def test_event_message_is_an_event_track_dated_when_sent_unless_told():
    moment = datetime(2022, 9, 14, 9, 1, 57, 310000, tzinfo=UTC)
    message = event_message("WECHAT_WXA__HIDE", props={"s_hideCount": 2}, ts=moment)
    assert (message["domain"], message["action"]) == ("event", "track")
    assert message["ts"] == 1663146117310
    assert message["data"] == {
        "event": "WECHAT_WXA__HIDE",
        "eventDate": 1663146117310,
        "props": {"s_hideCount": 2},
    }
    naive_china = datetime(2022, 9, 14, 17, 1, 57, 310000)
    assert event_message("E", event_date=naive_china, ts=1)["data"]["eventDate"] == 1663146117310
    assert event_message("E", message_id="m-1")["message_id"] == "m-1"


def test_order_message_is_a_sales_order_set():
    message = order_message({"orderId": "E1", "orderDate": "2022-10-28 10:33:44"}, ts=5)
    assert (message["domain"], message["action"], message["ts"]) == ("salesOrder", "set", 5)


# --- each endpoint: request as the spec spells it, decoded answer ----------------------------


@dataclass
class Case:
    id: str
    call: Callable[[LinkflowClient], Any]
    method: str
    path: str
    answer: Any = None
    result: Any = None
    params: dict[str, str] | None = None
    body: Any = None
    status: int = 200
    text: str | None = None
    extra: dict = field(default_factory=dict)


IDENTITIES = [{"id": "321100199012203412", "type": "idCard"}, {"id": "a@b.cn", "type": "email"}]
CONTACT = contact_message({"name": "n"}, ts=1, message_id="m1")
EVENT = event_message("WECHAT_WXA__HIDE", ts=2, event_date=2, message_id="m2")
ORDER = order_message(
    {
        "saleChannel": "有赞",
        "orderId": "E20221028",
        "orderStatus": "TRADE_CLOSED",
        "orderDate": "2022-10-28 10:33:44",
        "lines": [{"lineId": "L20221028", "quantity": 2}],
    },
    ts=3,
    message_id="m3",
)
SHORT = {"shorturl": "http://ln8w.cn/5T2SnX"}

CASES = [
    Case(
        "messages",
        lambda c: c.messages(
            channel_key="udc_12SyQfFmg",
            identities=IDENTITIES,
            messages=[CONTACT, EVENT],
            request_id="r-1",
        ),
        "POST",
        "/open/messages",
        body={
            "request_id": "r-1",
            "channelKey": "udc_12SyQfFmg",
            "channelType": "UDC",
            "identities": IDENTITIES,
            "messages": [CONTACT, EVENT],
        },
    ),
    Case(
        "messages-wxa",
        lambda c: c.messages(
            channel_key="k", identities=IDENTITIES[:1], messages=[EVENT], channel_type="WECHAT_WXA"
        ),
        "POST",
        "/open/messages",
        body={
            "channelKey": "k",
            "channelType": "WECHAT_WXA",
            "identities": IDENTITIES[:1],
            "messages": [EVENT],
        },
    ),
    Case(
        "order_messages",
        lambda c: c.order_messages(
            channel_key="udc_1", identities=IDENTITIES[:1], messages=[ORDER], channel_type="YOUZAN"
        ),
        "POST",
        "/open/messages/orders",
        body={
            "channelKey": "udc_1",
            "channelType": "YOUZAN",
            "identities": IDENTITIES[:1],
            "messages": [ORDER],
        },
    ),
    Case(
        "identity_contact",
        lambda c: c.identity_contact(id_type="idCard", id_value="321100199012203412"),
        "GET",
        "/open/identity/contact",
        params={"idType": "idCard", "id": "321100199012203412"},
        text="703941987164160",
        result=703941987164160,
    ),
    Case(
        "identity_contact-none",
        lambda c: c.identity_contact(id_type="email", id_value="x@y.cn"),
        "GET",
        "/open/identity/contact",
        params={"idType": "email", "id": "x@y.cn"},
        text="null",
        result=None,
    ),
    Case(
        "channel_identities",
        lambda c: c.channel_identities(contact_id=703941987164160),
        "GET",
        "/open/contacts/703941987164160/channel_identities",
        answer=[{"id": 140992033742850, "channel": {"channelType": "WECHAT"}}],
    ),
    Case(
        "workwechat_qrcodes",
        lambda c: c.workwechat_qrcodes(channel_id="ww0b8772cfc1ed757c"),
        "GET",
        "/open/workwechat/ww0b8772cfc1ed757c/qrcodes",
        answer=[{"id": 2, "configId": "7c40", "qrCode": "https://wework.qpic.cn/x"}],
    ),
    Case(
        "orders_after",
        lambda c: c.orders_after(last_max_id=100),
        "GET",
        "/open/orders",
        params={"lastMaxId": "100"},
        answer=[{"id": 144357503180802, "orderId": "433"}],
    ),
    Case(
        "orders_page",
        lambda c: c.orders_page(
            page=2,
            start_time="2023-01-01 15:44:20",
            end_time=datetime(2024, 3, 16, 7, 44, 20, tzinfo=UTC),
        ),
        "GET",
        "/open/orders",
        params={"page": "2", "startTime": "2023-01-01 15:44:20", "endTime": "2024-03-16 15:44:20"},
        answer=[],
    ),
    Case(
        "tag_create",
        lambda c: c.tag_create(
            tag_key="tag_ccc2",
            tag_name="aaccc",
            data_type="number",
            identity_type="externalId",
            channel_id=1,
        ),
        "POST",
        "/v1/tags",
        body={
            "tagName": "aaccc",
            "tagKey": "tag_ccc2",
            "dataType": "number",
            "tagType": "UPLOAD",
            "identityType": "externalId",
            "channelId": "1",
        },
        answer={"tagId": 1, "tagKey": "tag_ccc2", "status": "ACTIVE"},
    ),
    Case(
        "tag_create-phone",
        lambda c: c.tag_create(
            tag_key="tag_878", tag_name="活跃度", data_type="text", identity_type="phone"
        ),
        "POST",
        "/v1/tags",
        body={
            "tagName": "活跃度",
            "tagKey": "tag_878",
            "dataType": "text",
            "tagType": "UPLOAD",
            "identityType": "phone",
        },
        answer={"tagId": 2},
    ),
    Case(
        "tag_delete",
        lambda c: c.tag_delete(tag_key="tag_ccc2"),
        "DELETE",
        "/v1/tags/tagkeys/tag_ccc2",
        result=None,
    ),
    Case(
        "tags",
        lambda c: c.tags(page=0, size=1),
        "GET",
        "/v1/tags",
        params={"page": "0", "size": "1"},
        answer=[{"tagId": 2, "tagKey": "tag_878", "folderId": 56}],
    ),
    Case(
        "tag_folders",
        lambda c: c.tag_folders(),
        "GET",
        "/open/folders",
        params={},
        answer=[{"id": 175, "name": "测试目录名称", "domain": "TAG", "parentId": 174}],
    ),
    Case(
        "tag_calculate",
        lambda c: c.tag_calculate(tag_key="tag_878"),
        "POST",
        "/v1/tags/tagkeys/tag_878/calculate",
        result=None,
    ),
    Case(
        "tag_export",
        lambda c: c.tag_export(tag_key="tag_sf", identity_type="externalId", channel_id="111"),
        "POST",
        "/v1/tags/tagkeys/tag_sf/export",
        body={"identityType": "externalId", "channelId": "111"},
        answer={"tagKey": "tag_sf", "taskId": 19723653547885, "status": "INITIAL"},
    ),
    Case(
        "tag_export_status",
        lambda c: c.tag_export_status(task_id=19723653547885),
        "GET",
        "/v1/tags/tagkeys/export/19723653547885",
        answer={"taskId": 19723653547885, "status": "FINISH", "errorMsg": "", "fileUrl": "u"},
    ),
    Case(
        "tag_values",
        lambda c: c.tag_values(
            id_type="mobilePhone",
            id_value="18888888888",
            actions=[
                {"tagId": 382, "action": "delete"},
                {"tagId": 383, "value": ["红色", "蓝色"], "action": "set"},
            ],
        ),
        "POST",
        "/v1/tags/value",
        body={
            "identity": {"id": "18888888888", "type": "mobilePhone"},
            "actions": [
                {"tagId": 382, "action": "delete"},
                {"tagId": 383, "action": "set", "value": "红色,蓝色"},
            ],
        },
        result=None,
    ),
    Case(
        "dimension_data",
        lambda c: c.dimension_data(
            dimension_id="dim_color",
            rows=[{"id": "1", "color": "红色"}, {"id": "2", "color": "蓝"}],
        ),
        "POST",
        "/open/dim/dim_color/data",
        body=[{"id": "1", "color": "红色"}, {"id": "2", "color": "蓝"}],
        result=None,
    ),
    Case(
        "contact_identities_lookup",
        lambda c: c.contact_identities_lookup(
            id_type="phone", id_value="13888888888", identity_types=["idcard", "email"]
        ),
        "POST",
        "/open/contacts/identities",
        body={
            "identity": {"id": "13888888888", "type": "phone"},
            "identityTypes": ["idcard", "email"],
        },
        answer={"contactId": 29, "identities": [{"id": "123456@qq.com", "type": "email"}]},
    ),
    Case(
        "contact_tag_values",
        lambda c: c.contact_tag_values(id_type="phone", id_value="13888888888"),
        "POST",
        "/open/contacts/tags",
        body={"id": "13888888888", "type": "phone"},
        answer=[{"tagId": 1, "tagName": "性别", "tagKey": "tag_yhxb", "value": "男"}],
    ),
    Case(
        "contact_identity_unbind",
        lambda c: c.contact_identity_unbind(
            contact_id=29, identities=[{"id": "17624321576", "type": "mobilePhone"}]
        ),
        "DELETE",
        "/open/contacts/identities/unbind",
        body={"contactId": 29, "identities": [{"id": "17624321576", "type": "mobilePhone"}]},
        result=None,
    ),
    Case(
        "contact_identities",
        lambda c: c.contact_identities(contact_id=29),
        "GET",
        "/open/contacts/29/identities",
        answer=[{"id": "oIx981RYQX7", "type": "wechat.unionId", "dateCreated": "2024-01-26"}],
    ),
    Case(
        "contacts_bulk_ids",
        lambda c: c.contacts_bulk_ids(
            page=0,
            size=5,
            min_update_time=datetime(2017, 1, 1).date(),
            max_update_time="2018-01-01",
        ),
        "GET",
        "/open/contacts_bulk/ids",
        params={
            "page": "0",
            "size": "5",
            "minUpdateTime": "2017-01-01",
            "maxUpdateTime": "2018-01-01",
        },
        answer=[1, 3, 5, 7, 8],
    ),
    Case(
        "report",
        lambda c: c.report(report_id=404),
        "GET",
        "/open/report/404",
        answer={"status": 1, "reportName": "test", "chartType": "TWO_YAXIS", "result": []},
    ),
    Case(
        "dashboard",
        lambda c: c.dashboard(dashboard_id=7),
        "GET",
        "/open/dashboard/7/summary",
        answer={"kanBanName": "y01", "reports": [{"id": 404, "reportName": "归因无"}]},
    ),
    Case(
        "short_url",
        lambda c: c.short_url(
            url="http://www.baidu.com", utm={"source": "testSource", "term": "testTerm"}
        ),
        "POST",
        "/open/shorturl",
        body={"url": "http://www.baidu.com", "utm": {"source": "testSource", "term": "testTerm"}},
        answer=SHORT,
        result="http://ln8w.cn/5T2SnX",
    ),
    Case(
        "short_url-plain",
        lambda c: c.short_url(url="http://www.baidu.com"),
        "POST",
        "/open/shorturl",
        body={"url": "http://www.baidu.com"},
        answer=SHORT,
        result="http://ln8w.cn/5T2SnX",
    ),
    Case(
        "short_url_distribute",
        lambda c: c.short_url_distribute(
            url="http://www.baidu.com", contact_id=71302452690124, utm={"campaign": "618"}
        ),
        "POST",
        "/open/shorturl/distribute",
        body={"url": "http://www.baidu.com", "utm": {"campaign": "618", "term": "71302452690124"}},
        answer={"shorturl": "http://ln8w.cn/3Ud9po6x"},
        result="http://ln8w.cn/3Ud9po6x",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_endpoint_sends_what_the_spec_spells(client, linkflow, case):
    if case.text is not None:
        response = httpx.Response(case.status, text=case.text)
    elif case.answer is not None:
        response = httpx.Response(case.status, json=case.answer)
    else:
        response = httpx.Response(case.status)
    route = linkflow.route(method=case.method, path=case.path).mock(return_value=response)

    result = case.call(client)

    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["X-OpenApi-Token"] == "tok"
    if case.params is not None:
        assert dict(request.url.params) == case.params
    if case.body is not None:
        assert json.loads(request.content) == case.body
    expected = case.result if case.result is not None or case.answer is None else case.answer
    assert result == expected


def test_the_tag_file_is_sent_as_multipart_under_file(client, linkflow):
    route = linkflow.post(UPLOAD_PATH).mock(
        return_value=httpx.Response(200, json={"tagKey": "tag_vip", "fileName": "vip.csv"})
    )

    answer = client.tag_upload(
        tag_key="tag_vip", operate="overwrite", file=b"13888888888,1\n", filename="vip.csv"
    )

    assert answer == {"tagKey": "tag_vip", "fileName": "vip.csv"}
    request = route.calls.last.request
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="vip.csv"' in request.content
    assert b"13888888888,1\n" in request.content


@pytest.mark.parametrize("given", ["path", "file object"])
def test_a_tag_file_from_disk_is_named_after_it(client, linkflow, tmp_path, given):
    path = tmp_path / "members.csv"
    path.write_bytes(b"a,1\nb,2\n")
    route = linkflow.post("/v1/tags/tagkeys/tag_vip/upload/file/operates/append").mock(
        return_value=httpx.Response(200, json={"tagKey": "tag_vip"})
    )
    if given == "path":
        client.tag_upload(tag_key="tag_vip", operate="append", file=str(path))
    else:
        with path.open("rb") as handle:
            handle.read(2)  # httpx sends a file object whole, from its start
            client.tag_upload(tag_key="tag_vip", operate="append", file=handle)
            assert not handle.closed  # the caller's to close
    content = route.calls.last.request.content
    assert b'filename="members.csv"' in content
    assert b"a,1\nb,2\n" in content


def test_the_100m_limit_is_checked_before_sending(client, linkflow, tmp_path):
    route = linkflow.route().mock(return_value=httpx.Response(200, json={}))
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:  # sparse: 100M + 1 byte on paper, nothing on disk
        handle.truncate(100 * 1024 * 1024 + 1)

    with pytest.raises(LinkflowLimitExceeded) as by_path:
        client.tag_upload(tag_key="tag_vip", operate="overwrite", file=big)
    with big.open("rb") as handle, pytest.raises(LinkflowLimitExceeded):
        client.tag_upload(tag_key="tag_vip", operate="overwrite", file=handle)

    assert by_path.value.field == "file"
    assert route.call_count == 0


def test_a_text_mode_file_is_refused(client, linkflow, tmp_path):
    route = linkflow.route().mock(return_value=httpx.Response(200, json={}))
    path = tmp_path / "t.csv"
    path.write_text("a,1\n")
    with path.open("r") as handle, pytest.raises(LinkflowInvalidRequest) as raised:
        client.tag_upload(tag_key="tag_vip", operate="overwrite", file=handle)
    assert raised.value.field == "file"
    assert route.call_count == 0


# --- documented error codes ------------------------------------------------------------------


@dataclass
class Refusal:
    call: Callable[[LinkflowClient], Any]
    method: str
    path: str
    endpoint: str
    status: int
    code: str
    expected_code: str = ""


def tag_file(c):
    return c.tag_upload(tag_key="tag_vip", operate="overwrite", file=b"x")


REFUSALS = [
    Refusal(
        lambda c: c.identity_contact(id_type="idCard", id_value="1"),
        "GET",
        "/open/identity/contact",
        "/open/identity/contact",
        500,
        "B00010",
    ),
    Refusal(
        lambda c: c.workwechat_qrcodes(channel_id="ww1"),
        "GET",
        "/open/workwechat/ww1/qrcodes",
        "/open/workwechat/{channelId}/qrcodes",
        500,
        "B00022",
    ),
    *[
        Refusal(
            lambda c: c.tag_create(
                tag_key="tag_a", tag_name="a", data_type="text", identity_type="phone"
            ),
            "POST",
            "/v1/tags",
            "/v1/tags",
            500,
            code,
        )
        for code in ("B00002", "B00010", "B00159", "B00037", "B01157", "B01151")
    ],
    *[
        Refusal(
            lambda c: c.tag_delete(tag_key="tag_a"),
            "DELETE",
            "/v1/tags/tagkeys/tag_a",
            "/v1/tags/tagkeys/{tagKey}",
            500,
            code,
            expected,
        )
        for code, expected in (("B00002", ""), ("B_01162", "B01162"))
    ],
    Refusal(lambda c: c.tags(), "GET", "/v1/tags", "/v1/tags", 500, "B00010"),
    *[
        Refusal(
            tag_file,
            "POST",
            UPLOAD_PATH,
            "/v1/tags/tagkeys/{tagKey}/upload/file/operates/{operate}",
            500,
            code,
        )
        for code in ("B01163", "B00010", "B01162")
    ],
    *[
        Refusal(
            lambda c: c.tag_calculate(tag_key="tag_a"),
            "POST",
            "/v1/tags/tagkeys/tag_a/calculate",
            "/v1/tags/tagkeys/{tagKey}/calculate",
            500,
            code,
        )
        for code in ("B01162", "B01152", "B01165")
    ],
    *[
        Refusal(
            lambda c: c.tag_export(tag_key="tag_a", identity_type="phone"),
            "POST",
            "/v1/tags/tagkeys/tag_a/export",
            "/v1/tags/tagkeys/{tagKey}/export",
            500,
            code,
        )
        for code in ("B00002", "B00010", "B01162", "B00159")
    ],
    *[
        Refusal(
            lambda c: c.tag_values(
                id_type="phone", id_value="1", actions=[{"tagId": 1, "action": "delete"}]
            ),
            "POST",
            "/v1/tags/value",
            "/v1/tags/value",
            400,
            code,
        )
        for code in ("B00031", "B01376")
    ],
    *[
        Refusal(
            lambda c: c.dimension_data(dimension_id="dim", rows=[{"id": "1"}]),
            "POST",
            "/open/dim/dim/data",
            "/open/dim/{dimensionId}/data",
            500,
            code,
        )
        for code in ("B01206", "B00043", "B01201", "B01205")
    ],
    Refusal(
        lambda c: c.contacts_bulk_ids(page=0, size=10),
        "GET",
        "/open/contacts_bulk/ids",
        "/open/contacts_bulk/ids",
        420,
        "B00030",
    ),
    *[
        Refusal(
            lambda c: c.contact_identity_unbind(
                contact_id=29, identities=[{"id": "1", "type": "t"}]
            ),
            "DELETE",
            "/open/contacts/identities/unbind",
            "/open/contacts/identities/unbind",
            status,
            code,
        )
        for status, code in (
            (404, "B00008"),
            (500, "B01402"),
            (500, "B01403"),
            (500, "B01404"),
            (500, "B01405"),
        )
    ],
    Refusal(
        lambda c: c.contact_identities(contact_id=29),
        "GET",
        "/open/contacts/29/identities",
        "/open/contacts/{id}/identities",
        404,
        "B00008",
    ),
    *[
        Refusal(
            lambda c: c.group_create(name="g"), "POST", "/open/groups", "/open/groups", status, code
        )
        for status, code in ((400, "B00001"), (412, "B00157"))
    ],
    *[
        Refusal(
            lambda c: c.group_rename(group_id=3, name="g"),
            "POST",
            "/open/groups/3",
            "/open/groups/{id}",
            status,
            code,
        )
        for status, code in ((404, "B00008"), (420, "B01102"))
    ],
    Refusal(
        lambda c: c.group_delete(group_id=3),
        "DELETE",
        "/open/groups/3",
        "/open/groups/{id}",
        404,
        "B00008",
    ),
    Refusal(
        lambda c: c.contact_groups(contact_id=5),
        "GET",
        "/open/contacts/5/groups",
        "/open/contacts/{contactId}/groups",
        404,
        "B00008",
    ),
    *[
        Refusal(call, method, "/open/groups/3/contacts", "/open/groups/{groupId}/contacts", s, code)
        for call, method in (
            (lambda c: c.group_members(group_id=3), "GET"),
            (lambda c: c.group_members_add(group_id=3, contact_ids=[1]), "POST"),
            (lambda c: c.group_members_remove(group_id=3, contact_ids=[1]), "DELETE"),
        )
        for s, code in ((400, "B00031"), (404, "B00008"))
    ],
    Refusal(
        lambda c: c.orders_page(page=100, start_time="2023-01-01", end_time="2023-02-01"),
        "GET",
        "/open/orders",
        "/open/orders",
        500,
        "B00093",
    ),
    *[
        Refusal(
            lambda c: c.short_url_distribute(url="http://x.cn", contact_id=71302452690124),
            "POST",
            "/open/shorturl/distribute",
            "/open/shorturl/distribute",
            status,
            "B00008",
        )
        for status in (500, 420)  # the table says 500, the example 420
    ],
]


@pytest.mark.parametrize(
    "refusal", REFUSALS, ids=[f"{r.endpoint}-{r.code}-{r.status}" for r in REFUSALS]
)
def test_each_documented_code_is_a_refusal_with_code_and_message(client, linkflow, refusal):
    message = f"说明 {refusal.code}"
    route = linkflow.route(method=refusal.method, path=refusal.path).mock(
        return_value=httpx.Response(
            refusal.status, json={"domain": "linkflow", "code": refusal.code, "message": message}
        )
    )

    with pytest.raises(LinkflowRejected) as raised:
        refusal.call(client)

    error = raised.value
    assert error.code == (refusal.expected_code or refusal.code)
    assert (error.message, error.http_status, error.endpoint) == (
        message,
        refusal.status,
        refusal.endpoint,
    )
    assert not error.retryable
    assert route.call_count == 1  # never retried, reads included


def test_every_documented_code_is_exercised():
    tested = {r.expected_code or r.code for r in REFUSALS}
    assert tested == set(DOCUMENTED_CODES)


# --- refused before sending ----------------------------------------------------------------


def too_many_actions(c):
    actions = [{"tagId": i, "action": "delete"} for i in range(101)]
    return c.tag_values(id_type="phone", id_value="1", actions=actions)


LIMITS = [
    ("tags-size", lambda c: c.tags(size=201), LinkflowLimitExceeded, "size"),
    ("tags-size-0", lambda c: c.tags(size=0), LinkflowLimitExceeded, "size"),
    ("iter_tags-size", lambda c: c.iter_tags(size=201), LinkflowLimitExceeded, "size"),
    (
        "orders-page-0",
        lambda c: c.orders_page(page=0, start_time="a", end_time="b"),
        LinkflowLimitExceeded,
        "page",
    ),
    (
        "orders-page-101",
        lambda c: c.orders_page(page=101, start_time="a", end_time="b"),
        LinkflowLimitExceeded,
        "page",
    ),
    (
        "iter_orders-half-window",
        lambda c: c.iter_orders(start_time="2023-01-01"),
        LinkflowInvalidRequest,
        "endTime",
    ),
    ("tag_values-101", too_many_actions, LinkflowLimitExceeded, "actions"),
    (
        "tag_values-verb",
        lambda c: c.tag_values(
            id_type="phone", id_value="1", actions=[{"tagId": 1, "action": "add", "value": "x"}]
        ),
        LinkflowInvalidRequest,
        "actions[0].action",
    ),
    (
        "tag_values-set-without-value",
        lambda c: c.tag_values(
            id_type="phone", id_value="1", actions=[{"tagId": 1, "action": "set"}]
        ),
        LinkflowInvalidRequest,
        "actions[0].value",
    ),
    (
        "tag_values-tag-id",
        lambda c: c.tag_values(
            id_type="phone", id_value="1", actions=[{"tagId": "tag_a", "action": "delete"}]
        ),
        LinkflowInvalidRequest,
        "actions[0].tagId",
    ),
    (
        "tag_values-identity",
        lambda c: c.tag_values(
            id_type="phone", id_value="", actions=[{"tagId": 1, "action": "delete"}]
        ),
        LinkflowInvalidRequest,
        "identities[0].id",
    ),
    (
        "contacts_bulk-101",
        lambda c: c.contacts_bulk(ids=list(range(101))),
        LinkflowLimitExceeded,
        "ids",
    ),
    (
        "contacts_bulk_ids-window",
        lambda c: c.contacts_bulk_ids(page=2, size=5001),
        LinkflowLimitExceeded,
        "page",
    ),
    (
        "iter_contact_ids-size",
        lambda c: c.iter_contact_ids(size=10_001),
        LinkflowLimitExceeded,
        "size",
    ),
    (
        "iter_group_members-size",
        lambda c: c.iter_group_members(group_id=1, size=501),
        LinkflowLimitExceeded,
        "size",
    ),
    (
        "tag_create-data-type",
        lambda c: c.tag_create(
            tag_key="tag_a", tag_name="a", data_type="string", identity_type="phone"
        ),
        LinkflowInvalidRequest,
        "dataType",
    ),
    (
        "tag_create-external-id",
        lambda c: c.tag_create(
            tag_key="tag_a", tag_name="a", data_type="text", identity_type="externalId"
        ),
        LinkflowInvalidRequest,
        "channelId",
    ),
    (
        "tag_export-external-id",
        lambda c: c.tag_export(tag_key="tag_a", identity_type="externalId"),
        LinkflowInvalidRequest,
        "channelId",
    ),
    (
        "tag_upload-operate",
        lambda c: c.tag_upload(tag_key="tag_a", operate="replace", file=b"x"),
        LinkflowInvalidRequest,
        "operate",
    ),
    (
        "messages-channel-type",
        lambda c: c.messages(
            channel_key="k", identities=IDENTITIES, messages=[CONTACT], channel_type="YOUZAN"
        ),
        LinkflowInvalidRequest,
        "channelType",
    ),
    (
        "messages-domain",
        lambda c: c.messages(channel_key="k", identities=IDENTITIES, messages=[CONTACT, ORDER]),
        LinkflowInvalidRequest,
        "messages[1].domain",
    ),
    (
        "messages-action",
        lambda c: c.messages(
            channel_key="k", identities=IDENTITIES, messages=[{**EVENT, "action": "set"}]
        ),
        LinkflowInvalidRequest,
        "messages[0].action",
    ),
    (
        "messages-no-identity",
        lambda c: c.messages(channel_key="k", identities=[], messages=[CONTACT]),
        LinkflowInvalidRequest,
        "identities",
    ),
    (
        "messages-identity-type",
        lambda c: c.messages(channel_key="k", identities=[{"id": "1"}], messages=[CONTACT]),
        LinkflowInvalidRequest,
        "identities[0].type",
    ),
    (
        "messages-no-message",
        lambda c: c.messages(channel_key="k", identities=IDENTITIES, messages=[]),
        LinkflowInvalidRequest,
        "messages",
    ),
    (
        "messages-channel-key",
        lambda c: c.messages(channel_key="", identities=IDENTITIES, messages=[CONTACT]),
        LinkflowInvalidRequest,
        "channelKey",
    ),
    (
        "order_messages-channel-type",
        lambda c: c.order_messages(
            channel_key="k", identities=IDENTITIES, messages=[ORDER], channel_type="TTMP"
        ),
        LinkflowInvalidRequest,
        "channelType",
    ),
    (
        "order_messages-domain",
        lambda c: c.order_messages(channel_key="k", identities=IDENTITIES, messages=[EVENT]),
        LinkflowInvalidRequest,
        "messages[0].domain",
    ),
    (
        "order_messages-order-id",
        lambda c: c.order_messages(
            channel_key="k",
            identities=IDENTITIES,
            messages=[order_message({"orderDate": "2022-10-28 10:33:44"})],
        ),
        LinkflowInvalidRequest,
        "messages[0].data.orderId",
    ),
    (
        "order_messages-line-id",
        lambda c: c.order_messages(
            channel_key="k",
            identities=IDENTITIES,
            messages=[
                order_message({"orderId": "1", "orderDate": "d", "lines": [{"quantity": 1}]})
            ],
        ),
        LinkflowInvalidRequest,
        "messages[0].data.lines[0].lineId",
    ),
    (
        "short_url-utm",
        lambda c: c.short_url(url="http://x.cn", utm={"keyword": "k"}),
        LinkflowInvalidRequest,
        "utm.keyword",
    ),
    (
        "short_url_distribute-term",
        lambda c: c.short_url_distribute(url="http://x.cn", contact_id=5, utm={"term": "6"}),
        LinkflowInvalidRequest,
        "utm.term",
    ),
    (
        "identity_contact-type",
        lambda c: c.identity_contact(id_type="", id_value="1"),
        LinkflowInvalidRequest,
        "idType",
    ),
    (
        "dimension_data-rows",
        lambda c: c.dimension_data(dimension_id="d", rows=[]),
        LinkflowInvalidRequest,
        "rows",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "field"), [case[1:] for case in LIMITS], ids=[case[0] for case in LIMITS]
)
def test_limits_and_enumerations_are_refused_before_sending(client, linkflow, call, error, field):
    route = linkflow.route().mock(return_value=httpx.Response(200, json=[]))
    with pytest.raises(error) as raised:
        call(client)
    assert raised.value.field == field
    assert route.call_count == 0
    assert linkflow.calls.call_count == 0  # not even a token


@pytest.mark.parametrize(
    "tag_key",
    ["vip", "tag_", "Tag_vip", "tag_VIP", "tag_vip-1", "tag_会员", "tag_a/../b", "tag_a b", None],
)
def test_the_tag_key_rule_is_checked_before_sending(client, linkflow, tag_key):
    route = linkflow.route().mock(return_value=httpx.Response(200, json={}))
    calls = [
        lambda: client.tag_create(
            tag_key=tag_key, tag_name="n", data_type="text", identity_type="phone"
        ),
        lambda: client.tag_delete(tag_key=tag_key),
        lambda: client.tag_upload(tag_key=tag_key, operate="append", file=b"x"),
        lambda: client.tag_calculate(tag_key=tag_key),
        lambda: client.tag_export(tag_key=tag_key, identity_type="phone"),
    ]
    for call in calls:
        with pytest.raises(LinkflowInvalidRequest) as raised:
            call()
        assert raised.value.field == "tagKey"
    assert route.call_count == 0


def test_every_documented_tag_data_type_is_accepted(client, linkflow):
    route = linkflow.post("/v1/tags").mock(return_value=httpx.Response(200, json={"tagId": 1}))
    for data_type in ("text", "number", "array", "datetime", "boolean"):
        client.tag_create(
            tag_key="tag_a_1", tag_name="n", data_type=data_type, identity_type="phone"
        )
        assert sent_json(route)["dataType"] == data_type
    assert route.call_count == 5


# --- tag export wait -------------------------------------------------------------------------


class FakeSleep:
    def __init__(self):
        self.naps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.naps.append(seconds)


def export_statuses(linkflow, *statuses, error_msg=""):
    return linkflow.get("/v1/tags/tagkeys/export/42").mock(
        side_effect=[
            httpx.Response(
                200, json={"taskId": 42, "status": s, "errorMsg": error_msg, "fileUrl": ""}
            )
            for s in statuses
        ]
    )


def test_the_export_wait_polls_until_finish(client, linkflow):
    route = export_statuses(linkflow, "INITIAL", "RUNNING", "FINISH")
    sleep = FakeSleep()

    status = client.tag_export_wait(task_id=42, interval=3.0, sleep=sleep)

    assert status["status"] == "FINISH"
    assert sleep.naps == [3.0, 3.0]
    assert route.call_count == 3


def test_an_export_error_is_raised_with_linkflows_message(client, linkflow):
    export_statuses(linkflow, "INITIAL", "ERROR", error_msg="磁盘已满")
    with pytest.raises(LinkflowTagExportFailed) as raised:
        client.tag_export_wait(task_id=42, sleep=FakeSleep())
    assert (raised.value.task_id, raised.value.status, raised.value.error_msg) == (
        42,
        "ERROR",
        "磁盘已满",
    )
    assert not raised.value.retryable


def test_the_export_wait_gives_up_after_its_timeout(client, linkflow):
    route = linkflow.get("/v1/tags/tagkeys/export/42").mock(
        return_value=httpx.Response(200, json={"taskId": 42, "status": "RUNNING"})
    )
    sleep = FakeSleep()

    with pytest.raises(LinkflowTagExportTimeout) as raised:
        client.tag_export_wait(task_id=42, interval=2.0, timeout=10, sleep=sleep)

    assert sleep.naps == [2.0] * 5  # polls at 0, 2, 4, 6, 8 and 10 seconds
    assert route.call_count == 6
    assert raised.value.retryable and raised.value.status == "RUNNING"


# --- lazy iterators --------------------------------------------------------------------------


def contact_pages(total: int):
    """A side effect answering /open/contacts/cursor from a workspace of `total` contacts
    with ids 1..total."""

    def answer(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params["lastMaxId"])
        size = int(request.url.params["size"])
        ids = range(after + 1, min(after + size, total) + 1)
        return httpx.Response(200, json=[{"id": i, "name": f"c{i}"} for i in ids])

    return answer


def test_iter_contacts_asks_for_a_page_only_when_it_is_needed(client, linkflow):
    route = linkflow.get("/open/contacts/cursor").mock(side_effect=contact_pages(7))

    contacts = client.iter_contacts(size=3)
    assert route.call_count == 0
    taken = [next(contacts)["id"] for _ in range(3)]
    assert (taken, route.call_count) == ([1, 2, 3], 1)
    assert next(contacts)["id"] == 4
    assert route.call_count == 2
    assert sent_params(route) == {"lastMaxId": "3", "size": "3"}
    assert [c["id"] for c in contacts] == [5, 6, 7]
    assert route.call_count == 3  # the last page was short: no fourth call


def test_iter_contacts_follows_the_largest_id_and_stops_on_an_empty_page(client, linkflow):
    route = linkflow.get("/open/contacts/cursor").mock(
        side_effect=[
            httpx.Response(200, json=[{"id": 9}, {"id": 4}]),
            httpx.Response(200, json=[]),
        ]
    )
    assert [c["id"] for c in client.iter_contacts(size=2)] == [9, 4]
    assert sent_params(route)["lastMaxId"] == "9"


def test_walking_100000_contacts_keeps_one_page_in_memory(client, linkflow):
    answer = contact_pages(100_000)
    route = linkflow.get("/open/contacts/cursor")

    def answer_and_forget(request):
        route.calls.clear()  # respx's own call history would otherwise hold every page
        linkflow.calls.clear()
        return answer(request)

    route.mock(side_effect=answer_and_forget)
    gc.collect()
    tracemalloc.start()
    try:
        count = last = 0
        for contact in client.iter_contacts(size=1000):
            count += 1
            last = contact["id"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (count, last) == (100_000, 100_000)
    assert peak < 3 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_iter_group_members_uses_the_member_id_cursor(client, linkflow):
    route = linkflow.get("/open/groups/334/contacts").mock(
        side_effect=[
            httpx.Response(200, json=[{"memberId": 11, "contact": {"id": 1}}, {"memberId": 12}]),
            httpx.Response(200, json=[{"memberId": 15, "contact": {"id": 3}}]),
        ]
    )
    members = client.iter_group_members(group_id=334, size=2)
    assert next(members)["memberId"] == 11
    assert route.call_count == 1
    assert [m["memberId"] for m in members] == [12, 15]
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"memberId": "0", "size": "2"},
        {"memberId": "12", "size": "2"},
    ]


def test_iter_tags_walks_pages_from_zero(client, linkflow):
    route = linkflow.get("/v1/tags").mock(
        side_effect=[
            httpx.Response(200, json=[{"tagId": 1}, {"tagId": 2}]),
            httpx.Response(200, json=[{"tagId": 3}]),
        ]
    )
    assert [t["tagId"] for t in client.iter_tags(size=2)] == [1, 2, 3]
    assert [c.request.url.params["page"] for c in route.calls] == ["0", "1"]


def test_iter_contact_ids_stops_at_the_documented_window(client, linkflow, caplog):
    route = linkflow.get("/open/contacts_bulk/ids").mock(
        side_effect=lambda request: httpx.Response(
            200, json=list(range(int(request.url.params["size"])))
        )
    )
    ids = list(client.iter_contact_ids(size=4000, min_update_time="2017-01-01"))

    # pages 0, 1, 2: 2 × 4000 ≤ 10000 < 3 × 4000
    assert [c.request.url.params["page"] for c in route.calls] == ["0", "1", "2"]
    assert len(ids) == 12_000
    assert "documented window" in caplog.text
    assert route.calls.last.request.url.params["minUpdateTime"] == "2017-01-01"


def test_iter_contact_ids_stops_on_a_short_page(client, linkflow):
    route = linkflow.get("/open/contacts_bulk/ids").mock(
        side_effect=[httpx.Response(200, json=[1, 2]), httpx.Response(200, json=[3])]
    )
    assert list(client.iter_contact_ids(size=2)) == [1, 2, 3]
    assert route.call_count == 2


def test_iter_contacts_bulk_sends_100_ids_at_a_time_drawn_lazily(client, linkflow):
    drawn = []

    def ids():
        for i in range(1, 251):
            drawn.append(i)
            yield i

    route = linkflow.get("/open/contacts_bulk").mock(
        side_effect=lambda request: httpx.Response(
            200, json=[{"id": int(i)} for i in request.url.params["ids"].split(",")]
        )
    )
    contacts = client.iter_contacts_bulk(ids=ids(), need_open_id=True)
    assert next(contacts) == {"id": 1}
    assert (route.call_count, len(drawn)) == (1, 100)
    rest = list(contacts)
    assert len(rest) == 249
    assert [len(c.request.url.params["ids"].split(",")) for c in route.calls] == [100, 100, 50]
    assert route.calls.last.request.url.params["needOpenId"] == "1"


def test_iter_orders_in_cursor_mode_follows_the_last_id(client, linkflow):
    route = linkflow.get("/open/orders").mock(
        side_effect=[
            httpx.Response(200, json=[{"id": 5}, {"id": 8}]),
            httpx.Response(200, json=[{"id": 9}]),
            httpx.Response(200, json=[]),
        ]
    )
    orders = client.iter_orders(last_max_id=2)
    assert next(orders)["id"] == 5
    assert route.call_count == 1
    assert [o["id"] for o in orders] == [8, 9]
    assert [c.request.url.params["lastMaxId"] for c in route.calls] == ["2", "8", "9"]


def test_iter_orders_in_page_mode_walks_pages_from_one(client, linkflow):
    route = linkflow.get("/open/orders").mock(
        side_effect=[
            httpx.Response(200, json=[{"id": 1}]),
            httpx.Response(200, json=[{"id": 2}]),
            httpx.Response(200, json=[]),
        ]
    )
    orders = list(client.iter_orders(start_time="2023-01-01 00:00:00", end_time="2023-02-01"))
    assert [o["id"] for o in orders] == [1, 2]
    assert [dict(c.request.url.params) for c in route.calls][0] == {
        "page": "1",
        "startTime": "2023-01-01 00:00:00",
        "endTime": "2023-02-01",
    }
    assert [c.request.url.params["page"] for c in route.calls] == ["1", "2", "3"]


def test_iter_orders_in_page_mode_stops_after_page_100(client, linkflow):
    route = linkflow.get("/open/orders").mock(return_value=httpx.Response(200, json=[{"id": 1}]))
    assert sum(1 for _ in client.iter_orders(start_time="2023-01-01", end_time="2023-02-01")) == 100
    assert route.calls.last.request.url.params["page"] == "100"


def test_a_cursor_that_does_not_move_is_an_unexpected_answer(client, linkflow):
    from portal.integrations.linkflow.errors import LinkflowUnexpectedResponse

    linkflow.get("/open/orders").mock(return_value=httpx.Response(200, json=[{"id": 7}]))
    with pytest.raises(LinkflowUnexpectedResponse):
        list(client.iter_orders(last_max_id=7))
