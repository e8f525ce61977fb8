"""Crowd instances (spec "人群对象实例相关"): lifecycle, save-as, calc, split."""

import json

import pytest

from tests.sandbox.conftest import DEMO, OTHER, tag_condition
from tests.sandbox.jd_client import expect_error


def calc_condition(op: str, *package_ids: str, minus: tuple[str, ...] = ()) -> str:
    def terms(ids):
        return [{"term": {"package_id": {"value": package_id}}} for package_id in ids]

    body = {op: terms(package_ids)}
    if minus:
        body["must_not"] = terms(minus)
    return json.dumps({"bool": body})


def test_an_instance_generates_over_sandbox_time(jd, make_crowd, advance):
    search_id = make_crowd()
    package_id = jd.ok_post("/crowd/init", {"search_id": search_id})["package_id"]

    generating = jd.get(f"/crowd/instance/status/{package_id}")
    advance(19)
    still = jd.ok_get(f"/crowd/instance/status/{package_id}")
    advance(1)
    done = jd.ok_get(f"/crowd/instance/status/{package_id}")
    by_query = jd.ok_get("/crowd/instance/status", package_id=package_id)

    assert generating["code"] == 0
    assert generating["data"] == {
        "status": "0",
        "package_size": "0",
        "package_size_view": "0",
        "package_type": 1,
    }
    assert still["status"] == "0"
    assert done["status"] == "2"
    assert 1_000 <= int(done["package_size"]) <= 200_000
    assert done["package_size_view"] == done["package_size"]
    assert by_query == done
    expect_error(jd.get("/crowd/instance/status/8197a201-cff3-4251-99bc-0c0f67205316"), "404")


def test_the_size_is_a_function_of_the_condition(jd, make_package, size_of):
    first = make_package(tag_condition("TAG_001_02"))
    again = make_package(tag_condition("TAG_001_02"))
    other = make_package(tag_condition("TAG_001_03"))

    assert size_of(first) == size_of(again) != size_of(other)


def test_generation_time_and_failures_are_configurable(jd, client, make_crowd, advance):
    client.post(
        "/_control/config", json={"instance_generation_seconds": 60, "instance_failure_rate": 1.0}
    )
    package_id = jd.ok_post("/crowd/init", {"search_id": make_crowd()})["package_id"]

    advance(59)
    assert jd.ok_get(f"/crowd/instance/status/{package_id}")["status"] == "0"
    advance(1)
    failed = jd.ok_get(f"/crowd/instance/status/{package_id}")

    assert failed == {
        "status": "1",
        "package_size": "0",
        "package_size_view": "0",
        "package_type": 1,
    }


def test_save_as_copies_crowd_and_instance(jd, make_package, size_of):
    source = make_package(name="原人群")

    envelope = jd.post(
        "/crowd/instance/saveas",
        {"package_id": source, "crowd_name": "另存人群", "crowd_desc": "另存", "master_id": DEMO},
    )
    copy = envelope["data"]
    info = jd.ok_post("/crowd/info", {"search_id": copy["search_id"]})

    assert envelope["code"] == "0"
    assert size_of(copy["package_id"]) == size_of(source)
    assert info["crowd_type"] == 3 and info["crowd_name"] == "另存人群"
    union = jd.ok_post(
        "/crowd/instance/calc",
        {
            "data_type": "1",
            "crowd_name": "并",
            "crowd_desc": "并",
            "master_id": DEMO,
            "condition": calc_condition("should", source, copy["package_id"]),
        },
    )
    assert union["package_status"] == "0"


def test_save_as_refuses_another_brands_or_a_generating_package(jd, make_crowd, make_package):
    mine = make_package()
    generating = jd.ok_post("/crowd/init", {"search_id": make_crowd()})["package_id"]
    body = {"crowd_name": "x", "crowd_desc": "x"}

    other = jd.post("/crowd/instance/saveas", {**body, "package_id": mine, "master_id": OTHER})
    early = jd.post("/crowd/instance/saveas", {**body, "package_id": generating, "master_id": DEMO})

    expect_error(other, "404", "package_id")
    expect_error(early, "409", "生成中")


def calc(jd, condition: str, master_id: str = DEMO) -> dict:
    return jd.post(
        "/crowd/instance/calc",
        {
            "data_type": "1",
            "crowd_name": "计算",
            "master_id": master_id,
            "crowd_desc": "计算",
            "condition": condition,
        },
    )


def calculated_size(jd, advance, size_of, condition: str) -> int:
    envelope = calc(jd, condition)
    assert envelope["code"] == "0", envelope
    data = envelope["data"]
    assert set(data) == {"search_id", "package_id", "package_status"}
    assert data["package_status"] == "0"
    advance(20)
    return size_of(data["package_id"])


