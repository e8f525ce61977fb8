"""Brand verification, tag catalog and crowd objects (spec "人群对象相关")."""

import json

import pytest

from tests.sandbox.conftest import DEMO, OTHER, tag_condition
from tests.sandbox.jd_client import expect_error, expect_ok

# The spec's own examples, verbatim apart from the quotes.
SPEC_CREATE_CONDITION = (
    '{"bool":{"must":[{"bool":{"group":"011","must":[{"range":{"TAG_513":{"gte":1}}},'
    '{"term":{"TAG_501":{"value":1000002847}}}]}}]}}'
)
SPEC_TYPICAL = {
    "bool": {
        "must": [
            {
                "bool": {
                    "group": "001",
                    "must": [
                        {"term": {"TAG_001": {"value": "TAG_001_02"}}},
                        {"terms": {"TAG_021": ["TAG_021_02", "TAG_021_05"]}},
                        {
                            "bool": {
                                "should": [
                                    {"term": {"TAG_025": {"value": "TAG_025_01"}}},
                                    {"term": {"TAG_028": {"value": "TAG_028_04"}}},
                                ]
                            }
                        },
                    ],
                }
            },
            {
                "bool": {
                    "group": "011",
                    "must": [
                        {"term": {"TAG_501": {"value": "10000032222"}}},
                        {"range": {"TAG_503": {"gt": 10}}},
                    ],
                }
            },
        ]
    }
}
SPEC_INFO_CONDITION = {
    "bool": {
        "must": [
            {
                "bool": {
                    "group": "003",
                    "must": [
                        {
                            "bool": {
                                "must": [
                                    {"range": {"TAG_321": {"gte": 1}}},
                                    {"terms": {"TAG_310": ["100000652875", "100000652897"]}},
                                ]
                            }
                        },
                        {"term": {"TAG_309": {"value": 1000003263}}},
                    ],
                }
            }
        ]
    }
}
OTHER_EXAMPLES = [
    {
        "bool": {
            "must": [
                {
                    "bool": {
                        "group": "008",
                        "must": [
                            {"terms": {"TAG_805": ["7066", "7069", "7070", "7068", "7067", "7071"]}}
                        ],
                    }
                }
            ]
        }
    },
    {
        "bool": {
            "should": [
                {"bool": {"group": "012", "must": [{"range": {"TAG_552": {"gte": 1, "lte": 3}}}]}}
            ]
        }
    },
    {
        "bool": {
            "must": [
                {"bool": {"group": "001", "must": [{"term": {"TAG_020": {"value": "TAG_020_01"}}}]}}
            ]
        }
    },
]


def create_body(condition, /, **overrides) -> dict:
    body = {
        "data_type": "1",
        "crowd_name": "测试人群对象名称",
        "crowd_desc": "测试人群对象描述",
        "master_id": DEMO,
        "crowd_type": "1",
        "package_type": 1,
        "condition": condition if isinstance(condition, str) else json.dumps(condition),
    }
    return {**body, **overrides}


def test_master_verify_knows_the_seeded_pins(jd):
    assert jd.ok_post("/master/verify", {"master_pin": "jiangkun"}) == {
        "valid": "1",
        "master_id": DEMO,
    }
    assert jd.ok_post("/master/verify", {"master_pin": "other_brand_pin"})["master_id"] == OTHER
    assert jd.ok_post("/master/verify", {"master_pin": "stranger"}) == {"valid": "0"}
    expect_error(jd.post("/master/verify", {}), "400", "master_pin")


def test_tag_catalog_covers_the_spec_and_more(jd):
    envelope = jd.get("/tag/list/v2")
    tags = {tag["tag"]: tag for tag in expect_ok(envelope)}

    assert envelope["code"] == "0"  # this endpoint answers a string code, as its example
    assert len(tags) >= 40
    assert {"001", "003", "011"} <= {tag["table_cd"] for tag in tags.values()}
    spec_tags = "001 020 021 025 028 101 309 310 316 321 501 503 504 507 513 515 552 805"
    assert {f"TAG_{n}" for n in spec_tags.split()} <= set(tags)
    assert tags["TAG_001"] == {
        "tag": "TAG_001",
        "instruction": "用户年龄",
        "table_cd": "001",
        "tag_type": "1",
        "enums": ["15岁~25岁", "35岁~45岁", "45岁~55岁", "55岁以上"],
    }
    assert tags["TAG_101"]["tag_type"] == "0" and tags["TAG_101"]["enums"] == ["是", "否"]
    assert tags["TAG_501"]["enums"] == [] and tags["TAG_503"]["enums"] == []
    assert all(tag["instruction"] for tag in tags.values())


