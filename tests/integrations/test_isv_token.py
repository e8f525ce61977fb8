"""The ISV callback token against `shared/vectors/isv_callback_token.json`."""

from urllib.parse import parse_qsl

import pytest

from portal.integrations.jdcloud.isv_token import (
    compute_token,
    render_value,
    string_to_hash,
    token_matches,
)
from tests.vectors import load_vectors

VECTORS = load_vectors("isv_callback_token.json")


def test_the_specs_own_example():
    example = VECTORS["spec_example"]

    assert string_to_hash(example["params"], example["key"]) == example["string"]
    assert compute_token(example["params"], example["key"]) == example["token"]


def test_the_marketplace_vector_needs_decoded_values_and_kept_empties():
    vector = VECTORS["related_vector_jd_marketplace"]
    received = dict(parse_qsl(vector["query_received"], keep_blank_values=True))
    token = received.pop("token")

    assert string_to_hash(received, vector["key"], keep_empty=True) == vector["string_hashed"]
    assert (
        compute_token(received, vector["key"], keep_empty=True) == vector["md5_lower_hex"] == token
    )
    # The ECRM default (drop empties) does not reproduce it: the choice matters.
    assert compute_token(received, vector["key"]) != token


def test_names_are_sorted_and_token_itself_and_empty_values_are_left_out():
    params = {"b": "2", "a": "1", "token": "x", "empty": "", "none": None}
    assert string_to_hash(params, "k") == "a=1&b=2&key=k"
    assert string_to_hash(params, "k", keep_empty=True) == "a=1&b=2&empty=&none=&key=k"


def test_values_are_hashed_unencoded():
    assert string_to_hash({"url": "http://x.cn/a b?c=d&e", "名": "品牌"}, "k") == (
        "url=http://x.cn/a b?c=d&e&名=品牌&key=k"
    )


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("63d1f0a3", "63d1f0a3"),
        (1577807999, "1577807999"),
        (0, "0"),
        (1.5, "1.5"),
        (True, "true"),
        (False, "false"),
        (None, ""),
        ({"a": 1, "b": [1, "二"]}, '{"a":1,"b":[1,"二"]}'),
        ([1, 2], "[1,2]"),
    ],
)
def test_json_values_render_as_documented(value, rendered):
    assert render_value(value) == rendered


def test_the_spec_brand_sync_body_with_numbers():
    body = {
        "master_id": "63d1f0a3-0b2b-4da3-a35f-007ae0672a10",
        "master_name": "测试品牌商",
        "master_desc": "测试品牌商",
        "shop_id": "10000087",
        "shop_type": "1",
        "user_type": "1",
        "expire_time": 1577807999,
        "status": 1,
    }
    assert string_to_hash(body, "K") == (
        "expire_time=1577807999&master_desc=测试品牌商&master_id=63d1f0a3-0b2b-4da3-a35f-007ae0672a10"
        "&master_name=测试品牌商&shop_id=10000087&shop_type=1&status=1&user_type=1&key=K"
    )


def test_comparison_is_case_insensitive_and_refuses_missing_or_wrong():
    params = {"p1": "1", "p2": "2", "p3": "3"}
    token = compute_token(params, "isvkey")
    assert token_matches(params, token.upper(), "isvkey")
    assert token_matches(params, f" {token} ", "isvkey")
    assert not token_matches(params, None, "isvkey")
    assert not token_matches(params, "", "isvkey")
    assert not token_matches(params, token, "otherkey")
    assert not token_matches({**params, "p3": "4"}, token, "isvkey")
    assert not token_matches(params, token, "")
