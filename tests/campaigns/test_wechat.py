"""WeChat campaigns against the sandbox (spec: 微信活动): create (template / news, pack
types, landing-page conversion), polled to a final status, cancel, retry, the REST API,
and one real Celery worker polling a campaign to its end."""

import time
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from campaigns import tasks
from campaigns.models import SystemState, WechatCampaign
from campaigns.services import wechat as services
from crowds import services as crowd_services
from crowds.models import CrowdInstance, InstanceStatus
from tests.crowds.sandboxed import PUBLIC_CONDITION, SANDBOX_MASTER_ID
from tests.processes import ROOT, empty_broker, start_process, worker_database_url

pytestmark = pytest.mark.django_db

TEMPLATE_ID = "iHxQJL1oep3kb2EVX94-T4zQeVVihfdNGXapx4tS0oU"  # in the sandbox's catalog
STEP = 30  # sandbox seconds per status step
Status = WechatCampaign.Status


@pytest.fixture
def sandbox(sandbox_url, settings):
    """The sandbox on a manual clock, WeChat steps of 30 s that never fail; every poll due
    at once (no backoff) unless a test says otherwise."""
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    settings.CROWD_POLL_INITIAL_SECONDS = 0
    control = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    control.post("/reset", json={"seed": 7, "clock": "manual"}).raise_for_status()
    control.post(
        "/config",
        json={
            "wechat_step_seconds": STEP,
            "wechat_failure_rate": 0,
            "instance_generation_seconds": 60,
        },
    ).raise_for_status()
    yield control
    control.delete("/faults")
    control.close()


@pytest.fixture
def sandbox_brand(make_brand, sandbox):
    brand = make_brand(master_id=SANDBOX_MASTER_ID, name="测试品牌商")
    with scope(brand=brand):
        yield brand


@pytest.fixture
def generated_package(sandbox_brand, sandbox) -> CrowdInstance:
    with scopes_disabled():
        crowd_services.tag_catalog_refresh()
    crowd = crowd_services.crowd_create(
        brand=sandbox_brand, name="已婚", condition=PUBLIC_CONDITION
    )
    instance = crowd_services.instance_create(crowd=crowd)
    sandbox.post("/clock/advance", json={"seconds": 61}).raise_for_status()
    instance = crowd_services.instance_poll(instance_id=instance.pk)
    assert instance.status == InstanceStatus.GENERATED
    return instance


@pytest.fixture
def enqueued(monkeypatch):
    """Poll tasks sent to the broker, recorded instead."""
    sent = []
    monkeypatch.setattr(
        tasks.poll_wechat_campaign,
        "apply_async",
        lambda kwargs=None, eta=None, **_: sent.append((kwargs, eta)),
    )
    monkeypatch.setattr(tasks.poll_wechat_campaign, "delay", lambda **kwargs: sent.append(kwargs))
    return sent


def advance(sandbox, seconds: float) -> None:
    sandbox.post("/clock/advance", json={"seconds": seconds}).raise_for_status()


def template_campaign(brand, **overrides) -> WechatCampaign:
    now = timezone.now()
    fields = {
        "brand": brand,
        "name": "会员日提醒",
        "activity_type": 3,
        "pack_type": 1,
        "template_id": TEMPLATE_ID,
        "template_data": [
            {"name": "first", "value": "京东云ECRM通知", "color": "#173177"},
            {"name": "keyword1", "value": "会员日"},
        ],
        "template_url": "https://pro.jd.com/mall/active/member.html",
        "send_time": now,
        "begin_time": now,
        "end_time": now + timedelta(days=1),
    }
    return services.wechat_campaign_create(**{**fields, **overrides})


def poll(campaign) -> WechatCampaign:
    return services.wechat_campaign_poll(campaign_id=campaign.pk)


# --- Reads -----------------------------------------------------------------------------


