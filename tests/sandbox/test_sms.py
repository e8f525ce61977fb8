"""SMS endpoints (spec "短信相关"): short links, templates, signatures, balance, ledger."""

import json

import pytest

from tests.sandbox.conftest import DEMO, OTHER
from tests.sandbox.jd_client import expect_error

TRACKED = "https://www.jd.com/index.html?utm_source=isv&utm_campaign=pkg_10000087_100003730605"


def test_shorturl_answers_with_the_result_key_and_is_deterministic(jd):
    first = jd.post("/shorturl/create", {"url": TRACKED})
    again = jd.post("/shorturl/create", {"url": TRACKED})
    other = jd.post("/shorturl/create", {"url": TRACKED + "&x=1"})

    assert set(first) == {"result", "msg", "data"}
    assert first["result"] == "0"
    short = first["data"]["short_url"]
    assert short.startswith("3.cn/") and len(short) == len("3.cn/HaZCkiz")
    assert again["data"]["short_url"] == short != other["data"]["short_url"]


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://www.jd.com?utm_source=a&utm_campaign=a_b_c", "/"),
        ("https://www.jd.com/?utm_campaign=a_b_c", "utm_source"),
        ("https://www.jd.com/?utm_source=a", "utm_campaign"),
        ("https://www.jd.com/?utm_source=a&utm_campaign=a_b", "2个下划线"),
        ("www.jd.com/?utm_source=a&utm_campaign=a_b_c", "url格式错误"),
    ],
)
def test_shorturl_rules(jd, url, fragment):
    envelope = jd.post("/shorturl/create", {"url": url})

    assert envelope["result"] == "400" and envelope["data"] is None
    assert fragment in envelope["msg"]


def test_shorturl_accepts_a_slash_before_the_query(jd):
    envelope = jd.post(
        "/shorturl/create", {"url": "https://www.jd.com/?utm_source=a&utm_campaign=a_b_c"}
    )

    assert envelope["result"] == "0"


def test_templates_per_domain(jd):
    public = jd.ok_post("/sms/templates", {"master_id": DEMO, "type": 1})
    private = jd.ok_post("/sms/templates", {"master_id": DEMO, "type": "2"})

    by_id = {t["template_id"]: t for t in public}
    assert by_id["4366"] == {
        "template_id": "4366",
        "template_name": "戴森活动模板01",
        "template_content": (
            "亲爱的{nick},现诚邀您参加新品发布{time},请点击{url}参加此活动,回复TDQR退订"
        ),
        "template_params": '["nick", "time", "url"]',
    }
    assert json.loads(by_id["2121"]["template_params"]) == []
    for template in public + private:
        for key in json.loads(template["template_params"]):
            assert "{" + key + "}" in template["template_content"]
    assert any(t["template_content"].endswith("回复TD退订") for t in private)
    assert any(len(t["template_content"]) > 70 for t in public)
    assert any(len(t["template_content"]) > 70 for t in private)
    assert "4365" in {t["template_id"] for t in private}
    expect_error(jd.post("/sms/templates", {"master_id": DEMO, "type": 3}), "400", "type")
    expect_error(jd.post("/sms/templates", {"master_id": "nobody", "type": 1}), "404")


def test_signatures_are_private_and_per_brand(jd):
    mine = jd.ok_get("/sms/signature", master_id=DEMO, type="2")
    theirs = jd.ok_get("/sms/signature", master_id=OTHER, type="2")

    assert mine == [
        {
            "type": 2,
            "signature_id": "1c5466bb7e685bb2edb5d5854d6e5953",
            "signature_name": "【测试签名】",
        },
        {"type": 2, "signature_id": "13e", "signature_name": "【戴森测试】"},
    ]
    assert theirs and theirs[0]["signature_name"] == "【别家品牌】"
    expect_error(jd.get("/sms/signature", master_id=DEMO, type="1"), "400", "固定传2")
    expect_error(jd.get("/sms/signature", master_id=DEMO), "400", "type")


def test_balance_is_seeded(jd):
    envelope = jd.get("/sms/balance", master_id=DEMO)

    assert envelope == {
        "code": 0,
        "msg": "success",
        "data": {"public_balance": 65282, "private_balance": 97097},
    }


def test_recharge_records_page_and_filter_by_date(jd):
    everything = jd.ok_get("/sms/recharge", master_id=DEMO)
    paged = jd.ok_get("/sms/recharge", master_id=DEMO, page_num="2", page_size="2")
    recent = jd.ok_get("/sms/recharge", master_id=DEMO, start_date="2025-12-01 00:00:00")
    old = jd.ok_get(
        "/sms/recharge",
        master_id=DEMO,
        start_date="2025-11-01 00:00:00",
        end_date="2025-11-10 00:00:00",
    )

    assert (everything["total"], everything["pages"], everything["order_by"]) == (3, 1, None)
    row = everything["result"][0]
    assert set(row) == {"order_id", "number", "type", "status", "create_time"}
    assert row["create_time"] == "2025-12-29 10:00:00" and row["status"] == 1
    assert (paged["page_num"], paged["page_size"], len(paged["result"])) == (2, 2, 1)
    assert [r["number"] for r in recent["result"]] == [50000]
    assert [r["order_id"] for r in old["result"]] == ["1c5466bb7e685bb2edb5d5854d6e5953"]
    expect_error(
        jd.get("/sms/recharge", master_id=DEMO, start_date="2025-12-01"), "400", "start_date"
    )


def test_consumption_records(jd):
    records = jd.ok_get("/sms/consume", master_id=DEMO)

    assert records["total"] == 2
    assert set(records["result"][0]) == {"consume_id", "number", "type", "direction", "create_time"}
    assert {r["number"] for r in records["result"]} == {50, 8}
    assert jd.ok_get("/sms/consume", master_id=OTHER)["total"] == 0
    private = jd.ok_get("/sms/consume", master_id=DEMO, type="2")["result"]
    assert [(r["number"], r["type"]) for r in private] == [(8, 2)]
