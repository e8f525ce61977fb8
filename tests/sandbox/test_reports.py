"""Marketing reports (spec "报表相关")."""

import json
import os
import re

import pytest

from tests.sandbox.conftest import DEMO, OTHER
from tests.sandbox.jd_client import expect_error

PARTNER = os.environ.get("JDCLOUD_PARTNER_ID", "sandbox-partner")
METRICS = [
    "pv",
    "uv",
    "cart_num",
    "sku_pv_num",
    "sku_uv_num",
    "shop_pv_num",
    "shop_uv_num",
    "follow_sku_num",
    "follow_shop_num",
    "ord_pins",
    "ord_amount",
    "ord_num",
    "ord_qtty",
    "pay_pins",
    "pay_amount",
    "pay_num",
    "pay_qtty",
    "people_sent_num",
    "delivered_num",
    "coupon_pins",
    "coupon_use_pins",
    "coupon_orders",
    "coupon_amount",
]
TOP5 = [
    "browse_sku_top5",
    "cart_add_top5",
    "follow_product_top5",
    "ord_qtty_top5",
    "ord_amount_top5",
    "pay_qtty_top5",
    "pay_amount_top5",
]
TOP5_ENTRY = re.compile(r"^([1-5])_(\d{7,12})_(\d+(?:\.\d)?)$")


@pytest.fixture
def reached(jd, client, make_package) -> str:
    client.post("/_control/brands", json={"master_id": DEMO, "private_balance": 10**8})
    package_id = make_package()
    params = {
        "template_id": "4365",
        "signature_id": "13e",
        "batch_id": "2222",
        "template_params": json.dumps({"nick": "a", "time": "b", "url": "c"}),
    }
    envelope = jd.post(
        "/crowd/instance/reach",
        {"package_id": package_id, "type": "COUPONPRIVATE", "params": params},
    )
    assert envelope["code"] == 0
    return package_id


def report(jd, day: str, **extra) -> dict:
    return jd.post(
        "/report", {"master_id": DEMO, "partner_id": PARTNER, "report_date": day, **extra}
    )


def test_a_reached_package_is_reported_from_the_next_day(jd, reached, advance, size_of):
    today = report(jd, "2026-01-05")
    advance(86400)
    yesterday = report(jd, "2026-01-05")
    both = report(jd, "2026-01-05", report_type="all")

    assert today["data"]["report_data"] == []
    data = yesterday["data"]
    assert (data["partner_id"], data["report_date"], data["shop_id"]) == (
        PARTNER,
        "2026-01-05",
        "10000087",
    )
    (row,) = data["report_data"]
    assert row["package_id"] == reached and row["reach_type"] == "COUPONPRIVATE"
    assert row["shop_id"] == "10000087" and row["report_type"] == "exposure"
    assert row["op_time"] == "2026-01-06"
    assert set(METRICS + list(TOP5)) <= set(row)
    assert row["pv"] >= row["uv"] >= row["cart_num"] >= row["ord_pins"] >= row["pay_pins"]
    assert row["ord_num"] >= row["pay_num"] and row["ord_qtty"] >= row["pay_qtty"]
    assert row["people_sent_num"] == size_of(reached)
    assert 0 < row["delivered_num"] <= row["people_sent_num"]
    assert row["coupon_pins"] >= row["coupon_use_pins"]
    assert [r["report_type"] for r in both["data"]["report_data"]] == ["click", "exposure"]


def test_top5_strings_have_the_spec_format(jd, reached, advance):
    advance(86400 * 6)
    rows = [
        row
        for day in range(5, 11)
        for row in report(jd, f"2026-01-{day:02d}", report_type="all")["data"]["report_data"]
    ]
    orders = []

    for row in rows:
        for name in TOP5:
            if not row[name]:
                continue
            entries = [TOP5_ENTRY.match(entry) for entry in row[name].split("*")]
            assert all(entries), row[name]
            ranks = [int(entry.group(1)) for entry in entries]
            assert sorted(ranks) == [1, 2, 3, 4, 5]
            by_rank = [float(entry.group(3)) for entry in sorted(entries, key=lambda e: e.group(1))]
            assert by_rank == sorted(by_rank, reverse=True)
            orders.append(ranks)
    assert len(rows) == 12
    assert [1, 2, 3, 4, 5] in orders
    assert [1, 2, 4, 5, 3] in orders  # out of rank order, as in the spec's example


def test_reports_are_deterministic(jd, reached, advance):
    advance(86400)

    assert report(jd, "2026-01-05") == report(jd, "2026-01-05")


def test_report_create_registers_a_non_reached_package(jd, make_package, advance):
    package_id = make_package()
    body = {
        "package_id": package_id,
        "master_id": DEMO,
        "partner_id": PARTNER,
        "report_date": "2026-01-03 00:00:00",
    }

    assert jd.ok_post("/report/create", body) == {"status": "0"}
    rows = report(jd, "2026-01-03")["data"]["report_data"]

    assert [(r["package_id"], r["reach_type"], r["delivered_num"]) for r in rows] == [
        (package_id, "NULL", 0)
    ]
    assert report(jd, "2026-01-02")["data"]["report_data"] == []


def test_report_create_checks_partner_brand_and_reach(jd, reached, make_package):
    mine = make_package()
    body = {"package_id": mine, "master_id": DEMO, "partner_id": PARTNER}

    expect_error(jd.post("/report/create", {**body, "partner_id": "zhike"}), "403", "partner_id")
    expect_error(jd.post("/report/create", {**body, "master_id": OTHER}), "404", "package_id")
    expect_error(jd.post("/report/create", {**body, "package_id": reached}), "409", "已触达")
    expect_error(
        jd.post("/report/create", {**body, "report_date": "yesterday"}), "400", "report_date"
    )


def test_report_validates_its_parameters(jd):
    expect_error(report(jd, "2026/01/04"), "400", "yyyy-MM-dd")
    expect_error(report(jd, "2026-01-04", report_type="views"), "400", "report_type")
    expect_error(
        jd.post("/report", {"master_id": DEMO, "report_date": "2026-01-04"}), "400", "partner_id"
    )


def test_report_pull(jd):
    envelope = jd.post("/report/pull", {"partner_id": PARTNER, "report_date": "2026-01-04"})

    assert envelope == {"code": 0, "msg": "success", "data": {"status": "0"}}
    assert jd.ok_post("/report/pull", {"partner_id": PARTNER}) == {"status": "0"}
    expect_error(
        jd.post("/report/pull", {"partner_id": PARTNER, "report_date": "2026-01-05"}),
        "400",
        "今天之前",
    )
