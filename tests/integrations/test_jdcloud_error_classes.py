"""JD Cloud failure codes sorted by what to do: "not now" (busy, system error, upgrading,
rate limit, timeout) is a retryable `JDBusy`; "not this" (bad input, no permission, wrong
state) a final `JDCloudRejected`. Transport level (respx)."""

import pickle

import httpx
import pytest
import respx

from portal.integrations.jdcloud import errors
from portal.integrations.jdcloud.client import JDCloudClient
from portal.integrations.jdcloud.errors import (
    RETRY_LATER,
    JDBusy,
    JDCloudRejected,
    JDCloudTransportError,
)
from portal.integrations.jdcloud.factory import jdcloud_client
from portal.integrations.linkflow.errors import LinkflowRejected
from portal.models import IntegrationCall

BASE = "https://jd.example.test/api"

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings) -> JDCloudClient:
    settings.JDCLOUD_API_BASE_URL = BASE
    return jdcloud_client()


def refused(code, msg: str) -> httpx.Response:
    return httpx.Response(200, json={"code": code, "msg": msg, "data": None})


TRANSIENT = [
    ("500", "系统繁忙"),
    ("500", "系统繁忙,请稍后再试"),
    (500, "系统异常"),
    ("502", "服务繁忙"),
    ("503", "系统升级中,请稍后再试"),
    ("504", "调用超时"),
    ("429", "请求过于频繁"),
    ("408", "请求超时"),
    ("-1", "系统繁忙,请稍后重试"),  # an unnumbered code: JD's wording says busy
]
REFUSALS = [
    ("400", "参数错误:master_id"),
    ("401", "无权限"),
    ("403", "品牌商已冻结"),
    ("404", "人群对象不存在"),
    ("409", "人群包尚未生成成功"),
    ("1", "活动已结束"),
]


@respx.mock
@pytest.mark.parametrize(("code", "msg"), TRANSIENT)
def test_a_busy_or_failing_jd_is_a_retryable_rejection(client, code, msg):
    respx.post(f"{BASE}/crowd/info").mock(return_value=refused(code, msg))

    with pytest.raises(JDBusy) as raised:
        client.crowd_info(search_id="s1")

    busy = raised.value
    assert busy.retryable is True and isinstance(busy, RETRY_LATER)
    # Still a rejection: handlers written for JDCloudRejected keep catching it.
    assert isinstance(busy, JDCloudRejected)
    assert (busy.code, busy.msg, busy.endpoint) == (str(code), msg, "/crowd/info")
    assert IntegrationCall.objects.get().remote_code == str(code)


@respx.mock
@pytest.mark.parametrize(("code", "msg"), REFUSALS)
def test_a_refusal_of_the_request_is_final(client, code, msg):
    respx.post(f"{BASE}/crowd/info").mock(return_value=refused(code, msg))

    with pytest.raises(JDCloudRejected) as raised:
        client.crowd_info(search_id="s1")

    assert not isinstance(raised.value, JDBusy)
    assert raised.value.retryable is False and not isinstance(raised.value, RETRY_LATER)
    assert (raised.value.code, raised.value.msg) == (code, msg)


@respx.mock
def test_a_busy_answer_to_a_read_is_left_to_the_callers_retry(client):
    """The client retries transport failures of reads at once; a busy JD is retried by the
    caller, with the backoff it needs (a task), so the client asks once."""
    route = respx.get(f"{BASE}/sms/balance").mock(return_value=refused("500", "系统繁忙"))

    with pytest.raises(JDBusy):
        client.sms_balance(master_id="m1")

    assert route.call_count == 1


@respx.mock
@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (408, {"code": 408, "status": "DEADLINE_EXCEEDED", "message": "timeout"}, JDBusy),
        (401, {"code": 401, "status": "UNAUTHENTICATED", "message": "bad sign"}, JDCloudRejected),
        (403, {"code": 403, "status": "PERMISSION_DENIED", "message": "denied"}, JDCloudRejected),
    ],
    ids=["408", "401", "403"],
)
def test_the_gateways_own_4xx_are_sorted_the_same_way(client, status, error, kind):
    respx.get(f"{BASE}/notice/list").mock(
        return_value=httpx.Response(status, json={"requestId": "r", "error": error})
    )

    with pytest.raises(JDCloudRejected) as raised:
        client.notice_list()

    assert type(raised.value) is kind
    assert raised.value.retryable is (kind is JDBusy)
    assert (raised.value.code, raised.value.http_status) == (str(status), status)


@respx.mock
def test_transport_failures_stay_retryable_transport_errors(client):
    respx.post(f"{BASE}/crowd/create/v2").mock(return_value=httpx.Response(503, text="down"))

    with pytest.raises(JDCloudTransportError) as raised:
        client.crowd_create_v2(
            master_id="m1", crowd_name="n", crowd_desc="d", condition={"bool": {}}, package_type=1
        )

    assert raised.value.retryable is True and isinstance(raised.value, RETRY_LATER)
    assert not isinstance(raised.value, JDBusy)


@pytest.mark.parametrize(
    "error",
    [
        errors.JDBusy(code="500", msg="系统繁忙", endpoint="/crowd/list", http_status=200),
        errors.JDCloudRejected(code="400", msg="参数错误", endpoint="/crowd/list"),
        errors.JDCloudTransportError("timed out", endpoint="/crowd/list", http_status=None),
        errors.JDCloudUnexpectedResponse("not JSON", endpoint="/crowd/list"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_survive_pickling_as_celery_stores_them(error):
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, just made

    assert type(again) is type(error)
    assert (again.args, again.__dict__) == (error.args, error.__dict__)
    assert again.retryable == error.retryable


def test_linkflow_errors_survive_pickling_too():
    error = LinkflowRejected(
        code="B00010", message="不存在", endpoint="/open/messages", http_status=400
    )

    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, just made

    assert type(again) is LinkflowRejected
    assert (again.code, again.message, again.http_status) == ("B00010", "不存在", 400)
