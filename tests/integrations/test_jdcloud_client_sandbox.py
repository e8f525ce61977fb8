"""Every JD Cloud client method against the running sandbox, over real HTTP, signed."""

import time
from datetime import date, datetime, timedelta

import httpx
import pytest

from portal.integrations.jdcloud import types as t
from portal.integrations.jdcloud.errors import JDCloudRejected, JDCloudTransportError
from portal.integrations.jdcloud.factory import jdcloud_client
from portal.models import IntegrationCall

MASTER_ID = "63d1f0a3-0b2b-4da3-a35f-007ae0672a10"
PUBLIC_CONDITION = {
    "bool": {
        "must": [
            {"bool": {"group": "001", "must": [{"term": {"TAG_001": {"value": "TAG_001_02"}}}]}}
        ]
    }
}
START = datetime(2026, 1, 5, 10, 0, 0)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(sandbox_url):
    """A control handle on the sandbox, reset to a fixed seed and a manual clock."""
    control = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    control.post(
        "/reset", json={"seed": 7, "clock": "manual", "start": "2026-01-05T10:00:00+08:00"}
    ).raise_for_status()
    control.post("/config", json={"instance_generation_seconds": 60}).raise_for_status()
    yield control
    control.delete("/faults")
    control.close()


@pytest.fixture
def client(settings, sandbox_url, sandbox):
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    return jdcloud_client()


def journal(sandbox, path, *, at_least=0):
    """The sandbox's record of requests to `path`. Requests held by a latency fault are
    recorded when they finish, so wait (bounded) for `at_least` of them."""
    deadline = time.monotonic() + 5
    while True:
        requests = sandbox.get("/requests", params={"path": path}).json()["requests"]
        if len(requests) >= at_least or time.monotonic() > deadline:
            return requests
        time.sleep(0.05)


def generated_package(client, sandbox, condition=PUBLIC_CONDITION):
    search_id = client.crowd_create_v2(
        master_id=MASTER_ID, crowd_name="人群A", crowd_desc="d", condition=condition, package_type=1
    )
    package_id = client.crowd_init(search_id=search_id).package_id
    sandbox.post("/clock/advance", json={"seconds": 61}).raise_for_status()
    status = client.crowd_instance_status(package_id=package_id)
    assert status.status == t.InstanceStatus.GENERATED
    return search_id, package_id, status.package_size


def test_master_verify(client):
    assert client.master_verify(master_pin="demo_brand_pin") == t.MasterVerifyResult(
        True, MASTER_ID
    )
    assert client.master_verify(master_pin="stranger").valid is False


def test_tag_list(client):
    tags = client.tag_list_v2()
    assert len(tags) >= 40
    by_code = {tag.tag: tag for tag in tags}
    assert by_code["TAG_001"].table_cd == "001" and by_code["TAG_001"].enums
    assert by_code["TAG_101"].tag_type == "0"


def test_crowd_lifecycle_create_info_list_edit_delete(client):
    search_id = client.crowd_create_v2(
        master_id=MASTER_ID,
        crowd_name="测试人群",
        crowd_desc="描述",
        condition=PUBLIC_CONDITION,
        package_type=1,
    )
    info = client.crowd_info(search_id=search_id)
    assert (info.search_id, info.crowd_name, info.master_id, info.package_type) == (
        search_id,
        "测试人群",
        MASTER_ID,
        1,
    )

    page = client.crowd_list(master_id=MASTER_ID, crowd_name="测试", page_size=5)
    assert page.total >= 1 and search_id in [c.search_id for c in page.result]

    client.crowd_edit_v2(search_id=search_id, condition=PUBLIC_CONDITION, crowd_desc="新描述")
    assert client.crowd_info(search_id=search_id).crowd_desc == "新描述"

    client.crowd_del(search_id=search_id)
    with pytest.raises(JDCloudRejected):
        client.crowd_info(search_id=search_id)


def test_instance_is_generating_then_generated(client, sandbox):
    search_id = client.crowd_create_v2(
        master_id=MASTER_ID,
        crowd_name="n",
        crowd_desc="d",
        condition=PUBLIC_CONDITION,
        package_type=1,
    )
    ref = client.crowd_init(search_id=search_id)
    assert ref.search_id == search_id and ref.package_id

    first = client.crowd_instance_status(package_id=ref.package_id)
    assert (first.status, first.package_size) == ("0", 0)
    sandbox.post("/clock/advance", json={"seconds": 61})
    done = client.crowd_instance_status(package_id=ref.package_id)
    assert done.status == "2" and done.package_size > 0 and done.is_final


