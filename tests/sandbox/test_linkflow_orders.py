"""Linkflow orders (posted and listed by cursor and by page) and the message log the
control API shows (what the portal wrote back, duplicates included)."""

from __future__ import annotations

import pytest

from sandbox.linkflow.orders import FIRST_ORDER_ID
from tests.sandbox.linkflow_client import Linkflow, assert_error

WINDOW = {"startTime": "2025-10-01 00:00:00", "endTime": "2025-12-01 00:00:00"}


@pytest.fixture
def lf(client) -> Linkflow:
    return Linkflow.connect(client)


def order_body(order_id: str = "E20221028", **data) -> dict:
    return {
        "request_id": "req-1",
        "channelKey": "youzan_sandbox",
        "channelType": "YOUZAN",
        "identities": [{"id": "321100199012203412", "type": "idCard"}],
        "messages": [
            {
                "message_id": "msg-1",
                "domain": "salesOrder",
                "action": "set",
                "ts": 1663146117310,
                "data": {
                    "saleChannel": "有赞",
                    "orderId": order_id,
                    "orderStatus": "TRADE_PAID",
                    "orderDate": "2022-10-28 10:33:44",
                    "totalPrice": 100.24,
                    "lines": [{"lineId": "L1", "productName": "维生素C", "quantity": 2}],
                    **data,
                },
            }
        ],
    }


def newest(lf: Linkflow, after: int) -> list[dict]:
    return lf.ok("GET", "/open/orders", params={"lastMaxId": after})


@pytest.fixture
def seeded_max(lf) -> int:
    """The last seeded order's id (the 200 seeded orders are two cursor pages)."""
    first = lf.ok("GET", "/open/orders", params={"lastMaxId": 0})
    return lf.ok("GET", "/open/orders", params={"lastMaxId": first[-1]["id"]})[-1]["id"]


def test_seeded_orders_by_cursor(lf):
    first = lf.ok("GET", "/open/orders", params={"lastMaxId": 0})
    second = lf.ok("GET", "/open/orders", params={"lastMaxId": first[-1]["id"]})
    rest = lf.ok("GET", "/open/orders", params={"lastMaxId": second[-1]["id"]})

    assert (len(first), len(second), rest) == (100, 100, [])
    assert first[0]["id"] == FIRST_ORDER_ID and first[0]["lines"][0]["id"] == FIRST_ORDER_ID + 1
    ids = [o["id"] for o in first + second]
    assert ids == sorted(ids) and len(set(ids)) == 200
    order = first[0]
    for name in ("tenantId", "channelId", "contactId", "orderId", "orderStatus", "orderDate"):
        assert name in order
    assert list(order)[-1] == "lines" and {"lineId", "productName", "price"} <= set(
        order["lines"][0]
    )
    contact = lf.ok("GET", "/open/contacts_bulk", params={"ids": order["contactId"]})
    assert contact and not contact[0]["isAnonymous"]
    assert lf.ok("GET", "/open/orders") == first  # no parameter: the cursor from 0


def test_orders_by_page_over_the_update_window(lf):
    pages = [lf.ok("GET", "/open/orders", params={**WINDOW, "page": p}) for p in (1, 2, 3)]
    found = [o for page in pages for o in page]
    assert found and len(pages[0]) <= 100
    assert all(WINDOW["startTime"] <= o["lastUpdated"] < WINDOW["endTime"] for o in found)
    everything = lf.ok(
        "GET", "/open/orders", params={"page": 1, "startTime": "2000-01-01 00:00:00"}
    )
    assert len(everything) == 100
    assert_error(lf.call("GET", "/open/orders", params={**WINDOW, "page": 101}), 500, "B00093")
    assert lf.ok("GET", "/open/orders", params={**WINDOW, "page": 100}) == []
    assert_error(lf.call("GET", "/open/orders", params={**WINDOW, "page": 0}), 500, "B00010")
    bad_time = {"startTime": "2025/10/01", "page": 1}
    assert_error(lf.call("GET", "/open/orders", params=bad_time), 500, "B00010")


