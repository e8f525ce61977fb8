"""The Linkflow client's writes of contacts, events and orders (spec: 联系人和事件, 创建/更新订单),
the order list, reports, dashboards and short links, against the running sandbox over real
HTTP. What the client sent is read back from the sandbox's message log
(`/_control/linkflow/messages`) and from the API itself."""

from datetime import UTC

import httpx
import pytest

from portal.integrations.linkflow.client import contact_message, event_message, order_message
from sandbox.clock import format_datetime
from sandbox.linkflow.reports import REPORTS
from tests.integrations.linkflow_sandboxed import LinkflowSandbox

# A phone no seeded contact holds ("121" is not a prefix the sandbox hands out).
PHONE = "12100000001"
CHANNEL_KEY = "udc_portal"


@pytest.fixture
def lf(control) -> LinkflowSandbox:
    return LinkflowSandbox.reset(control)


def logged(lf: LinkflowSandbox, **filters) -> list[dict]:
    return lf.get("messages", **filters)["messages"]


# -- contacts and events ----------------------------------------------------------------


def test_messages_create_a_contact_and_track_its_events(lf):
    messages = [
        contact_message(
            {"name": "新客", "email": "new@example.com", "props": {"level": 3}}, message_id="m-1"
        ),
        event_message("JD_REACH_SENT", props={"campaign": "618"}, message_id="m-2"),
    ]
    identities = [{"id": PHONE, "type": "mobilePhone"}, {"id": "VIP-X1", "type": "memberNo"}]

    answer = lf.client.messages(
        channel_key=CHANNEL_KEY, identities=identities, messages=messages, request_id="req-1"
    )

    assert answer is None  # 200 with no body
    contact_id = lf.client.identity_contact(id_type="mobilePhone", id_value=PHONE)
    assert contact_id == lf.model.next_contact_id  # a new contact, after the seeded ones
    assert lf.client.identity_contact(id_type="memberNo", id_value="VIP-X1") == contact_id
    entries = logged(lf, request_id="req-1")
    assert [(e["domain"], e["action"], e["message_id"]) for e in entries] == [
        ("contact", "set", "m-1"),
        ("event", "track", "m-2"),
    ]
    assert {
        (e["contactId"], e["channelKey"], e["channelType"], e["duplicate"]) for e in entries
    } == {(contact_id, CHANNEL_KEY, "UDC", False)}
    assert entries[1]["data"] == messages[1]["data"]
    assert entries[1]["data"]["props"] == {"campaign": "618"}
    (held,) = lf.client.contacts_bulk(ids=[contact_id])
    assert (held["name"], held["email"], held["mobilePhone"], held["props"]) == (
        "新客",
        "new@example.com",
        PHONE,
        {"level": 3},
    )


def test_messages_sent_again_with_the_same_request_id_are_seen_as_duplicates(lf):
    def send():
        lf.client.messages(
            channel_key=CHANNEL_KEY,
            identities=[{"id": PHONE, "type": "mobilePhone"}],
            messages=[event_message("WECHAT_SENT", message_id="evt-1", ts=1_700_000_000_000)],
            request_id="write-back-42",
        )

    send()
    send()

    entries = logged(lf, request_id="write-back-42")
    assert [e["duplicate"] for e in entries] == [False, True]
    assert len({e["contactId"] for e in entries}) == 1
    assert entries[0]["ts"] == 1_700_000_000_000 and entries[0]["data"]["eventDate"] == (
        1_700_000_000_000
    )


@pytest.mark.parametrize("channel_type", ["UDC", "TTMP", "WECHAT_WXA"])
def test_messages_carry_each_documented_channel_type(lf, channel_type):
    lf.client.messages(
        channel_key=f"key_{channel_type.lower()}",
        channel_type=channel_type,
        identities=[{"id": PHONE, "type": "mobilePhone"}],
        messages=[contact_message({"name": "渠道"})],
    )

    (entry,) = logged(lf, domain="contact")
    assert (entry["channelType"], entry["channelKey"]) == (
        channel_type,
        f"key_{channel_type.lower()}",
    )


# -- orders -----------------------------------------------------------------------------


def test_order_messages_create_then_update_an_order(lf):
    last_seeded = max(o.id for o in lf.model.orders.orders.values())
    head = {"orderId": "PORTAL-1", "orderDate": format_datetime(lf.now)}

    lf.client.order_messages(
        channel_key=CHANNEL_KEY,
        identities=[{"id": PHONE, "type": "mobilePhone"}],
        messages=[
            order_message(
                head
                | {
                    "saleChannel": "京东",
                    "orderStatus": "TRADE_SUCCESS",
                    "totalPrice": 99.5,
                    "lines": [{"lineId": "L1", "productName": "维生素C", "quantity": 2}],
                },
                message_id="o-1",
            )
        ],
    )
    lf.client.order_messages(
        channel_key=CHANNEL_KEY,
        identities=[{"id": PHONE, "type": "mobilePhone"}],
        messages=[
            order_message(
                head
                | {"orderStatus": "TRADE_CLOSED", "lines": [{"lineId": "L1", "refundQuantity": 2}]}
            )
        ],
    )

    contact_id = lf.client.identity_contact(id_type="mobilePhone", id_value=PHONE)
    (order,) = lf.client.orders_after(last_max_id=last_seeded)
    assert (order["orderId"], order["contactId"], order["ver"]) == ("PORTAL-1", contact_id, 2)
    assert (order["orderStatus"], order["totalPrice"]) == ("TRADE_CLOSED", 99.5)
    (line,) = order["lines"]
    assert (line["lineId"], line["quantity"], line["refundQuantity"]) == ("L1", 2, 2)
    entries = logged(lf, domain="salesOrder")
    assert [(e["action"], e["contactId"]) for e in entries] == [("set", contact_id)] * 2
    assert entries[0]["message_id"] == "o-1"