def test_create_accepts_the_spec_examples(jd):
    private = jd.ok_post("/crowd/create/v2", create_body(SPEC_CREATE_CONDITION, package_type=2))
    typical = jd.ok_post("/crowd/create/v2", create_body(SPEC_TYPICAL, package_type=2))
    info = jd.ok_post("/crowd/create/v2", create_body(SPEC_INFO_CONDITION, package_type=2))
    others = [jd.ok_post("/crowd/create/v2", create_body(c)) for c in OTHER_EXAMPLES]

    for answer in [private, typical, info, *others]:
        assert len(answer["search_id"]) == 32
        int(answer["search_id"], 16)


def test_enum_values_may_be_display_values(jd):
    condition = {
        "bool": {
            "must": [
                {"bool": {"group": "001", "must": [{"term": {"TAG_001": {"value": "35岁~45岁"}}}]}}
            ]
        }
    }

    assert jd.ok_post("/crowd/create/v2", create_body(condition))["search_id"]


@pytest.mark.parametrize(
    ("condition", "fragments"),
    [
        ("not json", ["condition", "JSON"]),
        ('{"must": []}', ["第一层必须是bool"]),
        ('{"bool": {"must": [], "should": []}}', ["must、should"]),
        ('{"bool": {"must_not": [{"bool": {}}]}}', ["must、should"]),
        ('{"bool": {"must": [{"term": {"TAG_001": {"value": "TAG_001_01"}}}]}}', ["group"]),
        ('{"bool": {"must": [{"bool": {"must": []}}]}}', ["group"]),
        (tag_condition("x", tag="TAG_999"), ["未知的标签TAG_999"]),
        (tag_condition("TAG_001_09"), ["TAG_001_09", "枚举值"]),
        (tag_condition("TAG_101_01", tag="TAG_101"), ["属于分组003"]),
        (
            json.dumps(
                {
                    "bool": {
                        "must": [
                            {
                                "bool": {
                                    "group": "001",
                                    "must": [
                                        {
                                            "bool": {
                                                "must": [{"term": {"TAG_002": {"value": "男"}}}],
                                                "must_not": [
                                                    {"term": {"TAG_002": {"value": "女"}}}
                                                ],
                                            }
                                        }
                                    ],
                                }
                            }
                        ]
                    }
                }
            ),
            ["must_not只能出现在第一层"],
        ),
        (
            json.dumps(
                {
                    "bool": {
                        "must": [
                            {
                                "bool": {
                                    "group": "011",
                                    "must": [
                                        {"range": {"TAG_503": {"gt": 10}}},
                                        {"range": {"TAG_504": {"gt": 50}}},
                                    ],
                                }
                            }
                        ]
                    }
                }
            ),
            ["不同时间窗口"],
        ),
        (
            json.dumps(
                {
                    "bool": {
                        "must": [
                            {"bool": {"group": "001", "must": [{"range": {"TAG_001": {"gte": 1}}}]}}
                        ]
                    }
                }
            ),
            ["不支持range"],
        ),
    ],
)
def test_create_rejects_bad_conditions_naming_the_problem(jd, condition, fragments):
    package_type = 2 if "TAG_50" in condition else 1

    envelope = jd.post("/crowd/create/v2", create_body(condition, package_type=package_type))

    expect_error(envelope, "400", *fragments)


