"""Every 400 of the API is the envelope its operation documents (`{"errors": [{path,
message}]}`), whatever is wrong with the request: a body that does not parse, a JSON
array, null, wrong types, missing fields, a bad query parameter. Issue 9: the API fuzzing
found DRF's own `{"detail": ...}` and `{"field": [...]}` answers, which match no schema.
The answers are checked against the schema drf-spectacular generates, in-process."""

from __future__ import annotations

from datetime import timedelta

import jsonschema
import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone
from django_scopes import scope
from drf_spectacular.generators import SchemaGenerator

from campaigns.models import WechatCampaign
from campaigns.services import reach as reach_services
from crowds.models import Crowd, CrowdInstance, InstanceOrigin

pytestmark = pytest.mark.django_db

NOT_JSON = b"\x00"
# What the fuzzer sends where the schema wants an object.
NOT_AN_OBJECT = [NOT_JSON, "[1, 2]", "null"]


@pytest.fixture(scope="module")
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _json_schema(node):
    """OpenAPI 3.0's `nullable` in JSON Schema's words (jsonschema ignores it)."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def documented(openapi: dict, method: str, route: str, status: int) -> dict:
    """The response schema `route` documents for `status`, its references resolvable."""
    response = openapi["paths"][route][method.lower()]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    return _json_schema({**schema, "components": openapi["components"]})


def assert_documented_400(openapi, response, method: str, route: str) -> list[dict]:
    assert response.status_code == 400, response.content
    body = response.json()
    jsonschema.validate(body, documented(openapi, method, route, 400))
    assert body["errors"], body
    return body["errors"]


def send(client, method: str, url: str, body):
    data = body.encode() if isinstance(body, str) else body
    return getattr(client, method.lower())(url, data, content_type="application/json")


@pytest.fixture
def objects(brand):
    """The rows the detail routes need (their body is checked after the lookup)."""
    now = timezone.now()
    with scope(brand=brand):
        campaign = WechatCampaign.objects.create(
            brand=brand,
            business_id="b" * 32,
            name="活动",
            activity_type=WechatCampaign.ActivityType.TEMPLATE,
            pack_type=1,
            send_time=now,
            begin_time=now,
            end_time=now + timedelta(days=1),
        )
        crowd = Crowd.objects.create(brand=brand, name="人群")
        instance = CrowdInstance.objects.create(
            brand=brand, crowd=crowd, package_id="p-1", origin=InstanceOrigin.INIT
        )
    return {"campaign": campaign.pk, "crowd": crowd.pk, "instance": instance.pk}


# (method, documented route, route with ids) of every operation that takes a body.
BODY_OPERATIONS = [
    ("POST", "/api/v1/activities/", "/api/v1/activities/"),
    ("POST", "/api/v1/cdp/openid-packages/", "/api/v1/cdp/openid-packages/"),
    ("POST", "/api/v1/wechat-campaigns/", "/api/v1/wechat-campaigns/"),
    (
        "POST",
        "/api/v1/wechat-campaigns/{id}/cancel/",
        "/api/v1/wechat-campaigns/{campaign}/cancel/",
    ),
    ("POST", "/api/v1/crowds/", "/api/v1/crowds/"),
    ("PUT", "/api/v1/crowds/{id}/", "/api/v1/crowds/{crowd}/"),
    ("PATCH", "/api/v1/crowds/{id}/", "/api/v1/crowds/{crowd}/"),
    ("POST", "/api/v1/instances/calc/", "/api/v1/instances/calc/"),
    ("POST", "/api/v1/instances/{id}/split/", "/api/v1/instances/{instance}/split/"),
    ("POST", "/api/v1/instances/{id}/filter/", "/api/v1/instances/{instance}/filter/"),
    ("POST", "/api/v1/instances/{id}/save-as/", "/api/v1/instances/{instance}/save-as/"),
    ("POST", "/api/v1/conditions/compile/", "/api/v1/conditions/compile/"),
    ("POST", "/api/v1/reaches/preflight/", "/api/v1/reaches/preflight/"),
    ("POST", "/api/v1/reaches/", "/api/v1/reaches/"),
    ("POST", "/api/v1/short-links/", "/api/v1/short-links/"),
    ("POST", "/api/v1/reports/pull/", "/api/v1/reports/pull/"),
    ("POST", "/api/v1/reports/create/", "/api/v1/reports/create/"),
    ("PATCH", "/api/v1/brand/", "/api/v1/brand/"),
    ("POST", "/api/v1/cdp/short-links/", "/api/v1/cdp/short-links/"),
]


@pytest.mark.parametrize(("method", "route", "url"), BODY_OPERATIONS)
@pytest.mark.parametrize("body", NOT_AN_OBJECT, ids=["not-json", "array", "null"])
def test_a_body_that_is_not_a_json_object_is_the_documented_400(
    openapi, brand_client, objects, method, route, url, body
):
    response = send(brand_client, method, url.format(**objects), body)

    (error,) = assert_documented_400(openapi, response, method, route)
    assert error["path"] == ""


def test_a_body_that_does_not_parse_is_the_documented_400_past_the_csrf_check(
    openapi, brand, make_brand_user
):
    """The session's CSRF check reads a POST body before any view code runs: the parse
    error is raised there when the client is not exempt from it (the fuzzer's case)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_brand_user(brand).user)
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    response = client.post(
        "/api/v1/activities/", NOT_JSON, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert_documented_400(openapi, response, "POST", "/api/v1/activities/")


@pytest.mark.parametrize(
    ("method", "route", "url", "body", "paths"),
    [
        (
            "POST",
            "/api/v1/activities/",
            "/api/v1/activities/",
            {"activity_name": 1, "start_type": None, "activity_reach_type": [], "reach": "x"},
            {"start_type", "activity_reach_type", "reach"},
        ),
        ("POST", "/api/v1/activities/", "/api/v1/activities/", {}, None),
        (
            "POST",
            "/api/v1/cdp/openid-packages/",
            "/api/v1/cdp/openid-packages/",
            {"group_id": "abc"},
            {"group_id"},
        ),
        (
            "POST",
            "/api/v1/cdp/openid-packages/",
            "/api/v1/cdp/openid-packages/",
            {"group_id": None},
            {"group_id"},
        ),
        (
            "POST",
            "/api/v1/cdp/openid-packages/",
            "/api/v1/cdp/openid-packages/",
            {"group_id": 2**64},
            {"group_id"},
        ),
        (
            "POST",
            "/api/v1/wechat-campaigns/{id}/cancel/",
            "/api/v1/wechat-campaigns/{campaign}/cancel/",
            {"remark": None},
            {"remark"},
        ),
        (
            "POST",
            "/api/v1/wechat-campaigns/{id}/cancel/",
            "/api/v1/wechat-campaigns/{campaign}/cancel/",
            {},
            {"remark"},
        ),
        (
            "POST",
            "/api/v1/wechat-campaigns/",
            "/api/v1/wechat-campaigns/",
            {"name": "x", "activity_type": 1, "pack_type": "one", "templateInfo": []},
            None,
        ),
        ("POST", "/api/v1/crowds/", "/api/v1/crowds/", {"crowd_name": ["x"]}, None),
        (
            "POST",
            "/api/v1/instances/calc/",
            "/api/v1/instances/calc/",
            {"operation": "union", "packages": [2**64], "crowd_name": "x"},
            {"packages[0]"},
        ),
        (
            "POST",
            "/api/v1/instances/{id}/split/",
            "/api/v1/instances/{instance}/split/",
            {"type": "0", "ratio": [{"name": "a", "value": "lots"}]},
            {"ratio[0].value"},
        ),
        ("POST", "/api/v1/conditions/compile/", "/api/v1/conditions/compile/", {}, {""}),
        (
            "POST",
            "/api/v1/reports/pull/",
            "/api/v1/reports/pull/",
            {"report_date": "2024-13-45"},
            {"report_date"},
        ),
        (
            "POST",
            "/api/v1/reports/create/",
            "/api/v1/reports/create/",
            {"instance": "²"},
            {"instance"},
        ),
        (
            "PATCH",
            "/api/v1/brand/",
            "/api/v1/brand/",
            {"wechat_app_id": "not an id!"},
            {"wechat_app_id"},
        ),
        (
            "PATCH",
            "/api/v1/brand/",
            "/api/v1/brand/",
            {"linkflow_app_key": "key"},
            {"linkflow_app_secret"},
        ),
        (
            "POST",
            "/api/v1/cdp/short-links/",
            "/api/v1/cdp/short-links/",
            {"url": None, "contact_id": 0},
            {"url", "contact_id"},
        ),
    ],
)
def test_a_bad_field_is_the_documented_400_naming_its_path(
    openapi, brand_client, objects, method, route, url, body, paths
):
    response = send(brand_client, method, url.format(**objects), body)

    errors = assert_documented_400(openapi, response, method, route)
    if paths is not None:
        assert {error["path"] for error in errors} == paths


def test_reach_input_errors_take_the_paths_the_preflight_uses(openapi, brand_client, objects):
    """The wizard shows a problem beside the field its spec path names (`params.…`)."""
    body = {"instance": objects["instance"], "type": "SMS", "template_params": {"a": None}}
    response = send(brand_client, "POST", "/api/v1/reaches/preflight/", body)

    errors = assert_documented_400(openapi, response, "POST", "/api/v1/reaches/preflight/")
    assert {error["path"] for error in errors} == {
        "type",
        "params.template_id",
        "params.template_params.a",
    }


def test_a_refused_send_is_the_documented_400_with_errors(
    openapi, brand_client, objects, monkeypatch
):
    def refuse(**kwargs):
        raise reach_services.ReachRefused(None, "京东云暂停服务")

    monkeypatch.setattr(reach_services, "reach_send", refuse)
    body = {"instance": objects["instance"], "type": "SMSPUBLIC", "template_id": "t-1"}
    response = send(brand_client, "POST", "/api/v1/reaches/", body)

    errors = assert_documented_400(openapi, response, "POST", "/api/v1/reaches/")
    assert errors == [{"path": "", "message": "京东云暂停服务"}]
    assert response.json()["detail"] == "京东云暂停服务"


@pytest.mark.parametrize(
    ("route", "params", "path"),
    [
        ("/api/v1/sms/consume/", {"page_num": "x"}, "page_num"),
        ("/api/v1/sms/recharge/", {"page_size": "x"}, "page_size"),
        ("/api/v1/sms/recharge/", {"page_num": "10000000000000000000"}, "page_num"),
        ("/api/v1/sms/consume/", {"start_date": "yesterday"}, "start_date"),
        ("/api/v1/reports/", {"date_from": "not-a-date"}, "date_from"),
        ("/api/v1/reports/uplift/", {"split": "²"}, "split"),
        ("/api/v1/cdp/tags/", {"size": "x"}, "size"),
        ("/api/v1/cdp/tags/", {"page": "-1"}, "page"),
        ("/api/v1/wechat/news/", {"offset": "x"}, "offset"),
    ],
)
def test_a_bad_query_parameter_is_the_documented_400_naming_it(
    openapi, brand_client, route, params, path
):
    response = brand_client.get(route, params)

    errors = assert_documented_400(openapi, response, "GET", route)
    assert [error["path"] for error in errors] == [path]


def test_a_bad_page_size_of_group_members_is_the_documented_400(openapi, brand_client):
    response = brand_client.get("/api/v1/cdp/groups/1/members/", {"size": "501"})

    route = "/api/v1/cdp/groups/{group_id}/members/"
    errors = assert_documented_400(openapi, response, "GET", route)
    assert [error["path"] for error in errors] == ["size"]