def test_an_order_is_created_then_updated(lf, advance, seeded_max):
    assert lf.call("POST", "/open/messages/orders", json=order_body()).status_code == 200
    created = newest(lf, seeded_max)
    assert len(created) == 1
    order = created[0]
    assert order["orderId"] == "E20221028" and order["ver"] == 1
    assert (order["orderStatus"], order["orderOuterStatus"]) == (
        "WAIT_SELLER_SEND_GOODS",
        "TRADE_PAID",
    )  # the spec's YouZan mapping
    contact_id = lf.ok(
        "GET", "/open/identity/contact", params={"id": "321100199012203412", "idType": "idCard"}
    )
    assert order["contactId"] == contact_id

    advance(60)
    update = order_body(
        orderStatus="TRADE_SUCCESS",
        lines=[{"lineId": "L1", "quantity": 3}, {"lineId": "L2", "productName": "维生素E"}],
    )
    update["messages"][0]["data"].pop("saleChannel")  # only required when creating
    assert lf.call("POST", "/open/messages/orders", json=update).status_code == 200
    (again,) = newest(lf, seeded_max)
    assert again["id"] == order["id"] and again["ver"] == 2
    assert again["orderStatus"] == "TRADE_SUCCESS" and again["saleChannel"] == "有赞"
    assert again["lastUpdated"] == "2026-01-05 10:01:00"
    lines = {line["lineId"]: line for line in again["lines"]}
    assert lines["L1"]["quantity"] == 3 and lines["L1"]["productName"] == "维生素C"
    assert lines["L2"]["id"] > order["id"]
    latest = lf.ok("GET", "/open/orders", params={"page": 1, "startTime": "2026-01-05 10:00:30"})
    assert [o["orderId"] for o in latest] == ["E20221028"]


def test_a_udc_order_keeps_a_system_status_and_maps_others(lf, seeded_max):
    body = order_body("U-1", orderStatus="SELLER_CONSIGNED_PART")
    body["channelType"], body["channelKey"] = "UDC", "udc_portal"
    assert lf.call("POST", "/open/messages/orders", json=body).status_code == 200
    other = order_body("U-2", orderStatus="SOMETHING_ELSE")
    other["channelType"] = "UDC"
    assert lf.call("POST", "/open/messages/orders", json=other).status_code == 200
    found = newest(lf, seeded_max)
    assert [o["orderStatus"] for o in found] == ["SELLER_CONSIGNED_PART", "OTHER"]


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b["messages"][0]["data"].pop("saleChannel"),
        lambda b: b["messages"][0]["data"].pop("orderId"),
        lambda b: b["messages"][0]["data"].pop("orderDate"),
        lambda b: b["messages"][0].update(domain="event"),
        lambda b: b["messages"][0].update(action="track"),
        lambda b: b.update(channelType="TTMP"),
        lambda b: b.update(identities=[]),
        lambda b: b["messages"][0]["data"].update(lines=[{"productName": "x"}]),
    ],
)
def test_order_messages_are_checked(lf, change, seeded_max):
    body = order_body()
    change(body)
    assert_error(lf.call("POST", "/open/messages/orders", json=body), 500, "B00010")
    assert newest(lf, seeded_max) == []


def test_the_message_log_shows_request_and_message_ids_and_duplicates(client, lf):
    event = {
        "request_id": "write-back-1",
        "channelKey": "udc_portal",
        "identities": [{"id": "13800000000", "type": "mobilePhone"}],
        "messages": [
            {
                "message_id": "m-1",
                "domain": "event",
                "action": "track",
                "ts": 1,
                "data": {"event": "jd_reach_sent", "props": {"package_id": "p-1"}},
            },
            {"message_id": "m-2", "domain": "contact", "action": "set", "ts": 1, "data": {}},
        ],
    }
    for _ in range(2):
        assert lf.call("POST", "/open/messages", json=event).status_code == 200
    assert lf.call("POST", "/open/messages/orders", json=order_body()).status_code == 200

    logged = client.get("/_control/linkflow/messages").json()["messages"]
    assert [(m["request_id"], m["message_id"], m["duplicate"]) for m in logged] == [
        ("write-back-1", "m-1", False),
        ("write-back-1", "m-2", False),
        ("write-back-1", "m-1", True),
        ("write-back-1", "m-2", True),
        ("req-1", "msg-1", False),
    ]
    assert (
        logged[0]["data"]["event"] == "jd_reach_sent"
        and logged[0]["endpoint"] == "/linkflow/open/messages"
    )
    assert logged[-1]["endpoint"] == "/linkflow/open/messages/orders"
    assert logged[0]["contactId"] == logged[2]["contactId"]
    events = client.get("/_control/linkflow/messages", params={"domain": "event"}).json()
    assert len(events["messages"]) == 2
    assert client.delete("/_control/linkflow/messages").json() == {"messages": []}
    assert client.get("/_control/linkflow/messages").json() == {"messages": []}
