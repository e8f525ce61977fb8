"""Reach (spec "触发人群营销"), SMS results and the response-node filter."""

import json
import math

import pytest

from sandbox.catalog import LONG_PUBLIC
from tests.sandbox.conftest import DEMO
from tests.sandbox.jd_client import expect_error

PARAMS = {"nick": "kocor", "time": "2019", "url": "http://jd.com"}
SIGNATURE = "1c5466bb7e685bb2edb5d5854d6e5953"  # 【测试签名】, seeded for the demo brand


def reach(jd, package_id: str, reach_type: str, params: dict) -> dict:
    return jd.post(
        "/crowd/instance/reach", {"package_id": package_id, "type": reach_type, "params": params}
    )


@pytest.fixture
def rich(client):
    """Enough balance to reach a full-size package."""
    client.post(
        "/_control/brands",
        json={"master_id": DEMO, "public_balance": 10**8, "private_balance": 10**8},
    )


def balance(jd) -> dict:
    return jd.ok_get("/sms/balance", master_id=DEMO)


def small_package(jd, make_package, count: int = 100) -> str:
    """A package of exactly `count` people (a split by count), so costs are easy to read."""
    parent = make_package()
    return jd.ok_post(
        "/crowd/instance/split", {"package_id": parent, "type": "1", "ratio": [f"触达|{count}"]}
    )[0]["package_id"]


VALID = {
    "SMSPUBLIC": {"template_id": "4366", "template_params": json.dumps(PARAMS)},
    "SMSPRIVATE": {
        "template_id": "4365",
        "template_params": json.dumps(PARAMS),
        "signature_id": SIGNATURE,
    },
    "COUPONPUBLIC": {
        "template_id": "4366",
        "template_params": json.dumps(PARAMS),
        "batch_id": "2222",
    },
    "COUPONPRIVATE": {
        "template_id": "4365",
        "template_params": json.dumps(PARAMS),
        "signature_id": SIGNATURE,
        "batch_id": "2222",
    },
}


@pytest.mark.parametrize("reach_type", list(VALID))
def test_each_type_accepts_exactly_its_parameters(jd, make_package, reach_type):
    package_id = small_package(jd, make_package)
    params = {**VALID[reach_type], "send_time": "2026-01-05 12:00:00"}

    envelope = reach(jd, package_id, reach_type, params)

    assert envelope == {"code": 0, "msg": "success", "data": {"status": "0"}}


@pytest.mark.parametrize(
    ("reach_type", "change", "fragment"),
    [
        ("SMSPUBLIC", {"signature_id": SIGNATURE}, "params.signature_id不是SMSPUBLIC"),
        ("SMSPUBLIC", {"batch_id": "1"}, "params.batch_id不是SMSPUBLIC"),
        ("SMSPRIVATE", {"batch_id": "1"}, "params.batch_id不是SMSPRIVATE"),
        ("COUPONPUBLIC", {"signature_id": SIGNATURE}, "params.signature_id不是COUPONPUBLIC"),
        ("SMSPRIVATE", {"signature_id": None}, "缺少必填参数signature_id"),
        ("COUPONPUBLIC", {"batch_id": None}, "缺少必填参数batch_id"),
        ("COUPONPRIVATE", {"batch_id": None}, "缺少必填参数batch_id"),
        ("SMSPUBLIC", {"template_id": None}, "缺少必填参数template_id"),
        ("SMSPUBLIC", {"template_params": None}, "缺少必填参数template_params"),
        ("SMSPUBLIC", {"color": "red"}, "params.color不是SMSPUBLIC"),
    ],
)
def test_parameter_sets_are_enforced(jd, make_package, reach_type, change, fragment):
    package_id = small_package(jd, make_package)
    params = {k: v for k, v in {**VALID[reach_type], **change}.items() if v is not None}

    expect_error(reach(jd, package_id, reach_type, params), "400", fragment)


@pytest.mark.parametrize(
    ("reach_type", "change", "code", "fragment"),
    [
        ("SMSPUBLIC", {"template_id": "4365"}, "400", "不是公域模板"),
        ("SMSPRIVATE", {"template_id": "4366"}, "400", "不是私域模板"),
        ("SMSPUBLIC", {"template_id": "9999"}, "404", "template_id"),
        ("SMSPUBLIC", {"template_params": '{"nick":"a","time":"b"}'}, "400", "占位符url"),
        ("SMSPUBLIC", {"template_params": "nick=a"}, "400", "template_params"),
        ("SMSPRIVATE", {"signature_id": "nope"}, "404", "signature_id"),
        ("SMSPUBLIC", {"send_time": "2026/01/05 12:00"}, "400", "yyyy-MM-dd HH:mm:ss"),
    ],
)
def test_templates_signatures_and_times_are_checked(
    jd, make_package, reach_type, change, code, fragment
):
    package_id = small_package(jd, make_package)

    expect_error(reach(jd, package_id, reach_type, {**VALID[reach_type], **change}), code, fragment)


