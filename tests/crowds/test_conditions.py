"""The condition DSL of spec "请求参数condition参数详解", checked before JD Cloud sees it."""

from __future__ import annotations

import copy
import json
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowds.conditions import (
    CatalogTag,
    TagCatalog,
    Violation,
    builder_from_condition,
    check_package_type,
    compile_builder,
    describe,
    package_ids_in,
    package_type_for,
    parse,
    parse_or_empty,
    tags_used,
    validate_builder,
    validate_condition,
    validate_package_condition,
)

LEVELS = ("L1-1", "L1-2", "L1-3", "L1-4", "L1-5")
SENSITIVITY = ("不敏感", "轻度敏感", "中度敏感", "高度敏感")

# As `/tag/list/v2` sends them; the spec's sample rows first (with its "enums " typo).
CATALOG_ROWS = [
    {
        "tag": "TAG_001",
        "instruction": "用户年龄",
        "table_cd": "001",
        "tag_type": "1",
        "enums": ["15岁~25岁", "35岁~45岁", "45岁~55岁", "55岁以上"],
    },
    {
        "tag": "TAG_101",
        "instruction": "店铺会员",
        "table_cd": "003",
        "tag_type": "0",
        "enums ": ["是", "否"],
    },
    {
        "tag": "TAG_020",
        "instruction": "婚姻状况",
        "table_cd": "001",
        "tag_type": "1",
        "enums": ["已婚", "未婚", "未知"],
    },
    {
        "tag": "TAG_021",
        "instruction": "年龄段",
        "table_cd": "001",
        "tag_type": "1",
        "enums": ["15岁及以下", "16-25岁", "26-35岁", "36-45岁", "46-55岁", "56岁及以上"],
    },
    {
        "tag": "TAG_025",
        "instruction": "促销敏感度类型",
        "table_cd": "001",
        "tag_type": "1",
        "enums": list(LEVELS),
    },
    {
        "tag": "TAG_028",
        "instruction": "用户大促偏好",
        "table_cd": "001",
        "tag_type": "1",
        "enums": list(SENSITIVITY),
    },
    {
        "tag": "TAG_102",
        "instruction": "店铺会员等级",
        "table_cd": "003",
        "tag_type": "0",
        "enums": ["普通会员", "金卡会员"],
    },
    {
        "tag": "TAG_322",
        "instruction": "店铺累计消费金额",
        "table_cd": "003",
        "tag_type": "0",
        "enums": [],
    },
    {
        "tag": "TAG_805",
        "instruction": "偏好三级品类ID",
        "table_cd": "008",
        "tag_type": "1",
        "enums": [],
    },
    {"tag": "TAG_501", "instruction": "店铺ID", "table_cd": "011", "tag_type": "0", "enums": []},
    {
        "tag": "TAG_502",
        "instruction": "店铺搜索词",
        "table_cd": "011",
        "tag_type": "0",
        "enums": [],
    },
    {
        "tag": "TAG_503",
        "instruction": "用户对店铺三日浏览量",
        "table_cd": "011",
        "tag_type": "0",
        "enums": [],
    },
    {
        "tag": "TAG_504",
        "instruction": "用户对店铺七日浏览量",
        "table_cd": "011",
        "tag_type": "0",
        "enums": [],
    },
    {
        "tag": "TAG_507",
        "instruction": "用户对店铺三日加购量",
        "table_cd": "011",
        "tag_type": "0",
        "enums": [],
    },
    {
        "tag": "TAG_513",
        "instruction": "用户对店铺一日成交量",
        "table_cd": "011",
        "tag_type": "0",
        "enums": [],
    },
    {
        "tag": "TAG_515",
        "instruction": "用户对店铺七日成交量",
        "table_cd": "011",
        "tag_type": "0",
        "enums": [],
    },
    {
        "tag": "TAG_518",
        "instruction": "近7天店铺搜索词",
        "table_cd": "011",
        "tag_type": "0",
        "enums": [],
    },
    {
        "tag": "TAG_551",
        "instruction": "近30天购买次数",
        "table_cd": "012",
        "tag_type": "1",
        "enums": [],
    },
    {
        "tag": "TAG_552",
        "instruction": "近90天购买品类数",
        "table_cd": "012",
        "tag_type": "1",
        "enums": [],
    },
    {
        "tag": "TAG_553",
        "instruction": "最近一次购买距今天数",
        "table_cd": "012",
        "tag_type": "1",
        "enums": [],
    },
]


@cache
def spec_catalog() -> TagCatalog:
    return TagCatalog.from_dicts(CATALOG_ROWS)


@pytest.fixture
def catalog() -> TagCatalog:
    return spec_catalog()


def paths(violations: list[Violation]) -> list[str]:
    return [violation.path for violation in violations]


def block(group: str, *items: dict, relation: str = "must") -> dict:
    return {"bool": {"group": group, relation: list(items)}}


def first_level(*blocks: dict, relation: str = "must", must_not: list | None = None) -> dict:
    body: dict = {relation: list(blocks)}
    if must_not is not None:
        body["must_not"] = must_not
    return {"bool": body}


def term(tag: str, value: object) -> dict:
    return {"term": {tag: {"value": value}}}


MARRIED = term("TAG_020", "已婚")