def test_calc_sizes_obey_set_algebra(jd, make_package, advance, size_of):
    a = make_package(tag_condition("TAG_001_01"))
    b = make_package(tag_condition("TAG_002_01", tag="TAG_002"))
    c = make_package(tag_condition("TAG_003_02", tag="TAG_003"))
    sizes = [size_of(p) for p in (a, b, c)]

    union = calculated_size(jd, advance, size_of, calc_condition("should", a, b, c))
    both = calculated_size(jd, advance, size_of, calc_condition("must", a, b))
    a_not_b = calculated_size(jd, advance, size_of, calc_condition("must", a, minus=(b,)))
    self_minus = calculated_size(jd, advance, size_of, calc_condition("should", a, minus=(a,)))

    assert max(sizes) <= union <= sum(sizes)
    assert both <= min(sizes[:2])
    assert a_not_b <= sizes[0]
    assert a_not_b + both == pytest.approx(sizes[0], abs=2)
    assert self_minus == 0


def test_calc_over_split_children_knows_they_are_disjoint(jd, make_package, advance, size_of):
    parent = make_package()
    halves = jd.ok_post(
        "/crowd/instance/split", {"package_id": parent, "type": "0", "ratio": ["甲|0.5", "乙|0.5"]}
    )
    first, second = (half["package_id"] for half in halves)

    overlap = calculated_size(jd, advance, size_of, calc_condition("must", first, second))
    whole = calculated_size(jd, advance, size_of, calc_condition("should", first, second))

    assert overlap == 0
    assert whole == size_of(first) + size_of(second)


def test_calc_rejects_bad_conditions_and_unusable_packages(jd, make_crowd, make_package):
    mine = make_package()
    theirs = make_package(master_id=OTHER, name="别家")
    generating = jd.ok_post("/crowd/init", {"search_id": make_crowd()})["package_id"]

    expect_error(calc(jd, calc_condition("must", mine, generating)), "409", "生成中")
    expect_error(calc(jd, calc_condition("must", mine, theirs)), "404", theirs)
    expect_error(calc(jd, calc_condition("must", mine, "nope")), "404")
    expect_error(calc(jd, tag_condition()), "400", "package_id")
    expect_error(
        calc(jd, '{"bool":{"must_not":[{"term":{"package_id":{"value":"x"}}}]}}'),
        "400",
        "must、should",
    )
    expect_error(calc(jd, "{oops"), "400", "JSON")


def split(jd, package_id: str, split_type: str, ratio: list) -> dict:
    return jd.post(
        "/crowd/instance/split", {"package_id": package_id, "type": split_type, "ratio": ratio}
    )


def test_split_by_ratio(jd, make_package, size_of):
    parent = make_package()
    size = size_of(parent)

    envelope = split(jd, parent, "0", ["测试抽取1|0.1", "测试抽取2|0.3"])

    assert envelope["code"] == 0
    first, second = envelope["data"]
    assert first["package_name"] == "测试抽取1|0.1" and second["package_name"] == "测试抽取2|0.3"
    assert first["package_size"] == str(size // 10)
    assert second["package_size"] == str(size * 3 // 10)
    for child in envelope["data"]:
        status = jd.ok_get(f"/crowd/instance/status/{child['package_id']}")
        assert status["status"] == "2" and status["package_size"] == child["package_size"]
    crowd_types = {
        row["crowd_type"]
        for row in jd.ok_post("/crowd/list", {"master_id": DEMO, "page_size": 50})["result"]
    }
    assert crowd_types == {1, 5}  # unfiltered, the list holds derived crowd objects too


def test_split_by_count(jd, make_package, size_of):
    parent = make_package()
    size = size_of(parent)

    children = split(jd, parent, "1", ["甲|1000", "乙|200"])["data"]
    everything = split(jd, parent, "1", [f"全部|{size}"])["data"]

    assert [c["package_size"] for c in children] == ["1000", "200"]
    assert everything[0]["package_size"] == str(size)


@pytest.mark.parametrize(
    ("split_type", "ratio", "fragment"),
    [
        ("0", ["甲|0.6", "乙|0.5"], "不能超过1"),
        ("0", ["甲|0"], "大于0"),
        ("0", ["甲|-0.1"], "大于0"),
        ("0", ["甲0.5"], "格式错误"),
        ("0", ["|0.5"], "名称"),
        ("0", ["甲|abc"], "不是数字"),
        ("1", ["甲|10.5"], "正整数"),
        ("1", ["甲|0"], "正整数"),
        ("1", ["甲|999999999"], "不能超过"),
        ("2", ["甲|1"], "type"),
        ("0", [], "ratio"),
    ],
)
def test_split_rules(jd, make_package, split_type, ratio, fragment):
    parent = make_package()

    expect_error(split(jd, parent, split_type, ratio), "400", fragment)


def test_split_needs_a_generated_source(jd, make_crowd):
    generating = jd.ok_post("/crowd/init", {"search_id": make_crowd()})["package_id"]

    expect_error(split(jd, generating, "0", ["甲|0.5"]), "409")