def test_package_type_must_agree_with_private_tags(jd):
    wrong_private = jd.post("/crowd/create/v2", create_body(SPEC_CREATE_CONDITION, package_type=1))
    wrong_public = jd.post("/crowd/create/v2", create_body(tag_condition(), package_type=2))

    expect_error(wrong_private, "400", "私域标签TAG_501、TAG_513", "必须为2")
    expect_error(wrong_public, "400", "package_type必须为1")


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"crowd_name": None}, "crowd_name"),
        ({"data_type": "2"}, "data_type"),
        ({"crowd_type": "2"}, "crowd_type"),
        ({"package_type": 3}, "package_type"),
        ({"package_type": "abc"}, "package_type"),
        ({"condition": {"bool": {}}}, "condition"),
    ],
)
def test_create_validates_its_fields(jd, override, fragment):
    expect_error(
        jd.post("/crowd/create/v2", create_body(tag_condition(), **override)), "400", fragment
    )


def test_create_for_an_unknown_brand_is_not_found(jd):
    expect_error(jd.post("/crowd/create/v2", create_body(tag_condition(), master_id="x")), "404")


def test_edit_info_and_delete(jd, make_crowd):
    search_id = make_crowd()
    new_condition = tag_condition("TAG_001_03")

    edited = jd.post(
        "/crowd/edit/v2",
        {"search_id": search_id, "condition": new_condition, "crowd_desc": "新的描述"},
    )
    info = jd.post("/crowd/info", {"search_id": search_id})

    assert edited == {"code": "0", "msg": "success", "data": {"status": "0"}}
    assert info["code"] == 0
    assert info["data"] == {
        "search_id": search_id,
        "data_type": "1",
        "crowd_type": 1,
        "condition": new_condition,
        "crowd_name": "测试人群对象名称",
        "crowd_desc": "新的描述",
        "master_id": DEMO,
        "package_type": 1,
    }
    expect_error(
        jd.post("/crowd/edit/v2", {"search_id": search_id, "condition": SPEC_CREATE_CONDITION}),
        "400",
        "package_type",
    )
    assert jd.ok_post("/crowd/del", {"search_id": search_id}) == {"status": "0"}
    expect_error(jd.post("/crowd/info", {"search_id": search_id}), "404", "search_id")


def test_list_pages_filters_and_searches(jd, make_crowd, advance):
    for index in range(12):
        make_crowd(tag_condition(f"TAG_001_0{index % 4 + 1}"), name=f"人群{index:02d}")
        advance(1)
    make_crowd(SPEC_CREATE_CONDITION, package_type=2, name="私域人群")
    make_crowd(name="别家人群", master_id=OTHER)

    first = jd.ok_post("/crowd/list", {"master_id": DEMO})
    second = jd.ok_post("/crowd/list", {"master_id": DEMO, "page_num": 2, "page_size": 10})
    private = jd.ok_post("/crowd/list", {"master_id": DEMO, "package_type": 2})
    search = jd.ok_post("/crowd/list", {"master_id": DEMO, "crowd_name": "人群0"})
    saved = jd.ok_post("/crowd/list", {"master_id": DEMO, "crowd_type": 3})

    assert (first["total"], first["pages"], first["page_num"], first["page_size"]) == (13, 2, 1, 10)
    assert first["order_by"] is None
    assert len(first["result"]) == 10 and len(second["result"]) == 3
    assert first["result"][0]["crowd_name"] == "私域人群"  # newest first
    row = first["result"][1]
    assert set(row) >= {
        "search_id",
        "data_type",
        "crowd_type",
        "condition",
        "crowd_name",
        "crowd_desc",
        "master_id",
        "create_time",
        "package_type",
    }
    assert row["create_time"] == "2026-01-05 10:00:11"
    assert [r["crowd_name"] for r in private["result"]] == ["私域人群"]
    assert search["total"] == 10
    assert saved["total"] == 0
    expect_error(jd.post("/crowd/list", {"master_id": DEMO, "crowd_type": 2}), "400", "1/3/4")


def test_init_returns_a_uuid_package(jd, make_crowd):
    search_id = make_crowd()

    envelope = jd.post("/crowd/init", {"search_id": search_id})

    assert envelope["code"] == "0"
    assert envelope["data"]["search_id"] == search_id
    package_id = envelope["data"]["package_id"]
    assert len(package_id) == 36 and package_id[14] == "4"
    expect_error(jd.post("/crowd/init", {"search_id": "0" * 32}), "404")