# The spec's own examples, verbatim apart from the quotes and the // comments.
SPEC_TWO_WINDOWS = first_level(
    block(
        "011",
        term("TAG_501", "10000032222"),
        {"range": {"TAG_503": {"gt": 10}}},
        {"range": {"TAG_507": {"gt": 1}}},
    ),
    block(
        "011",
        term("TAG_501", "1000003263"),
        {"range": {"TAG_504": {"gt": 50}}},
        {"range": {"TAG_515": {"gt": 0}}},
    ),
)
SPEC_TYPICAL = first_level(
    block(
        "001",
        term("TAG_001", "TAG_001_02"),
        {"terms": {"TAG_021": ["TAG_021_02", "TAG_021_05"]}},
        {"bool": {"should": [term("TAG_025", "TAG_025_01"), term("TAG_028", "TAG_028_04")]}},
    ),
    block("011", term("TAG_501", "10000032222"), {"range": {"TAG_503": {"gt": 10}}}),
)
SPEC_CREATE_CONDITION = (
    '{"bool":{"must":[{"bool":{"group":"011","must":[{"range":{"TAG_513":{"gte":1}}},'
    '{"term":{"TAG_501":{"value":1000002847}}}]}}]}}'
)
PRODUCT_EXAMPLE = first_level(block("001", MARRIED, {"terms": {"TAG_021": ["16-25岁", "46-55岁"]}}))


def package(package_id: str) -> dict:
    return {"term": {"package_id": {"value": package_id}}}


A, B, C = (
    "94e462df-e0d2-4ea0-896b-baca7fbd8276",
    "ba7836e1-feb1-438f-adfe-5b0c5507a2a4",
    "42779b68-8498-470d-85d0-467f40eeff6a",
)


# --- Catalog ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instruction", "window"),
    [
        ("用户对店铺一日浏览量", "1d"),
        ("用户对店铺三日浏览量", "3d"),
        ("用户对店铺七日成交量", "7d"),
        ("用户对店铺十五日加购量", "15d"),
        ("用户对店铺三十日浏览量", "30d"),
        ("近30天购买次数", "30d"),
        ("近 90 天购买品类数", "90d"),
        ("近7日搜索词", "7d"),
        ("近两天活跃", "2d"),
        ("近一百八十天消费", "180d"),
        ("用户年龄", None),
        ("最近一次购买距今天数", None),
        ("近一年消费金额", None),
    ],
)
def test_window_is_read_from_the_instruction(instruction, window):
    assert CatalogTag("TAG_X", instruction, "011", "0").window == window


def test_catalog_tag_kinds(catalog):
    assert catalog.get("TAG_101").is_private
    assert not catalog.get("TAG_001").is_private
    assert catalog.get("TAG_502").is_search_word
    assert not catalog.get("TAG_503").is_search_word
    assert catalog.get("TAG_020").is_enum
    assert not catalog.get("TAG_501").is_enum


def test_from_dicts_reads_the_spec_sample_with_its_enums_typo(catalog):
    assert catalog.get("TAG_101") == CatalogTag("TAG_101", "店铺会员", "003", "0", ("是", "否"))
    assert catalog.get("TAG_999") is None
    assert catalog.groups == {"001", "003", "008", "011", "012"}
    assert [tag.tag for tag in catalog.tags_in("012")] == ["TAG_551", "TAG_552", "TAG_553"]
    assert catalog.tags_in("099") == ()


def test_from_dicts_tolerates_numeric_tag_type_and_null_enums():
    catalog = TagCatalog.from_dicts(
        [{"tag": "T", "instruction": "x", "table_cd": "001", "tag_type": 0, "enums": None}]
    )
    assert catalog.get("T") == CatalogTag("T", "x", "001", "0", ())


@pytest.mark.parametrize(
    ("tag", "value", "display"),
    [
        ("TAG_001", "35岁~45岁", "35岁~45岁"),
        ("TAG_001", "TAG_001_02", "35岁~45岁"),
        ("TAG_001", "TAG_001_01", "15岁~25岁"),
        ("TAG_001", "TAG_001_04", "55岁以上"),
        ("TAG_001", "TAG_001_05", None),  # only four enums
        ("TAG_001", "TAG_001_00", None),
        ("TAG_001", "TAG_001_2", None),  # NN is two digits
        ("TAG_001", "TAG_020_01", None),  # another tag's code
        ("TAG_001", "未知", None),
        ("TAG_001", True, None),
        ("TAG_501", "10000032222", None),  # free-value tag
        ("TAG_999", "TAG_999_01", None),
    ],
)
def test_enum_value_resolves_display_values_and_codes(catalog, tag, value, display):
    assert catalog.enum_value(tag, value) == display


# --- The spec's examples -------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        SPEC_TWO_WINDOWS,
        SPEC_TYPICAL,
        SPEC_CREATE_CONDITION,
        PRODUCT_EXAMPLE,
        json.dumps(SPEC_TYPICAL),
    ],
    ids=["two-windows", "typical", "create-string", "product", "typical-string"],
)
def test_spec_examples_are_valid(catalog, condition):
    assert validate_condition(condition, catalog) == []


def test_spec_create_example_is_private(catalog):
    assert package_type_for(SPEC_CREATE_CONDITION, catalog) == 2
    assert check_package_type(SPEC_CREATE_CONDITION, 2, catalog) == []


# --- One rule at a time ------------------------------------------------------------------------


def test_string_must_be_json(catalog):
    [violation] = validate_condition('{"bool": ', catalog)
    assert violation.path == "condition"
    assert "不是合法的 JSON" in violation.message


def test_nan_is_not_json(catalog):
    assert paths(validate_condition('{"bool": {"must": [NaN]}}', catalog)) == ["condition"]


