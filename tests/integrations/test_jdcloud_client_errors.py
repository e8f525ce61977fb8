"""Error mapping and retry policy of the JD Cloud client, at the transport level (respx)."""

import json

import httpx
import pytest
import respx

from portal.integrations.jdcloud import types as t
from portal.integrations.jdcloud.client import JDCloudClient
from portal.integrations.jdcloud.errors import (
    JDCloudRejected,
    JDCloudTransportError,
    JDCloudUnexpectedResponse,
)
from portal.integrations.jdcloud.factory import jdcloud_client
from portal.integrations.jdcloud.signing import verify
from portal.models import IntegrationCall

BASE = "https://jd.example.test/api"


@pytest.fixture
def client(settings) -> JDCloudClient:
    settings.JDCLOUD_API_BASE_URL = BASE
    return jdcloud_client()


def ok(data):
    return httpx.Response(200, json={"code": 0, "msg": "success", "data": data})


@pytest.mark.django_db
@respx.mock
def test_a_read_is_retried_on_5xx_and_then_succeeds(client):
    route = respx.get(f"{BASE}/sms/balance").mock(
        side_effect=[
            httpx.Response(502, text="bad gateway"),
            httpx.Response(500, text="oops"),
            ok({"public_balance": 5, "private_balance": 7}),
        ]
    )

    balance = client.sms_balance(master_id="m1")

    assert balance == t.SmsBalance(public_balance=5, private_balance=7)
    assert route.call_count == 3
    attempts = list(
        IntegrationCall.objects.order_by("id").values_list("attempt", "ok", "http_status")
    )
    assert attempts == [(1, False, 502), (2, False, 500), (3, True, 200)]


@pytest.mark.django_db
@respx.mock
def test_a_read_gives_up_with_a_transport_error_after_its_attempts(client):
    route = respx.post(f"{BASE}/crowd/list").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(JDCloudTransportError) as raised:
        client.crowd_list(master_id="m1")

    assert raised.value.endpoint == "/crowd/list"
    assert route.call_count == 3


@pytest.mark.django_db
@respx.mock
@pytest.mark.parametrize(
    "failure",
    [httpx.Response(500, text="boom"), httpx.ReadTimeout("slow"), httpx.ConnectError("refused")],
    ids=["5xx", "timeout", "connect"],
)
def test_a_create_is_never_retried(client, failure):
    route = respx.post(f"{BASE}/crowd/create/v2").mock(side_effect=[failure])

    with pytest.raises(JDCloudTransportError):
        client.crowd_create_v2(
            master_id="m1", crowd_name="n", crowd_desc="d", condition={"bool": {}}, package_type=1
        )

    assert route.call_count == 1
    assert IntegrationCall.objects.get().attempt == 1


@pytest.mark.django_db
@respx.mock
def test_code_not_zero_raises_rejected_with_code_msg_endpoint_and_is_not_retried(client):
    route = respx.post(f"{BASE}/crowd/info").mock(
        return_value=httpx.Response(
            200, json={"code": "404", "msg": "人群对象不存在", "data": None}
        )
    )

    with pytest.raises(JDCloudRejected) as raised:
        client.crowd_info(search_id="nope")

    error = raised.value
    assert (error.code, error.msg, error.endpoint) == ("404", "人群对象不存在", "/crowd/info")
    assert route.call_count == 1
    row = IntegrationCall.objects.get()
    assert (row.remote_code, row.ok, row.system, row.direction) == ("404", False, "jdcloud", "out")


@pytest.mark.django_db
@respx.mock
def test_a_status_other_than_success_in_data_is_a_rejection(client):
    respx.post(f"{BASE}/crowd/edit/v2").mock(return_value=ok({"status": "-1"}))

    with pytest.raises(JDCloudRejected, match="status -1"):
        client.crowd_edit_v2(search_id="s", condition="{}")


@pytest.mark.django_db
@respx.mock
def test_the_gateways_own_401_is_a_rejection_naming_its_message(client):
    respx.get(f"{BASE}/notice/list").mock(
        return_value=httpx.Response(
            401,
            json={"requestId": "x", "error": {"code": 401, "message": "signature does not match"}},
        )
    )

    with pytest.raises(JDCloudRejected) as raised:
        client.notice_list()

    assert raised.value.code == "401"
    assert raised.value.msg == "signature does not match"


@pytest.mark.django_db
@respx.mock
def test_an_answer_that_is_not_the_envelope_is_unexpected(client):
    respx.get(f"{BASE}/notice/list").mock(return_value=httpx.Response(200, text="<html>"))
    with pytest.raises(JDCloudUnexpectedResponse):
        client.notice_list()