def test_account_templates_and_news_are_read(sandbox_brand):
    info = services.wechat_info(sandbox_brand)
    templates = services.wechat_templates(sandbox_brand)
    page = services.wechat_news(sandbox_brand, offset=20, count=5)

    assert info.allFollowerNum == info.pinFollowerNum + info.notPinFollowerNum > 0
    assert TEMPLATE_ID in [t.templateId for t in templates]
    assert (page.totalCount, page.itemCount, len(page.items)) == (23, 3, 3)
    with pytest.raises(services.WechatInputError) as refused:
        services.wechat_news(sandbox_brand, offset=-1, count=21)
    assert [v.path for v in refused.value.violations] == ["offset", "count"]


# --- Create and poll ---------------------------------------------------------------------


def test_a_template_campaign_is_created_and_polled_to_launched(
    sandbox_brand, sandbox, enqueued, django_capture_on_commit_callbacks
):
    followers = services.wechat_info(sandbox_brand).allFollowerNum
    with django_capture_on_commit_callbacks(execute=True):
        campaign = template_campaign(
            sandbox_brand, convert_urls=["https://pro.jd.com/mall/active/member.html"]
        )

    assert campaign.jd_activity_id and len(campaign.business_id) == 32
    assert campaign.status == Status.CREATE and campaign.sync_error == ""
    (mapping,) = campaign.url_mappings
    assert mapping["url"] == "https://pro.jd.com/mall/active/member.html"
    assert mapping["shortUrl"].startswith("sq.jd.com/")
    # The first poll is enqueued once the row is committed, due at once.
    assert enqueued == [
        ({"campaign_id": campaign.pk, "brand_id": sandbox_brand.pk}, campaign.next_poll_at)
    ]

    seen = [poll(campaign).status]
    for _ in range(4):
        advance(sandbox, STEP)
        polled = poll(campaign)
        seen.append(polled.status)
        assert polled.polled

    assert seen == [
        Status.CREATE,
        Status.LAUNCH_NEED,
        Status.LAUNCH_NEED_ARRIVE,
        Status.LAUNCH_ARRIVING,
        Status.LAUNCHED,
    ]
    assert polled.is_final and polled.next_poll_at is None
    assert polled.pre_num == followers and 0 < polled.act_num <= followers
    # A final campaign is not polled again.
    again = poll(campaign)
    assert not again.polled and again.poll_count == polled.poll_count == 5


def test_a_news_campaign_reaches_a_crowd_package(sandbox_brand, sandbox, generated_package):
    news = services.wechat_news(sandbox_brand, count=1).items[0]
    now = timezone.now()

    campaign = services.wechat_campaign_create(
        brand=sandbox_brand,
        name="新品图文",
        activity_type=4,
        pack_type=2,
        instance=generated_package,
        media_id=news["mediaId"],
        media_title="新品首发",
        send_time=now + timedelta(minutes=2),
        begin_time=now,
        end_time=now + timedelta(days=3),
    )
    assert campaign.jd_activity_id and campaign.instance == generated_package

    advance(sandbox, 5 * 60)
    done = poll(campaign)
    assert done.status == Status.LAUNCHED
    assert done.pre_num == generated_package.package_size


def test_a_send_time_ahead_spaces_the_polls_until_then(sandbox_brand, sandbox):
    now = timezone.now()
    campaign = template_campaign(sandbox_brand, send_time=now + timedelta(hours=3))
    advance(sandbox, STEP)

    waiting = poll(campaign)

    assert waiting.status == Status.LAUNCH_NEED
    assert waiting.next_poll_at >= timezone.now() + timedelta(
        seconds=services.WAITING_POLL_SECONDS - 5
    )


def test_a_duplicate_poll_before_it_is_due_does_nothing(sandbox_brand, sandbox, settings):
    settings.CROWD_POLL_INITIAL_SECONDS = 30
    campaign = template_campaign(sandbox_brand)

    first = poll(campaign)
    again = poll(campaign)

    assert first.polled and first.poll_count == 1
    assert not again.polled and again.poll_count == 1