@pytest.mark.parametrize(
    "condition", [[], "[]", {"must": []}, {"term": {"TAG_020": {"value": "已婚"}}}, {"bool": []}]
)
def test_first_level_must_be_a_bool(catalog, condition):
    assert validate_condition(condition, catalog) == [
        Violation("condition", "第一层必须是 bool 查询")
    ]


def test_first_level_has_only_the_bool_key(catalog):
    condition = {**PRODUCT_EXAMPLE, "size": 10, 1: 2}
    assert paths(validate_condition(condition, catalog)) == ["condition.1", "condition.size"]


def test_must_and_should_never_together(catalog):
    condition = {"bool": {"must": [block("001", MARRIED)], "should": [block("001", MARRIED)]}}
    violations = validate_condition(condition, catalog)
    assert paths(violations) == ["condition.bool"]
    assert "只能包含一个" in violations[0].message


def test_bool_needs_must_or_should(catalog):
    nested = {"bool": {"group": "001"}}
    assert paths(validate_condition(first_level(nested), catalog)) == [
        "condition.bool.must[0].bool"
    ]


def test_must_not_needs_must_or_should(catalog):
    [violation] = validate_condition({"bool": {"must_not": [block("001", MARRIED)]}}, catalog)
    assert violation == Violation("condition.bool", "must_not 必须配合 must 或 should 使用")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"must": []}, "condition.bool.must"),
        ({"should": {"bool": {}}}, "condition.bool.should"),
        ({"must": [block("001", MARRIED)], "must_not": []}, "condition.bool.must_not"),
        ({"must": [block("001")]}, "condition.bool.must[0].bool.must"),
        (
            {"must": [block("001", {"bool": {"should": None}})]},
            "condition.bool.must[0].bool.must[0].bool.should",
        ),
    ],
)
def test_relations_are_non_empty_arrays(catalog, body, path):
    violations = validate_condition({"bool": body}, catalog)
    assert paths(violations) == [path]
    assert violations[0].message.endswith("必须是非空的 JSON 数组")


def test_unknown_bool_keys_are_refused(catalog):
    condition = first_level(block("001", MARRIED))
    condition["bool"]["filter"] = []
    condition["bool"]["must"][0]["bool"]["minimum_should_match"] = 1
    assert paths(validate_condition(condition, catalog)) == [
        "condition.bool.filter",
        "condition.bool.must[0].bool.minimum_should_match",
    ]


def test_must_not_only_in_the_first_level(catalog):
    second = {"bool": {"group": "001", "must": [MARRIED], "must_not": [term("TAG_021", "16-25岁")]}}
    third = block("001", {"bool": {"should": [MARRIED], "must_not": [term("TAG_021", "16-25岁")]}})
    violations = validate_condition(first_level(second, third), catalog)
    assert paths(violations) == [
        "condition.bool.must[0].bool.must_not",
        "condition.bool.must[1].bool.must[0].bool.must_not",
    ]
    assert all(violation.message == "must_not 只能出现在第一层 bool 内" for violation in violations)


def test_first_level_must_not_beside_must_is_valid(catalog):
    condition = first_level(block("001", MARRIED), must_not=[block("003", term("TAG_101", "是"))])
    assert validate_condition(condition, catalog) == []


def test_second_level_must_be_a_bool(catalog):
    assert paths(validate_condition(first_level(MARRIED), catalog)) == ["condition.bool.must[0]"]


def test_second_level_needs_a_known_group(catalog):
    missing = {"bool": {"must": [MARRIED]}}
    unknown = block("099", MARRIED)
    not_text = block(1, MARRIED)  # type: ignore[arg-type]
    excluded = {"bool": {"should": [MARRIED]}}
    violations = validate_condition(
        first_level(missing, unknown, not_text, must_not=[excluded]), catalog
    )
    assert paths(violations) == [
        "condition.bool.must[0].bool.group",
        "condition.bool.must[1].bool.group",
        "condition.bool.must[2].bool.group",
        "condition.bool.must_not[0].bool.group",
    ]
    assert violations[1].message == "未知的标签分组 '099'"


def test_first_level_must_not_carry_a_group(catalog):
    condition = first_level(block("001", MARRIED))
    condition["bool"]["group"] = "001"
    assert paths(validate_condition(condition, catalog)) == ["condition.bool.group"]


def test_nested_bool_may_repeat_its_group_but_not_name_another(catalog):
    same = {"bool": {"group": "001", "should": [MARRIED]}}
    other = {"bool": {"group": "011", "should": [MARRIED]}}
    violations = validate_condition(first_level(block("001", same, other)), catalog)
    assert paths(violations) == ["condition.bool.must[0].bool.must[1].bool.group"]