def test_saveas_calc_split_filter(client, sandbox):
    _, a, size_a = generated_package(client, sandbox)
    other = {
        "bool": {
            "must": [
                {"bool": {"group": "001", "must": [{"term": {"TAG_001": {"value": "TAG_001_03"}}}]}}
            ]
        }
    }
    _, b, size_b = generated_package(client, sandbox, other)

    saved = client.crowd_instance_saveas(
        package_id=a, crowd_name="另存", crowd_desc="d", master_id=MASTER_ID
    )
    assert saved.search_id

    union = client.crowd_instance_calc(
        master_id=MASTER_ID,
        crowd_name="并集",
        crowd_desc="d",
        condition={"bool": {"should": [{"term": {"package_id": {"value": p}}} for p in (a, b)]}},
    )
    assert union.package_status == "0"
    sandbox.post("/clock/advance", json={"seconds": 61})
    union_size = client.crowd_instance_status(package_id=union.package_id).package_size
    assert max(size_a, size_b) <= union_size <= size_a + size_b

    parts = client.crowd_instance_split(
        package_id=a, parts=[("组1", 0.4), ("组2", 0.6)], split_type=t.SplitType.RATIO
    )
    assert [p.package_name for p in parts] == ["组1|0.4", "组2|0.6"]
    assert sum(p.package_size for p in parts) <= size_a
    counted = client.crowd_instance_split(
        package_id=b, parts=[("前100", 100)], split_type=t.SplitType.COUNT
    )
    assert counted[0].package_size == 100
    with pytest.raises(JDCloudRejected):
        client.crowd_instance_split(
            package_id=a, parts=[("x", 0.7), ("y", 0.7)], split_type=t.SplitType.RATIO
        )

    template = client.sms_templates(master_id=MASTER_ID, type=1)[0]
    client.crowd_instance_reach(
        package_id=parts[0].package_id,
        reach=t.SmsPublicReach(
            template_id=template.template_id,
            template_params=dict.fromkeys(template.template_params, "x"),
        ),
    )
    filtered = client.crowd_instance_filter(
        package_id=parts[0].package_id, filter_types=[t.FilterType.DELIVERED, t.FilterType.FAILED]
    )
    assert sorted(f.filter_type for f in filtered) == ["3", "4"]


def test_reach_all_four_types_consume_balance_and_show_results(client, sandbox):
    _, package_id, size = generated_package(client, sandbox)
    parts = client.crowd_instance_split(
        package_id=package_id,
        parts=[(f"p{i}", 0.1) for i in range(4)],
        split_type=t.SplitType.RATIO,
    )
    public = client.sms_templates(master_id=MASTER_ID, type=1)[0]
    private = client.sms_templates(master_id=MASTER_ID, type=2)[0]
    signature = client.sms_signature(master_id=MASTER_ID)[0]
    params_pub = dict.fromkeys(public.template_params, "v")
    params_pri = dict.fromkeys(private.template_params, "v")
    before = client.sms_balance(master_id=MASTER_ID)
    reaches = [
        t.SmsPublicReach(template_id=public.template_id, template_params=params_pub),
        t.SmsPrivateReach(
            template_id=private.template_id,
            template_params=params_pri,
            signature_id=signature.signature_id,
        ),
        t.CouponPublicReach(
            template_id=public.template_id, template_params=params_pub, batch_id="coupon-1"
        ),
        t.CouponPrivateReach(
            template_id=private.template_id,
            template_params=params_pri,
            signature_id=signature.signature_id,
            batch_id="coupon-2",
            send_time=START + timedelta(hours=1),
        ),
    ]

    for part, reach in zip(parts, reaches, strict=True):
        client.crowd_instance_reach(package_id=part.package_id, reach=reach)

    after = client.sms_balance(master_id=MASTER_ID)
    assert after.public_balance < before.public_balance
    assert after.private_balance < before.private_balance
    result = client.sms_result(package_id=parts[0].package_id)
    assert result.total == parts[0].package_size
    consumption = client.sms_consume(master_id=MASTER_ID, page_size=50)
    assert consumption.total >= 3
    assert all(isinstance(row, t.ConsumeRecord) for row in consumption.result)


def test_sms_ledger_reads(client):
    recharge = client.sms_recharge(
        master_id=MASTER_ID, start_date="2000-01-01 00:00:00", page_size=5
    )
    assert recharge.total >= 1 and recharge.result[0].number > 0
    consume = client.sms_consume(master_id=MASTER_ID, end_date=datetime(2100, 1, 1))
    assert consume.page_num == 1


def test_shorturl(client):
    short = client.shorturl_create(
        url="https://www.jd.com/?utm_source=isv&utm_campaign=pkg_10000087_100003"
    )
    assert short.startswith("3.cn/")
    with pytest.raises(JDCloudRejected):
        client.shorturl_create(url="https://www.jd.com?utm_source=isv&utm_campaign=a_b_c")


def test_activity_create(client):
    client.activity_create(
        master_id=MASTER_ID,
        activity_id="act-1",
        activity_name="双十一",
        start_type=t.StartType.PERIODIC,
        start_type_remark="周期:每1周执行一次",
        activity_reach_type=t.ActivityReachType.SMS,
        preview_url="http://127.0.0.1:8000/campaigns/activities/1/preview/",
    )