@pytest.mark.django_db
@respx.mock
def test_requests_are_signed_and_shaped_as_the_spec_says(client, settings):
    create = respx.post(f"{BASE}/crowd/create/v2").mock(return_value=ok({"search_id": "s1"}))
    status = respx.get(f"{BASE}/sms/signature").mock(return_value=ok([]))

    search_id = client.crowd_create_v2(
        master_id="m1",
        crowd_name="测试人群",
        crowd_desc="d",
        condition={"bool": {"must": []}},
        package_type=t.PackageType.PRIVATE,
    )
    client.sms_signature(master_id="m1")

    assert search_id == "s1"
    post = create.calls.last.request
    assert post.headers["Content-Type"] == "application/json; charset=UTF-8"
    body = json.loads(post.content)
    assert body["condition"] == '{"bool":{"must":[]}}'  # a JSON string, as the spec types it
    assert body["package_type"] == 2 and body["data_type"] == "1" and body["crowd_type"] == "1"
    assert post.headers["Authorization"].startswith(
        "JDCLOUD2-HMAC-SHA256 Credential=test-access-key/"
    )
    assert "x-jdcloud-date;x-jdcloud-nonce" in post.headers["Authorization"]
    get = status.calls.last.request
    assert "content-type" not in get.headers
    for request in (post, get):
        verify(
            method=request.method,
            url=str(request.url),
            headers=dict(request.headers),
            body=request.content,
            secret_for={settings.JDCLOUD_ACCESS_KEY: settings.JDCLOUD_SECRET_KEY},
        )


@pytest.mark.django_db
@respx.mock
def test_jdcloud3_is_chosen_by_setting(settings):
    settings.JDCLOUD_API_BASE_URL = BASE
    settings.JDCLOUD_SIGNING_ALGORITHM = "JDCLOUD3-HMAC-SHA256"
    route = respx.get(f"{BASE}/notice/list").mock(return_value=ok([]))

    jdcloud_client().notice_list()

    assert route.calls.last.request.headers["Authorization"].startswith("JDCLOUD3-HMAC-SHA256 ")


@pytest.mark.django_db
@respx.mock
def test_reach_sends_exactly_its_types_parameters_and_template_params_as_a_string(client):
    route = respx.post(f"{BASE}/crowd/instance/reach").mock(return_value=ok({"status": "0"}))
    reaches = [
        t.SmsPublicReach(template_id="1", template_params={"nick": "张三"}),
        t.SmsPrivateReach(template_id="1", template_params={}, signature_id="s"),
        t.CouponPublicReach(
            template_id="1", template_params={}, batch_id="b", send_time="2026-12-01 10:00:00"
        ),
        t.CouponPrivateReach(template_id="1", template_params={}, signature_id="s", batch_id="b"),
    ]

    for reach in reaches:
        client.crowd_instance_reach(package_id="p", reach=reach)

    sent = [json.loads(call.request.content) for call in route.calls]
    assert [(b["type"], sorted(b["params"])) for b in sent] == [
        ("SMSPUBLIC", ["template_id", "template_params"]),
        ("SMSPRIVATE", ["signature_id", "template_id", "template_params"]),
        ("COUPONPUBLIC", ["batch_id", "send_time", "template_id", "template_params"]),
        ("COUPONPRIVATE", ["batch_id", "signature_id", "template_id", "template_params"]),
    ]
    assert sent[0]["params"]["template_params"] == '{"nick":"张三"}'


@pytest.mark.django_db
@respx.mock
def test_shorturl_reads_the_result_key_of_its_envelope(client):
    respx.post(f"{BASE}/shorturl/create").mock(
        return_value=httpx.Response(
            200, json={"result": "0", "msg": " success ", "data": {"short_url": "3.cn/HaZCkiz"}}
        )
    )
    assert (
        client.shorturl_create(url="https://www.jd.com/?utm_source=a&utm_campaign=p_s_k")
        == "3.cn/HaZCkiz"
    )


@pytest.mark.django_db
@respx.mock
def test_secrets_never_reach_the_call_log(client, settings):
    respx.get(f"{BASE}/sms/balance").mock(
        return_value=ok({"public_balance": 1, "private_balance": 1})
    )

    client.sms_balance(master_id="m1")

    row = IntegrationCall.objects.get()
    stored = json.dumps([row.request_body, row.response_body, row.error])
    assert settings.JDCLOUD_SECRET_KEY not in stored
    assert row.request_body == {"master_id": "m1"}


def test_typed_results_coerce_jds_loose_types():
    status = t.CrowdInstanceStatus.from_api(
        {"status": "2", "package_size": "44647", "package_size_view": "44647", "package_type": 1}
    )
    assert status.package_size == 44647 and status.is_final
    tag = t.Tag.from_api({"tag": "TAG_101", "tag_type": "0", "enums ": ["是", "否"]})
    assert tag.enums == ["是", "否"]
    template = t.SmsTemplate.from_api({"template_id": 4366, "template_params": '["nick","time"]'})
    assert template.template_id == "4366" and template.template_params == ["nick", "time"]