@pytest.mark.parametrize(
    ("item", "path"),
    [
        ("TAG_020", "condition.bool.must[0].bool.must[0]"),
        ({}, "condition.bool.must[0].bool.must[0]"),
        ({**MARRIED, **{"terms": {"TAG_021": ["16-25岁"]}}}, "condition.bool.must[0].bool.must[0]"),
        ({"match": {"TAG_020": "已婚"}}, "condition.bool.must[0].bool.must[0].match"),
        (
            {"term": {"TAG_020": {"value": "已婚"}, "TAG_021": {"value": "16-25岁"}}},
            "condition.bool.must[0].bool.must[0].term",
        ),
        ({"term": {"TAG_020": "已婚"}}, "condition.bool.must[0].bool.must[0].term.TAG_020"),
        (
            {"term": {"TAG_020": {"value": "已婚", "boost": 2}}},
            "condition.bool.must[0].bool.must[0].term.TAG_020",
        ),
        (
            {"term": {"TAG_501": {"value": True}}},
            "condition.bool.must[0].bool.must[0].term.TAG_501.value",
        ),
        (
            {"term": {"TAG_501": {"value": " "}}},
            "condition.bool.must[0].bool.must[0].term.TAG_501.value",
        ),
        (
            {"term": {"TAG_501": {"value": ["1"]}}},
            "condition.bool.must[0].bool.must[0].term.TAG_501.value",
        ),
        ({"terms": {"TAG_805": []}}, "condition.bool.must[0].bool.must[0].terms.TAG_805"),
        ({"terms": {"TAG_805": "7066"}}, "condition.bool.must[0].bool.must[0].terms.TAG_805"),
        (
            {"terms": {"TAG_805": ["7066", None]}},
            "condition.bool.must[0].bool.must[0].terms.TAG_805[1]",
        ),
        ({"bool": [MARRIED]}, "condition.bool.must[0].bool.must[0].bool"),
    ],
)
def test_leaf_shapes(catalog, item, path):
    group = (
        "008"
        if "TAG_805" in json.dumps(item)
        else "011"
        if "TAG_501" in json.dumps(item)
        else "001"
    )
    assert paths(validate_condition(first_level(block(group, item)), catalog)) == [path]


@pytest.mark.parametrize(
    ("bounds", "path"),
    [
        ({}, "TAG_503"),
        ([10], "TAG_503"),
        ({"gt": "10"}, "TAG_503.gt"),
        ({"gt": True}, "TAG_503.gt"),
        ({"gt": float("inf")}, "TAG_503.gt"),
        ({"ge": 1}, "TAG_503.ge"),
        ({"gte": 5, "lte": 3}, "TAG_503.lte"),
        ({"gt": 3, "lt": 3}, "TAG_503.lt"),
        ({"gt": 3, "gte": 3}, "TAG_503.gte"),
        ({"lt": 3, "lte": 3}, "TAG_503.lte"),
    ],
)
def test_range_bounds(catalog, bounds, path):
    condition = first_level(block("011", {"range": {"TAG_503": bounds}}))
    assert paths(validate_condition(condition, catalog)) == [
        f"condition.bool.must[0].bool.must[0].range.{path}"
    ]


@pytest.mark.parametrize(
    "bounds", [{"gte": 3, "lte": 3}, {"gt": 1, "lt": 3}, {"gte": 1.5}, {"lt": 0}]
)
def test_range_bounds_that_hold(catalog, bounds):
    assert (
        validate_condition(first_level(block("011", {"range": {"TAG_503": bounds}})), catalog) == []
    )


def test_tags_must_be_known_and_of_their_group(catalog):
    nested = {"bool": {"should": [term("TAG_999", "x"), term("TAG_101", "是")]}}
    violations = validate_condition(first_level(block("001", MARRIED, nested)), catalog)
    assert paths(violations) == [
        "condition.bool.must[0].bool.must[1].bool.should[0].term.TAG_999",
        "condition.bool.must[0].bool.must[1].bool.should[1].term.TAG_101",
    ]
    assert violations[0].message == "未知的标签 TAG_999"
    assert violations[1].message == "标签 TAG_101(店铺会员)属于分组 003,不能用在分组 001 下"


def test_enum_values_must_be_known(catalog):
    condition = first_level(
        block(
            "001",
            term("TAG_020", "离异"),
            term("TAG_001", "TAG_001_05"),
            {"terms": {"TAG_021": ["16-25岁", "TAG_021_07"]}},
        )
    )
    violations = validate_condition(condition, catalog)
    assert paths(violations) == [
        "condition.bool.must[0].bool.must[0].term.TAG_020.value",
        "condition.bool.must[0].bool.must[1].term.TAG_001.value",
        "condition.bool.must[0].bool.must[2].terms.TAG_021[1]",
    ]
    assert "已婚、未婚、未知" in violations[0].message
    assert "TAG_020_01~TAG_020_03" in violations[0].message


def test_range_is_not_allowed_on_enum_tags(catalog):
    condition = first_level(block("001", {"range": {"TAG_020": {"gte": 1}}}))
    [violation] = validate_condition(condition, catalog)
    assert violation.path == "condition.bool.must[0].bool.must[0].range"
    assert "不能用 range" in violation.message


def test_one_time_window_per_group_block(catalog):
    nested = {"bool": {"should": [{"range": {"TAG_504": {"gt": 50}}}]}}
    mixed = block("011", term("TAG_501", "1"), {"range": {"TAG_503": {"gt": 10}}}, nested)
    violations = validate_condition(first_level(mixed), catalog)
    assert violations == [
        Violation(
            "condition.bool.must[0].bool",
            "同一个 group 下不同时间窗口的标签不能在一起:TAG_503(3d)、TAG_504(7d);"
            "请为每个时间窗口另建一个带 group 的 bool 查询",
        )
    ]


def test_search_words_are_exempt_from_the_window_rule(catalog):
    condition = first_level(
        block(
            "011",
            {"range": {"TAG_503": {"gt": 10}}},
            term("TAG_518", "吸尘器"),
            term("TAG_502", "x"),
        )
    )
    assert validate_condition(condition, catalog) == []