def test_order_messages_from_youzan_map_its_order_status(lf):
    lf.client.order_messages(
        channel_key="youzan_sandbox",
        channel_type="YOUZAN",
        identities=[{"id": PHONE, "type": "mobilePhone"}],
        messages=[
            order_message(
                {
                    "orderId": "YZ-1",
                    "orderDate": "2025-06-18 10:00:00",
                    "saleChannel": "有赞",
                    "orderStatus": "TRADE_PAID",
                }
            )
        ],
    )

    order = list(lf.client.iter_orders())[-1]
    assert (order["orderId"], order["orderStatus"], order["orderOuterStatus"]) == (
        "YZ-1",
        "WAIT_SELLER_SEND_GOODS",
        "TRADE_PAID",
    )
    assert order["channelId"] == lf.model.youzan.id


def test_orders_after_answers_the_next_hundred_orders_by_id(lf):
    seeded = lf.model.orders.by_id()

    assert lf.client.orders_after() == [o.as_json() for o in seeded[:100]]
    assert lf.client.orders_after(last_max_id=seeded[149].id) == [o.as_json() for o in seeded[150:]]


def test_iter_orders_walks_every_order_by_the_cursor(lf):
    walked = list(lf.client.iter_orders())

    assert walked == [o.as_json() for o in lf.model.orders.by_id()]
    assert lf.answers("/open/orders") == [(200, None)] * 3  # 100 + 100 + an empty batch


def in_window(lf: LinkflowSandbox, first: int, last: int) -> tuple[list, object, object]:
    """The seeded orders updated in [the first-th, the last-th) update time, in the page
    mode's order, with the window's bounds."""
    by_time = sorted(lf.model.orders.by_id(), key=lambda o: (o.updated_at, o.id))
    start, end = by_time[first].updated_at, by_time[last].updated_at
    return [o for o in by_time if start <= o.updated_at < end], start, end


def test_orders_page_answers_orders_updated_in_the_window(lf):
    expected, start, end = in_window(lf, 30, 170)

    # an aware datetime in any zone is sent as China time; text is sent as it is
    page_1 = lf.client.orders_page(page=1, start_time=start.astimezone(UTC), end_time=end)
    page_2 = lf.client.orders_page(page=2, start_time=start, end_time=format_datetime(end))

    assert page_1 + page_2 == [o.as_json() for o in expected]
    assert (len(page_1), len(page_2)) == (100, len(expected) - 100)


def test_iter_orders_walks_the_pages_of_a_time_window(lf):
    expected, start, end = in_window(lf, 10, 190)

    walked = list(lf.client.iter_orders(start_time=start, end_time=end))

    assert walked == [o.as_json() for o in expected]
    assert len(lf.journal("/open/orders")) == 3  # 100 + 80 + an empty page


# -- reports and dashboards ---------------------------------------------------------------


def test_report_answers_status_0_then_the_result(lf):
    computing = {r.id: lf.client.report(report_id=r.id) for r in REPORTS}
    lf.advance(6)
    ready = {r.id: lf.client.report(report_id=r.id) for r in REPORTS}

    assert computing == {r.id: {"status": 0, "reportName": r.name} for r in REPORTS}
    for definition in REPORTS:
        assert ready[definition.id] == lf.model.report_builder.body(
            definition, today=lf.now.date(), contacts=lf.model.contact_count()
        )
    assert {body["chartType"] for body in ready.values()} == {
        "NUMBER", "PIE", "LINE", "BAR", "TWO_YAXIS", "STACK_BAR", "LINE_AREA", "TABLE"
    }  # fmt: skip


def test_dashboard_answers_its_name_and_reports(lf):
    summary = lf.client.dashboard(dashboard_id=21)

    name, report_ids = lf.model.dashboards[21]
    assert summary == {
        "kanBanName": name,
        "reports": [{"id": i, "reportName": lf.model.reports[i].name} for i in report_ids],
    }


# -- short links ------------------------------------------------------------------------


def test_short_url_tracks_a_link_with_its_utm(lf, sandbox_url):
    short = lf.client.short_url(
        url="https://shop.example.com/p/1?x=1", utm={"source": "jd", "campaign": "618"}
    )

    (link,) = lf.get("shorturls")["shorturls"]
    assert short == link["shorturl"] == f"{sandbox_url}/linkflow/s/{link['code']}"
    assert (link["url"], link["utm"], link["contactId"]) == (
        "https://shop.example.com/p/1?x=1",
        {"source": "jd", "campaign": "618"},
        None,
    )
    followed = httpx.get(short)
    assert followed.status_code == 302
    assert followed.headers["location"] == (
        "https://shop.example.com/p/1?x=1&utm_source=jd&utm_campaign=618"
    )
    assert lf.get("shorturls")["shorturls"][0]["clicks"] == 1


def test_short_url_distribute_tracks_a_link_per_contact(lf):
    contact = lf.contact(12)

    short = lf.client.short_url_distribute(
        url="https://shop.example.com/coupon", contact_id=contact.id, utm={"source": "wechat"}
    )

    (link,) = lf.get("shorturls")["shorturls"]
    assert short == link["shorturl"] and len(link["code"]) == 8
    assert (link["contactId"], link["utm"]) == (
        contact.id,
        {"source": "wechat", "term": str(contact.id)},
    )
