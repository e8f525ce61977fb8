"""`POST /JDCloud/master/sync` and `/JDCloud/master/edit` (spec: 品牌商相关)."""

import json
from datetime import UTC, datetime

import pytest

from brands.models import Brand
from portal.models import IntegrationCall
from tests.brands.isv import post_json, signed

pytestmark = pytest.mark.django_db

SYNC = {
    "master_id": "63d1f0a3-0b2b-4da3-a35f-007ae0672a10",
    "master_name": "测试品牌商",
    "master_desc": "测试品牌商",
    "shop_id": "10000087",
    "shop_type": "1",
    "user_type": "1",
    "expire_time": 1893427199,
    "status": 1,
}


def sync(client, body):
    return post_json(client, "/JDCloud/master/sync", body)


def test_sync_creates_the_brand_and_answers_the_spec_envelope(client):
    response = sync(client, signed(SYNC))

    assert response.status_code == 200
    assert response.json() == {"code": 0, "msg": "success", "data": {"status": "1"}}
    brand = Brand.objects.get(master_id=SYNC["master_id"])
    assert (brand.name, brand.description, brand.shop_id) == (
        "测试品牌商",
        "测试品牌商",
        "10000087",
    )
    assert brand.shop_type == "1" and brand.status == 1
    assert brand.expire_time == datetime.fromtimestamp(1893427199, UTC)
    call = IntegrationCall.objects.get()
    assert (call.direction, call.endpoint, call.ok, call.brand) == (
        "in",
        "/JDCloud/master/sync",
        True,
        brand,
    )
    assert call.request_body["token"] == "***"


def test_repeating_a_sync_is_an_upsert(client):
    sync(client, signed(SYNC))
    response = sync(client, signed({**SYNC, "master_name": "新名字", "status": 0}))

    assert response.json()["data"] == {"status": "1"}
    assert Brand.objects.count() == 1
    brand = Brand.objects.get()
    assert brand.name == "新名字" and brand.status == 0


def test_the_specs_example_with_numbers_as_strings_and_strings_as_numbers(client):
    body = {**SYNC, "shop_id": 10000087, "shop_type": 2, "status": "1", "expire_time": "1893427199"}

    assert sync(client, signed(body)).json()["code"] == 0
    assert Brand.objects.get().shop_type == "2"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"master_id": None}, "master_id"),
        ({"expire_time": "tomorrow"}, "expire_time"),
        ({"expire_time": 1.5}, "expire_time"),
        ({"status": 2}, "status"),
        ({"status": True}, "status"),
        ({"shop_type": "3"}, "shop_type"),
        ({"master_name": {"a": 1}}, "master_name"),
        ({"user_type": "2"}, "user_type"),
    ],
)
def test_an_invalid_field_is_named_and_nothing_changes(client, change, field):
    body = {k: v for k, v in {**SYNC, **change}.items() if v is not None}

    response = sync(client, signed(body))

    assert response.status_code == 200
    answer = response.json()
    assert answer["code"] == "400"
    assert answer["msg"].startswith(f"{field}:")
    assert answer["data"] == {"status": "0"}
    assert not Brand.objects.exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: {k: v for k, v in b.items() if k != "token"},
        lambda b: {**b, "token": ""},
        lambda b: {**b, "token": "0" * 32},
        lambda b: {**b, "master_name": "篡改"},
        lambda b: {**b, "extra": "x"},
        lambda b: {**b, "token": signed(SYNC, key="wrong-key")["token"]},
        lambda b: {**b, "token": 12345},
    ],
    ids=["missing", "empty", "zeros", "tampered", "added", "wrong-key", "not-a-string"],
)
def test_a_missing_or_wrong_token_changes_nothing(client, mangle):
    response = sync(client, mangle(signed(SYNC)))

    assert response.status_code == 200
    assert response.json()["code"] == "401"
    assert "token" in response.json()["msg"]
    assert not Brand.objects.exists()
    assert IntegrationCall.objects.get().ok is False


def test_the_token_digest_is_compared_case_insensitively(client):
    body = signed(SYNC)
    body["token"] = body["token"].upper()
    assert sync(client, body).json()["code"] == 0


def test_empty_values_are_left_out_of_the_token(client):
    body = signed({**SYNC, "master_desc": ""})
    assert sync(client, body).json()["code"] == 0
    assert Brand.objects.get().description == ""


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1,2]", b"\xff\xfe", b'{"a":'],
    ids=["text", "array", "not-utf8", "truncated"],
)
def test_a_body_that_is_not_a_json_object_is_refused_without_a_5xx(client, raw):
    response = post_json(client, "/JDCloud/master/sync", raw)
    assert response.status_code == 200 and response.json()["code"] == "400"


def test_wrong_method_and_content_type(client):
    assert client.get("/JDCloud/master/sync").json()["code"] == "405"
    response = client.post("/JDCloud/master/sync", data=signed(SYNC))  # form-encoded
    assert response.json()["code"] == "400"


def test_edit_changes_expiry_and_status(client):
    sync(client, signed(SYNC))

    response = post_json(
        client,
        "/JDCloud/master/edit",
        signed({"master_id": SYNC["master_id"], "expire_time": 1577807999, "status": 0}),
    )

    assert response.json() == {"code": 0, "msg": "success", "data": {"status": "1"}}
    brand = Brand.objects.get()
    assert brand.status == 0 and brand.is_expired and not brand.is_usable
    assert brand.name == "测试品牌商"  # untouched


def test_edit_of_an_unknown_brand_says_so(client):
    response = post_json(
        client, "/JDCloud/master/edit", signed({"master_id": "nope", "expire_time": 1, "status": 1})
    )
    assert response.json()["code"] == "404"
    assert "master_id" in response.json()["msg"]


def test_edit_requires_its_fields(client):
    sync(client, signed(SYNC))
    response = post_json(
        client, "/JDCloud/master/edit", signed({"master_id": SYNC["master_id"], "status": 1})
    )
    assert response.json()["code"] == "400" and response.json()["msg"].startswith("expire_time:")


def test_a_duplicated_query_parameter_is_refused(client):
    body = signed(SYNC)
    response = client.post(
        "/JDCloud/master/sync?status=1&status=0",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.json()["code"] == "400"