def test_windows_are_read_in_every_group(catalog):
    """The portal reads "近30天" / "近90天" too, where the sandbox knows no window."""
    condition = first_level(
        block("012", {"range": {"TAG_551": {"gte": 1}}}, {"range": {"TAG_552": {"gte": 1}}})
    )
    assert paths(validate_condition(condition, catalog)) == ["condition.bool.must[0].bool"]


def test_every_violation_is_reported(catalog):
    condition = first_level(
        block("001", term("TAG_020", "离异")),
        block("099", MARRIED),
        block("011", {"range": {"TAG_503": {"gt": "ten"}}}),
    )
    assert paths(validate_condition(condition, catalog)) == [
        "condition.bool.must[0].bool.must[0].term.TAG_020.value",
        "condition.bool.must[1].bool.group",
        "condition.bool.must[2].bool.must[0].range.TAG_503.gt",
    ]


def test_deep_nesting_is_refused_without_recursing(catalog):
    inner: dict = MARRIED
    for _ in range(2000):
        inner = {"bool": {"must": [inner]}}
    condition = first_level(block("001", inner))
    violations = validate_condition(condition, catalog)
    assert [violation.message for violation in violations] == ["bool 查询最多嵌套 10 层"]
    assert isinstance(describe(condition, catalog), str)
    assert tags_used(condition) == ["TAG_020"]
    assert paths(validate_condition("[" * 100_000, catalog)) == ["condition"]


def test_parse_and_parse_or_empty():
    assert parse(SPEC_CREATE_CONDITION)["bool"]["must"][0]["bool"]["group"] == "011"
    assert parse(PRODUCT_EXAMPLE) is PRODUCT_EXAMPLE
    for bad in ("{", "[]", '{"a": NaN}'):
        with pytest.raises(ValueError):
            parse(bad)
        assert parse_or_empty(bad) == {}
    assert parse_or_empty(None) == {}
    assert parse_or_empty(SPEC_CREATE_CONDITION) == json.loads(SPEC_CREATE_CONDITION)


# --- package_type ------------------------------------------------------------------------------


def test_package_type_follows_private_tags(catalog):
    assert package_type_for(PRODUCT_EXAMPLE, catalog) == 1
    assert package_type_for(SPEC_TYPICAL, catalog) == 2
    excluded = first_level(block("001", MARRIED), must_not=[block("003", term("TAG_101", "是"))])
    assert package_type_for(excluded, catalog) == 2


def test_package_type_disagreement_both_ways(catalog):
    assert check_package_type(PRODUCT_EXAMPLE, 1, catalog) == []
    assert check_package_type(SPEC_TYPICAL, 2, catalog) == []
    [public] = check_package_type(PRODUCT_EXAMPLE, 2, catalog)
    assert public == Violation(
        "package_type", "条件中的标签都是公域标签,package_type 必须是 1(公域人群)"
    )
    [private] = check_package_type(SPEC_TYPICAL, 1, catalog)
    assert private.path == "package_type"
    assert "TAG_501(店铺ID)、TAG_503(用户对店铺三日浏览量)" in private.message
    assert "必须是 2" in private.message


@pytest.mark.parametrize("package_type", [0, 3, "2", True, None])
def test_package_type_must_be_one_or_two(catalog, package_type):
    assert paths(check_package_type(PRODUCT_EXAMPLE, package_type, catalog)) == ["package_type"]


def test_tags_used_in_document_order():
    assert tags_used(SPEC_TYPICAL) == [
        "TAG_001",
        "TAG_021",
        "TAG_025",
        "TAG_028",
        "TAG_501",
        "TAG_503",
    ]
    assert tags_used("not json") == []


# --- Package conditions (人群计算) -------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"bool": {"must": [package(A), package(B)]}},
        {"bool": {"should": [package(A), package(B), package(C)]}},
        {"bool": {"should": [package(A)], "must_not": [package(C)]}},
        json.dumps({"bool": {"must": [package(A)], "must_not": [package(B), package(C)]}}),
    ],
)
def test_spec_package_conditions_are_valid(condition):
    assert validate_package_condition(condition) == []


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{", ["condition"]),
        ({"must": [package(A)]}, ["condition"]),
        ({"bool": {"must": [package(A)], "should": [package(B)]}}, ["condition.bool"]),
        ({"bool": {"must_not": [package(A)]}}, ["condition.bool"]),
        ({"bool": {}}, ["condition.bool"]),
        ({"bool": {"must": []}}, ["condition.bool.must"]),
        ({"bool": {"group": "001", "must": [package(A)]}}, ["condition.bool.group"]),
        ({"bool": {"must": [{"terms": {"package_id": [A]}}]}}, ["condition.bool.must[0]"]),
        ({"bool": {"must": [{"bool": {"must": [package(A)]}}]}}, ["condition.bool.must[0]"]),
        (
            {"bool": {"must": [{"term": {"search_id": {"value": A}}}]}},
            ["condition.bool.must[0].term"],
        ),
        (
            {"bool": {"must": [{"term": {"package_id": A}}]}},
            ["condition.bool.must[0].term.package_id"],
        ),
        ({"bool": {"must": [package("")]}}, ["condition.bool.must[0].term.package_id.value"]),
        ({"bool": {"must": [package(1)]}}, ["condition.bool.must[0].term.package_id.value"]),
        (
            {"bool": {"should": [package(A), package(None)], "must_not": [{"term": {}}]}},
            ["condition.bool.should[1].term.package_id.value", "condition.bool.must_not[0].term"],
        ),
    ],
)
def test_invalid_package_conditions(condition, expected):
    assert paths(validate_package_condition(condition)) == expected