def test_the_task_polls_and_reschedules_itself_until_final(sandbox_brand, sandbox, enqueued):
    campaign = template_campaign(sandbox_brand)
    kwargs = {"campaign_id": campaign.pk, "brand_id": sandbox_brand.pk}

    assert tasks.poll_wechat_campaign.apply(kwargs=kwargs).get() == Status.CREATE
    campaign.refresh_from_db()
    assert enqueued == [(kwargs, campaign.next_poll_at)]

    advance(sandbox, 5 * STEP)
    assert tasks.poll_wechat_campaign.apply(kwargs=kwargs).get() == Status.LAUNCHED
    assert len(enqueued) == 1  # final: no further poll


def test_lost_poll_chains_are_resumed(sandbox_brand, sandbox, enqueued):
    campaign = template_campaign(sandbox_brand)
    WechatCampaign.objects.filter(pk=campaign.pk).update(
        next_poll_at=timezone.now() - timedelta(hours=1)
    )

    assert tasks.resume_overdue_wechat_polls() == 1
    assert enqueued == [{"campaign_id": campaign.pk, "brand_id": sandbox_brand.pk}]


# --- Validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"pack_type": 0}, "pack_type"),
        ({"pack_type": 6}, "pack_type"),
        ({"pack_type": 3}, "openid_package"),
        ({"pack_type": 2}, "package_id"),
        ({"activity_type": 5}, "activity_type"),
        ({"template_id": ""}, "templateInfo.templateId"),
        ({"template_data": []}, "templateInfo.data"),
        ({"template_data": [{"name": "first", "value": ""}]}, "templateInfo.data[0].value"),
        (
            {"template_data": [{"name": "a", "value": "b", "color": "red"}]},
            "templateInfo.data[0].color",
        ),
        ({"activity_type": 4}, "mediaInfo.mediaId"),
        ({"media_id": "x", "media_title": "y"}, "mediaInfo"),
        ({"convert_urls": ["https://www.taobao.com/"]}, "convert_urls[0]"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_input_is_refused_naming_the_field(sandbox_brand, fields, path):
    with pytest.raises(services.WechatInputError) as refused:
        template_campaign(sandbox_brand, **fields)

    assert path in [v.path for v in refused.value.violations]
    assert not WechatCampaign.objects.exists()


def test_times_must_be_in_order(sandbox_brand):
    now = timezone.now()
    with pytest.raises(services.WechatInputError) as refused:
        template_campaign(
            sandbox_brand,
            begin_time=now,
            end_time=now - timedelta(hours=1),
            send_time=now - timedelta(hours=2),
        )

    assert {v.path for v in refused.value.violations} == {"end_time", "send_time"}


def test_a_package_must_be_generated_and_only_for_pack_type_2(
    sandbox_brand, sandbox, generated_package
):
    generating = crowd_services.instance_create(crowd=generated_package.crowd)
    with pytest.raises(services.WechatInputError) as not_ready:
        template_campaign(sandbox_brand, pack_type=2, instance=generating)
    with pytest.raises(services.WechatInputError) as not_needed:
        template_campaign(sandbox_brand, pack_type=5, instance=generated_package)

    assert [v.path for v in not_ready.value.violations] == ["package_id"]
    assert [v.path for v in not_needed.value.violations] == ["package_id"]


# --- JD failures and retry --------------------------------------------------------------


def test_a_failed_create_keeps_the_row_and_submit_retries(sandbox_brand, sandbox):
    sandbox.post(
        "/faults",
        json={"path": "/activity/wx/create", "kind": "http_error", "status": 502, "times": 1},
    ).raise_for_status()

    failed = template_campaign(sandbox_brand)

    assert failed.pk and failed.jd_activity_id is None and failed.status is None
    assert "502" in failed.sync_error and failed.next_poll_at is None
    retried = services.wechat_campaign_submit(campaign=failed)
    assert retried.jd_activity_id and retried.sync_error == ""
    assert retried.business_id == failed.business_id
    # Submitting a created campaign again changes nothing.
    assert (
        services.wechat_campaign_submit(campaign=retried).jd_activity_id == retried.jd_activity_id
    )


def test_a_refusal_by_jd_is_kept_with_its_message(sandbox_brand):
    failed = template_campaign(sandbox_brand, template_id="no-such-template")

    assert failed.jd_activity_id is None
    assert failed.sync_error == "templateInfo.templateId不存在:no-such-template"


def test_nothing_is_created_while_jd_is_down(sandbox_brand, sandbox):
    SystemState.objects.create(pk=1, up=False, reason="系统升级中")

    with pytest.raises(services.WechatRemoteError) as refused:
        template_campaign(sandbox_brand)

    assert "系统升级中" in refused.value.message and refused.value.retryable
    assert not WechatCampaign.objects.exists()


# --- Cancel --------------------------------------------------------------------------------


def test_cancel_before_sending(sandbox_brand, sandbox):
    campaign = template_campaign(sandbox_brand)
    advance(sandbox, STEP)

    cancelled = services.wechat_campaign_cancel(campaign=campaign, remark="活动调整")

    assert (cancelled.status, cancelled.remark) == (Status.LAUNCH_REJECTED, "活动调整")
    assert cancelled.is_final and cancelled.next_poll_at is None
    after = poll(cancelled)
    assert not after.polled and after.status == Status.LAUNCH_REJECTED
    with pytest.raises(services.WechatConflict):
        services.wechat_campaign_cancel(campaign=cancelled, remark="再次取消")


@pytest.mark.parametrize("remark", ["", "   ", "长" * 51])
def test_cancel_needs_a_remark_of_at_most_50_characters(sandbox_brand, sandbox, remark):
    campaign = template_campaign(sandbox_brand)

    with pytest.raises(services.WechatInputError) as refused:
        services.wechat_campaign_cancel(campaign=campaign, remark=remark)

    assert [v.path for v in refused.value.violations] == ["remark"]
    campaign.refresh_from_db()
    assert campaign.status == Status.CREATE


def test_cancel_after_launch_is_refused_with_jds_message(sandbox_brand, sandbox):
    campaign = template_campaign(sandbox_brand)
    advance(sandbox, 5 * STEP)

    with pytest.raises(services.WechatRemoteError) as refused:
        services.wechat_campaign_cancel(campaign=campaign, remark="太晚了")

    assert refused.value.message == "微信活动已投放,不能取消"
    assert not refused.value.retryable
    assert poll(campaign).status == Status.LAUNCHED


def test_a_campaign_jd_never_created_is_cancelled_locally(sandbox_brand, sandbox):
    sandbox.post(
        "/faults", json={"path": "/activity/wx/create", "kind": "http_error", "status": 503}
    ).raise_for_status()
    failed = template_campaign(sandbox_brand)

    cancelled = services.wechat_campaign_cancel(campaign=failed, remark="不发了")

    assert cancelled.status == Status.LAUNCH_REJECTED
    with pytest.raises(services.WechatConflict):
        services.wechat_campaign_submit(campaign=cancelled)


# --- REST API ------------------------------------------------------------------------------


@pytest.fixture
def api(client, sandbox_brand, make_brand_user):
    client.force_login(make_brand_user(sandbox_brand).user)
    return client


def body(**overrides) -> dict:
    now = timezone.now()
    fields = {
        "name": "会员日提醒",
        "activity_type": 3,
        "pack_type": 1,
        "templateInfo": {
            "templateId": TEMPLATE_ID,
            "data": [{"name": "first", "value": "京东云ECRM通知", "color": "#173177"}],
            "url": "https://pro.jd.com/mall/active/member.html",
        },
        "send_time": now.isoformat(),
        "begin_time": now.isoformat(),
        "end_time": (now + timedelta(days=1)).isoformat(),
        "convert_urls": ["https://pro.jd.com/mall/active/member.html"],
    }
    return {**fields, **overrides}


def post(api, url, data=None):
    return api.post(url, data or {}, content_type="application/json")


def test_api_creates_lists_and_shows_campaigns(api, sandbox):
    created = post(api, "/api/v1/wechat-campaigns/", body())

    assert created.status_code == 201, created.content
    shown = created.json()
    assert shown["activity_id"] and shown["created_at_jd"] and shown["activity_status"] == 0
    assert shown["templateInfo"]["templateId"] == TEMPLATE_ID and shown["mediaInfo"] is None
    assert shown["urlMappingList"][0]["shortUrl"].startswith("sq.jd.com/")
    listed = api.get("/api/v1/wechat-campaigns/").json()
    assert [row["id"] for row in listed["results"]] == [shown["id"]]

    advance(sandbox, 5 * STEP)
    poll(WechatCampaign.objects.get(pk=shown["id"]))
    final = api.get(f"/api/v1/wechat-campaigns/{shown['id']}/").json()
    assert (final["activity_status"], final["is_final"]) == (1, True) and final["act_num"] > 0


def test_api_creates_a_news_campaign_for_a_package(api, sandbox_brand, generated_package):
    news = services.wechat_news(sandbox_brand, count=1).items[0]

    created = post(
        api,
        "/api/v1/wechat-campaigns/",
        body(
            activity_type=4,
            pack_type=2,
            package_id=generated_package.package_id,
            templateInfo=None,
            mediaInfo={"mediaId": news["mediaId"], "mediaTitle": "新品首发"},
            convert_urls=[],
        ),
    )

    assert created.status_code == 201, created.content
    assert created.json()["package_id"] == generated_package.package_id
    assert created.json()["mediaInfo"]["mediaId"] == news["mediaId"]


def test_api_errors_name_their_path(api):
    bad_pack = post(api, "/api/v1/wechat-campaigns/", body(pack_type=9))
    bad_item = post(
        api,
        "/api/v1/wechat-campaigns/",
        body(templateInfo={"templateId": TEMPLATE_ID, "data": [{"value": "x"}]}),
    )
    bad_package = post(api, "/api/v1/wechat-campaigns/", body(pack_type=2, package_id="nope"))

    assert bad_pack.status_code == bad_item.status_code == bad_package.status_code == 400
    assert [e["path"] for e in bad_pack.json()["errors"]] == ["pack_type"]
    assert [e["path"] for e in bad_item.json()["errors"]] == ["templateInfo.data[0].name"]
    assert bad_package.json()["errors"] == [{"path": "package_id", "message": "人群包不存在"}]


def test_api_cancel(api, sandbox):
    first = post(api, "/api/v1/wechat-campaigns/", body()).json()["id"]
    second = post(api, "/api/v1/wechat-campaigns/", body()).json()["id"]

    too_long = post(api, f"/api/v1/wechat-campaigns/{first}/cancel/", {"remark": "长" * 51})
    assert too_long.status_code == 400
    assert [e["path"] for e in too_long.json()["errors"]] == ["remark"]

    advance(sandbox, STEP)
    cancelled = post(api, f"/api/v1/wechat-campaigns/{first}/cancel/", {"remark": "活动调整"})
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["activity_status"] == 3 and cancelled.json()["remark"] == "活动调整"
    assert (
        post(api, f"/api/v1/wechat-campaigns/{first}/cancel/", {"remark": "x"}).status_code == 409
    )

    advance(sandbox, 5 * STEP)
    late = post(api, f"/api/v1/wechat-campaigns/{second}/cancel/", {"remark": "太晚了"})
    assert late.status_code == 502
    assert late.json() == {"detail": "微信活动已投放,不能取消", "retryable": False}


def test_api_submit_retries_a_failed_create(api, sandbox):
    sandbox.post(
        "/faults",
        json={"path": "/activity/wx/create", "kind": "http_error", "status": 502, "times": 2},
    ).raise_for_status()
    created = post(api, "/api/v1/wechat-campaigns/", body())
    assert created.status_code == 201 and created.json()["created_at_jd"] is False
    campaign_id = created.json()["id"]

    still_failing = post(api, f"/api/v1/wechat-campaigns/{campaign_id}/submit/")
    assert still_failing.status_code == 502 and still_failing.json()["retryable"] is True
    assert still_failing.json()["campaign"]["sync_error"]

    retried = post(api, f"/api/v1/wechat-campaigns/{campaign_id}/submit/")
    assert retried.status_code == 200 and retried.json()["activity_id"]


def test_api_reads_account_templates_and_news(api):
    info = api.get("/api/v1/wechat/info/")
    templates = api.get("/api/v1/wechat/templates/")
    news = api.get("/api/v1/wechat/news/", {"offset": 0, "count": 2})
    too_many = api.get("/api/v1/wechat/news/", {"count": 30})

    assert info.status_code == 200 and info.json()["appId"]
    assert TEMPLATE_ID in [t["templateId"] for t in templates.json()]
    assert (news.json()["totalCount"], news.json()["itemCount"]) == (23, 2)
    assert too_many.status_code == 400
    assert [e["path"] for e in too_many.json()["errors"]] == ["count"]


def test_api_hides_another_brands_campaigns(api, other_brand):
    now = timezone.now()
    with scope(brand=other_brand):
        others = WechatCampaign.objects.create(
            brand=other_brand,
            business_id="b" * 32,
            name="别家",
            activity_type=3,
            pack_type=1,
            send_time=now,
            begin_time=now,
            end_time=now + timedelta(days=1),
        )

    assert api.get(f"/api/v1/wechat-campaigns/{others.pk}/").status_code == 404
    assert (
        post(api, f"/api/v1/wechat-campaigns/{others.pk}/cancel/", {"remark": "x"}).status_code
        == 404
    )
    assert post(api, f"/api/v1/wechat-campaigns/{others.pk}/submit/").status_code == 404
    assert api.get("/api/v1/wechat-campaigns/").json()["count"] == 0


def test_api_needs_a_signed_in_brand_user(client, sandbox):
    assert client.get("/api/v1/wechat-campaigns/").status_code == 403
    assert client.get("/api/v1/wechat/info/").status_code == 403


# --- A real worker ----------------------------------------------------------------------------


@pytest.fixture
def worker(sandbox_url, settings):
    """A real `celery -A portal worker` sharing the test database and the sandbox, which
    runs a real clock with two-second WeChat steps. Yields once the worker is ready, so
    that its polls see the campaign move."""
    database_url = worker_database_url()
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    control = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    control.post("/reset", json={"seed": 11, "clock": "real"}).raise_for_status()
    control.post(
        "/config", json={"wechat_step_seconds": 2, "wechat_failure_rate": 0}
    ).raise_for_status()
    empty_broker()
    process = start_process(
        ["-m", "celery", "-A", "portal", "worker", "--pool=solo", "--loglevel=INFO"],
        name="celery-worker-wechat",
        env={
            "DATABASE_URL": database_url,
            "JDCLOUD_API_BASE_URL": f"{sandbox_url}/jdcloud",
            "CROWD_POLL_INITIAL_SECONDS": "0.5",
            "CROWD_POLL_MAX_SECONDS": "1",
        },
    )
    log = ROOT / "var" / "test-logs" / "celery-worker-wechat.log"
    deadline = time.monotonic() + 60
    while b" ready." not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the worker did not start: see {log}")
        time.sleep(0.2)
    yield control
    process.terminate()
    process.wait(timeout=20)
    control.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_polls_a_created_campaign_to_its_final_status(worker, make_brand):
    brand = make_brand(master_id=SANDBOX_MASTER_ID, name="测试品牌商")
    with scope(brand=brand):
        campaign = template_campaign(brand)
        assert campaign.jd_activity_id and campaign.status == Status.CREATE

        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            campaign.refresh_from_db()
            if campaign.is_final:
                break
            time.sleep(0.2)

    assert campaign.status == Status.LAUNCHED, (campaign.status, campaign.sync_error)
    assert campaign.poll_count >= 2 and campaign.next_poll_at is None
    assert 0 < campaign.act_num <= campaign.pre_num