def test_reports_create_fetch_pull(client, sandbox):
    _, package_id, _ = generated_package(client, sandbox)
    client.report_create(
        package_id=package_id, master_id=MASTER_ID, report_date="2026-01-05 00:00:00"
    )
    sandbox.post("/clock/advance", json={"seconds": 3 * 86400})

    batch = client.report(
        master_id=MASTER_ID, report_date=date(2026, 1, 6), report_type=t.ReportType.CLICK
    )

    assert batch.report_date == "2026-01-06"
    rows = [row for row in batch.report_data if row["package_id"] == package_id]
    assert rows and rows[0]["report_type"] == "click" and "pay_amount_top5" in rows[0]
    client.report_pull(report_date=date(2026, 1, 6))


def test_wechat_campaign_path(client, sandbox):
    info = client.activity_wx_wechat_info(master_id=MASTER_ID)
    assert info.appId
    templates = client.activity_wx_get_all_template(master_id=MASTER_ID)
    news = client.activity_wx_batch_get_news(master_id=MASTER_ID, count=5)
    assert templates and news.totalCount >= news.itemCount
    template = templates[-1]

    activity_id = client.activity_wx_create(
        t.WxActivity(
            master_id=MASTER_ID,
            business_id="biz-1",
            send_time=START + timedelta(hours=1),
            create_time=START,
            begin_time=START,
            end_time=START + timedelta(days=1),
            pack_type=1,
            activity_type=3,
            template_id=template.templateId,
            template_data=(t.WxTemplateData("first", "你好", "#173177"),),
            template_url="http://www.jd.com",
        )
    )
    detail = client.activity_wx_activity_info(master_id=MASTER_ID, activity_id=activity_id)
    assert detail.activity_id == activity_id and detail.business_id == "biz-1"
    assert client.activity_wx_convert_url(master_id=MASTER_ID, url="http://www.jd.com")
    client.activity_wx_reject(master_id=MASTER_ID, activity_id=activity_id, remark="不发了")


def test_notices_and_system_status(client):
    assert isinstance(client.notice_list(), list)
    assert client.system_status().is_up


# --- faults --------------------------------------------------------------------------


def test_code_not_zero_is_a_rejection_and_a_read_is_not_retried_for_it(client, sandbox):
    sandbox.post(
        "/faults", json={"path": "/sms/balance", "kind": "code", "code": "500", "msg": "系统繁忙"}
    )
    sandbox.delete("/requests")

    with pytest.raises(JDCloudRejected) as raised:
        client.sms_balance(master_id=MASTER_ID)

    assert (raised.value.code, raised.value.msg) == ("500", "系统繁忙")
    assert len(journal(sandbox, "/sms/balance")) == 1


def test_http_500_read_retried_create_not(client, sandbox):
    sandbox.post("/faults", json={"path": "*", "kind": "http_error", "status": 500})
    sandbox.delete("/requests")

    with pytest.raises(JDCloudTransportError):
        client.crowd_list(master_id=MASTER_ID)
    with pytest.raises(JDCloudTransportError):
        client.crowd_create_v2(
            master_id=MASTER_ID,
            crowd_name="n",
            crowd_desc="d",
            condition=PUBLIC_CONDITION,
            package_type=1,
        )

    assert len(journal(sandbox, "/crowd/list")) == 3
    assert len(journal(sandbox, "/crowd/create/v2")) == 1
    assert IntegrationCall.objects.filter(endpoint="/crowd/list").count() == 3


def test_timeouts_read_retried_create_not(settings, client, sandbox):
    settings.JDCLOUD_TIMEOUT_SECONDS = 0.3
    client = jdcloud_client()
    sandbox.post("/faults", json={"path": "*", "kind": "timeout", "latency_ms": 1500})
    sandbox.delete("/requests")

    with pytest.raises(JDCloudTransportError, match="timeout"):
        client.sms_templates(master_id=MASTER_ID, type=1)
    with pytest.raises(JDCloudTransportError, match="timeout"):
        client.crowd_init(search_id="whatever")

    assert len(journal(sandbox, "/sms/templates", at_least=3)) == 3
    assert len(journal(sandbox, "/crowd/init", at_least=1)) == 1


def test_a_transient_fault_is_absorbed_by_the_read_retry(client, sandbox):
    sandbox.post(
        "/faults", json={"path": "/notice/list", "kind": "http_error", "status": 502, "times": 2}
    )
    assert isinstance(client.notice_list(), list)


def test_the_sandbox_rejects_a_wrong_secret(settings, client):
    settings.JDCLOUD_SECRET_KEY = "not-the-secret"

    with pytest.raises(JDCloudRejected) as raised:
        jdcloud_client().notice_list()

    assert raised.value.http_status == 401


def test_the_walkthrough_command_runs_the_whole_crowd_path(settings, sandbox_url, sandbox):
    from io import StringIO

    from django.core.management import call_command

    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    sandbox.post("/config", json={"instance_generation_seconds": 0}).raise_for_status()
    out = StringIO()

    call_command("jdcloud_walkthrough", "--poll-interval", "0", stdout=out)

    text = out.getvalue()
    for step in ("[1] tags", "[3] instantiate", "[5] split", "[7] SMS result", "Done"):
        assert step in text