def test_package_ids_in():
    condition = {
        "bool": {"should": [package(A), package(B), package(A)], "must_not": [package(C), {"x": 1}]}
    }
    assert package_ids_in(condition) == [A, B, C]
    assert package_ids_in(json.dumps(condition)) == [A, B, C]
    assert package_ids_in("nope") == []


# --- The condition in words --------------------------------------------------------------------


def test_describe_product_example(catalog):
    assert describe(PRODUCT_EXAMPLE, catalog) == "已婚 且 (16-25岁 或 46-55岁)"
    assert describe(json.dumps(PRODUCT_EXAMPLE), catalog) == "已婚 且 (16-25岁 或 46-55岁)"


def test_describe_spec_typical_example(catalog):
    assert describe(SPEC_TYPICAL, catalog) == (
        "(35岁~45岁 且 (16-25岁 或 46-55岁) 且 (L1-1 或 高度敏感))"
        " 且 (店铺ID = 10000032222 且 用户对店铺三日浏览量 > 10)"
    )


@pytest.mark.parametrize(
    ("bounds", "words"),
    [
        ({"gt": 10}, "用户对店铺三日浏览量 > 10"),
        ({"gte": 1}, "用户对店铺三日浏览量 ≥ 1"),
        ({"lt": 5}, "用户对店铺三日浏览量 < 5"),
        ({"lte": 5}, "用户对店铺三日浏览量 ≤ 5"),
        ({"gte": 1, "lte": 3}, "1 ≤ 用户对店铺三日浏览量 ≤ 3"),
        ({"lt": 3, "gt": 1}, "1 < 用户对店铺三日浏览量 < 3"),
        ({"gt": 1, "gte": 2}, "用户对店铺三日浏览量 > 1 且 用户对店铺三日浏览量 ≥ 2"),
    ],
)
def test_describe_ranges(catalog, bounds, words):
    assert describe(first_level(block("011", {"range": {"TAG_503": bounds}})), catalog) == words


def test_describe_free_values_and_should_blocks(catalog):
    condition = first_level(
        block("008", {"terms": {"TAG_805": ["7066", 7069]}}),
        block("011", term("TAG_501", 1000002847), term("TAG_502", "吸尘器"), relation="should"),
        relation="should",
    )
    assert (
        describe(condition, catalog)
        == "偏好三级品类ID ∈ {7066, 7069} 或 (店铺ID = 1000002847 或 店铺搜索词 = 吸尘器)"
    )


def test_describe_must_not(catalog):
    condition = first_level(
        block("001", MARRIED), must_not=[block("003", term("TAG_101", "TAG_101_01"))]
    )
    assert describe(condition, catalog) == "已婚 且不 (是)"
    product = {"bool": {**PRODUCT_EXAMPLE["bool"], "must_not": condition["bool"]["must_not"]}}
    assert describe(product, catalog) == "已婚 且 (16-25岁 或 46-55岁) 且不 (是)"
    two = first_level(
        block("001", MARRIED),
        block("001", term("TAG_020", "未婚")),
        relation="should",
        must_not=[
            block("003", term("TAG_101", "是")),
            block("003", term("TAG_102", "金卡会员"), term("TAG_101", "否")),
        ],
    )
    assert describe(two, catalog) == "(已婚 或 未婚) 且不 (是 或 (金卡会员 且 否))"


def test_describe_is_robust_to_invalid_input(catalog):
    condition = {
        "bool": {
            "must": [
                block(
                    "099",
                    term("TAG_999", "x"),
                    {"terms": {"TAG_998": ["a", "b"]}},
                    {"range": {"TAG_997": {"gt": 1}}},
                ),
                block(
                    "001",
                    term("TAG_020", "离异"),
                    {"match": {}},
                    "junk",
                    {"term": {"TAG_020": "已婚"}},
                ),
                {"bool": {"group": "001"}},
            ],
            "must_not": "x",
        }
    }
    assert describe(condition, catalog) == (
        "(TAG_999 = x 且 TAG_998 ∈ {a, b} 且 TAG_997 > 1)"
        " 且 (婚姻状况 = 离异 且 ? 且 ? 且 已婚) 且 (空)"
    )
    assert describe("{", catalog) == "(条件不是合法的 JSON)"
    assert describe({}, catalog) == "?"
    assert describe({"bool": {"must_not": [block("001", MARRIED)]}}, catalog) == "不 (已婚)"


# --- The builder tree ------------------------------------------------------------------------


BUILDER_TYPICAL = {
    "relation": "must",
    "blocks": [
        {
            "group": "001",
            "relation": "must",
            "items": [
                {"tag": "TAG_001", "op": "eq", "value": "TAG_001_02"},
                {"tag": "TAG_021", "op": "in", "values": ["TAG_021_02", "TAG_021_05"]},
                {
                    "relation": "should",
                    "items": [
                        {"tag": "TAG_025", "op": "eq", "value": "TAG_025_01"},
                        {"tag": "TAG_028", "op": "eq", "value": "TAG_028_04"},
                    ],
                },
            ],
        },
        {
            "group": "011",
            "relation": "must",
            "items": [
                {"tag": "TAG_501", "op": "eq", "value": "10000032222"},
                {"tag": "TAG_503", "op": "gt", "value": 10},
            ],
        },
    ],
}


def test_compile_builder_writes_the_spec_example():
    assert compile_builder(BUILDER_TYPICAL) == SPEC_TYPICAL