def test_reach_spends_the_right_balance_and_records_the_consumption(jd, make_package):
    before = balance(jd)
    public = small_package(jd, make_package, 100)
    private = small_package(jd, make_package, 30)

    reach(jd, public, "SMSPUBLIC", VALID["SMSPUBLIC"])
    reach(jd, private, "COUPONPRIVATE", VALID["COUPONPRIVATE"])
    after = balance(jd)
    consumed = jd.ok_get("/sms/consume", master_id=DEMO)["result"]

    assert after == {
        "public_balance": before["public_balance"] - 100,
        "private_balance": before["private_balance"] - 30,
    }
    assert {(c["number"], c["type"], c["direction"]) for c in consumed[:2]} == {
        (100, 1, 1),
        (30, 2, 1),
    }


def test_long_texts_cost_several_segments(jd, make_package):
    package_id = small_package(jd, make_package, 10)
    values = {
        "shop": "测试旗舰店",
        "nick": "张三",
        "product": "吸尘器",
        "discount": "300",
        "time": "6月18日",
        "url": "3.cn/HaZCkiz",
    }
    text = "【京东】" + LONG_PUBLIC.format(**values)
    before = balance(jd)["public_balance"]

    envelope = reach(
        jd, package_id, "SMSPUBLIC", {"template_id": "4371", "template_params": json.dumps(values)}
    )

    assert envelope["code"] == 0
    assert math.ceil(len(text) / 67) >= 2
    assert before - balance(jd)["public_balance"] == 10 * math.ceil(len(text) / 67)


def test_an_insufficient_balance_changes_nothing(jd, client, make_package):
    client.post("/_control/brands", json={"master_id": DEMO, "public_balance": 99})
    package_id = small_package(jd, make_package, 100)
    consumed_before = jd.ok_get("/sms/consume", master_id=DEMO)["total"]

    envelope = reach(jd, package_id, "SMSPUBLIC", VALID["SMSPUBLIC"])

    expect_error(envelope, "400", "短信余额不足", "100", "99")
    assert balance(jd)["public_balance"] == 99
    assert jd.ok_get("/sms/consume", master_id=DEMO)["total"] == consumed_before
    expect_error(jd.post("/sms/result", {"package_id": package_id}), "409", "未触达")


def test_a_package_is_reached_once_and_only_when_generated(jd, make_crowd, make_package):
    package_id = small_package(jd, make_package)
    generating = jd.ok_post("/crowd/init", {"search_id": make_crowd()})["package_id"]

    assert reach(jd, package_id, "SMSPUBLIC", VALID["SMSPUBLIC"])["code"] == 0
    expect_error(reach(jd, package_id, "SMSPUBLIC", VALID["SMSPUBLIC"]), "409", "已触达")
    expect_error(reach(jd, generating, "SMSPUBLIC", VALID["SMSPUBLIC"]), "409", "生成中")
    expect_error(reach(jd, package_id, "MMS", VALID["SMSPUBLIC"]), "400", "type")


def test_sms_results_appear_at_send_time_and_sum_to_the_package(
    jd, rich, make_package, advance, size_of
):
    package_id = make_package()
    size = size_of(package_id)
    reach(jd, package_id, "SMSPUBLIC", {**VALID["SMSPUBLIC"], "send_time": "2026-01-05 11:00:00"})

    before = jd.ok_post("/sms/result", {"package_id": package_id})
    advance(3600)
    after = jd.ok_post("/sms/result", {"package_id": package_id})

    assert before == {"success": 0, "failed": 0, "restrict": 0, "unknown": 0}
    assert sum(after.values()) == size
    assert 0.88 < after["success"] / size < 0.95
    assert min(after["failed"], after["restrict"], after["unknown"]) > 0


def test_filter_makes_one_package_per_response_type(jd, rich, make_package, size_of):
    package_id = make_package()
    reach(jd, package_id, "SMSPUBLIC", VALID["SMSPUBLIC"])
    result = jd.ok_post("/sms/result", {"package_id": package_id})

    envelope = jd.post(
        "/crowd/instance/filter", {"package_id": package_id, "filter_types": ["4", 3]}
    )
    spec_spelling = jd.post(
        "/crowd/instance/filter", {"package_id": package_id, "filter_type": ["1", "2"]}
    )

    assert envelope["code"] == "0"
    assert [row["filter_type"] for row in envelope["data"]] == ["4", "3"]
    success, failed = (row["package_id"] for row in envelope["data"])
    assert size_of(success) == result["success"]
    assert size_of(failed) == result["failed"]
    restrict, unknown = (row["package_id"] for row in spec_spelling["data"])
    assert (size_of(restrict), size_of(unknown)) == (result["restrict"], result["unknown"])
    info = jd.ok_post("/crowd/list", {"master_id": DEMO, "page_size": 50})["result"]
    assert sum(1 for row in info if row["crowd_type"] == 7) == 4


def test_filter_needs_a_sent_reach_and_valid_types(jd, rich, make_package):
    package_id = make_package()

    expect_error(
        jd.post("/crowd/instance/filter", {"package_id": package_id, "filter_types": ["1"]}),
        "409",
        "未通过",
    )
    reach(jd, package_id, "SMSPUBLIC", {**VALID["SMSPUBLIC"], "send_time": "2026-01-06 09:00:00"})
    expect_error(
        jd.post("/crowd/instance/filter", {"package_id": package_id, "filter_types": ["1"]}),
        "409",
        "尚未发送",
    )
    expect_error(
        jd.post("/crowd/instance/filter", {"package_id": package_id, "filter_types": ["5"]}),
        "400",
        "1/2/3/4",
    )