def test_builder_from_condition_reads_the_spec_example():
    assert builder_from_condition(SPEC_TYPICAL) == BUILDER_TYPICAL
    assert builder_from_condition(json.dumps(SPEC_TYPICAL)) == BUILDER_TYPICAL


def test_compile_builder_ops_and_exclude():
    tree = {
        "relation": "should",
        "blocks": [
            {
                "group": "011",
                "relation": "must",
                "items": [
                    {
                        "tag": "TAG_503",
                        "op": "between",
                        "min": 1,
                        "max": 3,
                        "value": None,
                        "values": [],
                    },
                    {"tag": "TAG_507", "op": "lte", "value": 2},
                ],
            }
        ],
        "exclude": [
            {
                "group": "003",
                "relation": "should",
                "items": [{"tag": "TAG_101", "op": "eq", "value": "是"}],
            }
        ],
    }
    assert compile_builder(tree) == {
        "bool": {
            "should": [
                block(
                    "011",
                    {"range": {"TAG_503": {"gte": 1, "lte": 3}}},
                    {"range": {"TAG_507": {"lte": 2}}},
                )
            ],
            "must_not": [block("003", term("TAG_101", "是"), relation="should")],
        }
    }
    assert compile_builder({**tree, "exclude": []}) == {
        "bool": {"should": compile_builder(tree)["bool"]["should"]}
    }


def test_builder_from_condition_splits_mixed_ranges():
    condition = first_level(
        block(
            "011",
            {"range": {"TAG_503": {"gt": 1, "lte": 3}}},
            {"range": {"TAG_504": {"gte": 1, "lte": 3}}},
        )
    )
    assert builder_from_condition(condition)["blocks"][0]["items"] == [
        {
            "relation": "must",
            "items": [
                {"tag": "TAG_503", "op": "gt", "value": 1},
                {"tag": "TAG_503", "op": "lte", "value": 3},
            ],
        },
        {"tag": "TAG_504", "op": "between", "min": 1, "max": 3},
    ]


def test_builder_from_condition_drops_a_repeated_nested_group():
    condition = first_level(block("001", {"bool": {"group": "001", "should": [MARRIED]}}))
    assert builder_from_condition(condition)["blocks"][0]["items"] == [
        {"relation": "should", "items": [{"tag": "TAG_020", "op": "eq", "value": "已婚"}]}
    ]


@pytest.mark.parametrize(
    "condition",
    [
        "{",
        {"term": {}},
        {"bool": {"must": [block("001", MARRIED)], "should": [block("001", MARRIED)]}},
        {"bool": {"must_not": [block("001", MARRIED)]}},
        {"bool": {"must": []}},
        {"bool": {"must": [MARRIED]}},
        {"bool": {"must": [{"bool": {"must": [MARRIED]}}]}},
        {"bool": {"must": [block("001", MARRIED)], "filter": []}},
        first_level(block("001", {"bool": {"group": "011", "must": [MARRIED]}})),
        first_level(block("001", {"bool": {"must": [MARRIED], "must_not": [MARRIED]}})),
        first_level(block("001", {"match": {"TAG_020": "已婚"}})),
        first_level(block("001", {"term": {"TAG_020": {"value": "已婚", "boost": 1}}})),
        first_level(block("001", {"range": {"TAG_503": {"ge": 1}}})),
        first_level(block("001", {"terms": {"TAG_021": "16-25岁"}})),
    ],
)
def test_builder_from_condition_refuses_what_it_cannot_hold(condition):
    with pytest.raises(ValueError):
        builder_from_condition(condition)


def test_validate_builder_reports_shape_errors_at_builder_paths(catalog):
    tree = {
        "relation": "and",
        "blocks": [
            {
                "group": "",
                "relation": "must",
                "items": [
                    {"tag": "TAG_020", "op": "like", "value": "已婚"},
                    {"tag": "TAG_503", "op": "gt", "value": "10"},
                    {"tag": "TAG_503", "op": "between", "min": 1},
                    {"tag": "TAG_021", "op": "in", "values": ["16-25岁", ""]},
                    {"relation": "must", "items": []},
                    {"note": "?"},
                ],
            }
        ],
        "exclude": {},
        "name": "x",
    }
    assert paths(validate_builder(tree, catalog)) == [
        "builder.name",
        "builder.relation",
        "builder.blocks[0].group",
        "builder.blocks[0].items[0].op",
        "builder.blocks[0].items[1].value",
        "builder.blocks[0].items[2].max",
        "builder.blocks[0].items[3].values[1]",
        "builder.blocks[0].items[4].items",
        "builder.blocks[0].items[5]",
        "builder.exclude",
    ]
    with pytest.raises(ValueError, match=r"^builder\.name"):
        compile_builder(tree)


def test_validate_builder_maps_condition_violations_to_builder_fields(catalog):
    tree = copy.deepcopy(BUILDER_TYPICAL)
    first, second = tree["blocks"]
    first["items"][0]["value"] = "TAG_001_09"
    first["items"][1]["values"][1] = "未知"
    first["items"][2]["items"][1] = {"tag": "TAG_101", "op": "eq", "value": "是"}
    second["items"].append({"tag": "TAG_504", "op": "between", "min": 5, "max": 1})
    tree["exclude"] = [
        {"group": "099", "relation": "must", "items": [{"tag": "TAG_020", "op": "gte", "value": 1}]}
    ]
    assert paths(validate_builder(tree, catalog)) == [
        "builder.blocks[0].items[0].value",
        "builder.blocks[0].items[1].values[1]",
        "builder.blocks[0].items[2].items[1].tag",
        "builder.blocks[1].items[2].max",
        "builder.blocks[1]",
        "builder.exclude[0].group",
        "builder.exclude[0].items[0].op",
    ]


def test_validate_builder_accepts_the_spec_example(catalog):
    assert validate_builder(BUILDER_TYPICAL, catalog) == []


# --- Properties over generated builder trees ---------------------------------------------------

NUMBERS = st.one_of(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
)
FREE_VALUES = st.one_of(
    NUMBERS, st.text(alphabet="0123456789abcxyz店铺吸尘器-_", min_size=1, max_size=12)
)


def rules_for(tag: CatalogTag) -> st.SearchStrategy[dict]:
    if tag.is_enum:
        values = st.sampled_from(
            [*tag.enums, *(tag.enum_code(index) for index in range(1, len(tag.enums) + 1))]
        )
        return st.one_of(
            st.builds(lambda value: {"tag": tag.tag, "op": "eq", "value": value}, values),
            st.builds(
                lambda many: {"tag": tag.tag, "op": "in", "values": many},
                st.lists(values, min_size=1, max_size=4),
            ),
        )
    singles = [
        st.builds(lambda value, op=op: {"tag": tag.tag, "op": op, "value": value}, NUMBERS)
        for op in ("gt", "gte", "lt", "lte")
    ]
    return st.one_of(
        st.builds(lambda value: {"tag": tag.tag, "op": "eq", "value": value}, FREE_VALUES),
        st.builds(
            lambda many: {"tag": tag.tag, "op": "in", "values": many},
            st.lists(FREE_VALUES, min_size=1, max_size=4),
        ),
        *singles,
        st.builds(
            lambda pair: {"tag": tag.tag, "op": "between", "min": min(pair), "max": max(pair)},
            st.tuples(NUMBERS, NUMBERS),
        ),
    )


def items_for(tags: tuple[CatalogTag, ...], depth: int = 1) -> st.SearchStrategy[dict]:
    rules = st.one_of(*(rules_for(tag) for tag in tags))
    if depth >= 3:
        return rules
    nested = st.fixed_dictionaries(
        {
            "relation": st.sampled_from(["must", "should"]),
            "items": st.lists(items_for(tags, depth + 1), min_size=1, max_size=3),
        }
    )
    return st.one_of(rules, rules, nested)


@cache
def blocks_for(catalog: TagCatalog, group: str) -> st.SearchStrategy[dict]:
    """One time window per block (or none), search words in any: the spec's rule."""
    tags = catalog.tags_in(group)
    windows = sorted({tag.window for tag in tags if tag.window and not tag.is_search_word})
    options = []
    for window in [None, *windows]:
        allowed = tuple(tag for tag in tags if tag.is_search_word or tag.window in (None, window))
        if allowed:
            options.append(
                st.fixed_dictionaries(
                    {
                        "group": st.just(group),
                        "relation": st.sampled_from(["must", "should"]),
                        "items": st.lists(items_for(allowed), min_size=1, max_size=3),
                    }
                )
            )
    return st.one_of(*options)


def builder_trees(catalog: TagCatalog) -> st.SearchStrategy[dict]:
    blocks = st.sampled_from(sorted(catalog.groups)).flatmap(
        lambda group: blocks_for(catalog, group)
    )

    def tree(relation: str, main: list, exclude: list) -> dict:
        built = {"relation": relation, "blocks": main}
        if exclude:
            built["exclude"] = exclude
        return built

    return st.builds(
        tree,
        st.sampled_from(["must", "should"]),
        st.lists(blocks, min_size=1, max_size=3),
        st.lists(blocks, max_size=2),
    )


@settings(max_examples=200, deadline=None)
@given(tree=builder_trees(spec_catalog()))
def test_generated_builder_trees_compile_to_valid_conditions(tree):
    catalog = spec_catalog()
    condition = compile_builder(tree)
    assert validate_builder(tree, catalog) == []
    assert validate_condition(condition, catalog) == []
    assert validate_condition(json.dumps(condition, ensure_ascii=False), catalog) == []
    assert isinstance(describe(condition, catalog), str)
    assert builder_from_condition(condition) == tree
    assert compile_builder(builder_from_condition(condition)) == condition
    expected = 2 if any(catalog.get(name).is_private for name in tags_used(condition)) else 1
    assert check_package_type(condition, expected, catalog) == []


# --- Agreement with the simulator ----------------------------------------------------------------


@cache
def sandbox_catalog() -> TagCatalog:
    from sandbox.catalog import TAGS, public_tag

    return TagCatalog.from_dicts(public_tag(tag) for tag in TAGS)


def test_windows_agree_with_the_sandbox_where_it_knows_one():
    from sandbox.catalog import TAGS

    catalog = sandbox_catalog()
    for tag in TAGS:
        if tag["window"] is not None:
            assert catalog.get(tag["tag"]).window == tag["window"], tag["tag"]


@settings(max_examples=100, deadline=None)
@given(tree=builder_trees(sandbox_catalog()))
def test_what_the_portal_accepts_the_sandbox_accepts(tree):
    """The portal is the stricter of the two: nothing it lets through comes back refused."""
    from sandbox.conditions import parse_tag_condition

    condition = compile_builder(tree)
    assert validate_condition(condition, sandbox_catalog()) == []
    parsed = parse_tag_condition(json.dumps(condition, ensure_ascii=False))
    assert sorted(parsed.tags) == sorted(tags_used(condition))
