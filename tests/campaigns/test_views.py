"""The campaigns pages: every page renders for the brand, another brand's ids are a 404,
read-only previews see no write control (but the activity preview page works for them),
JD failures become messages, and the wizard and forms drive the services against the
sandbox."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from campaigns.models import Activity, Reach, SystemState, WechatCampaign
from crowds.models import Crowd, CrowdInstance, InstanceOrigin, InstanceStatus, SyncState
from tests.brands.isv import signed

pytestmark = pytest.mark.django_db

MARKETING = {"shop": "戴森官方旗舰店", "product": "吹风机", "discount": "8", "url": "3.cn/abc"}


def json_script(response, element_id: str):
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no json_script #{element_id}"
    return json.loads(match.group(1))


def has_id(response, element_id: str) -> bool:
    return f'id="{element_id}"' in response.content.decode()


def make_instance(brand, name="包", **fields) -> CrowdInstance:
    with scopes_disabled():
        crowd = Crowd.objects.create(
            brand=brand, name=f"人群{name}", search_id=f"s-{brand.pk}-{name}",
            sync_state=SyncState.SYNCED,
        )  # fmt: skip
        values = {
            "brand": brand,
            "crowd": crowd,
            "name": name,
            "origin": InstanceOrigin.INIT,
            "package_id": f"p-{brand.pk}-{name}",
            "status": InstanceStatus.GENERATED,
            "package_size": 1234,
            "package_type": 1,
        }
        values.update(fields)
        return CrowdInstance.objects.create(**values)


def make_reach(brand, instance, **fields) -> Reach:
    values = {
        "brand": brand,
        "instance": instance,
        "reach_type": "SMSPUBLIC",
        "template_id": "4370",
        "template_params": MARKETING,
        "text": "【京东】戴森官方旗舰店上新啦!吹风机限时8折,戳3.cn/abc抢先看,回复TD退订",
        "signature_name": "【京东】",
        "segments": 1,
        "cost": 1234,
        "status": Reach.Status.FAILED,
        "jd_code": "500",
        "jd_msg": "系统繁忙",
    }
    values.update(fields)
    with scopes_disabled():
        return Reach.objects.create(**values)


def make_activity(brand, reach=None, **fields) -> Activity:
    values = {
        "brand": brand,
        "activity_id": f"a-{brand.pk}-{fields.get('name', '上新')}",
        "name": "上新通知",
        "description": "新品上架短信",
        "start_type": "2",
        "start_type_remark": "周期:每1周执行一次",
        "reach_type": "SMS",
        "reach": reach,
    }
    values.update(fields)
    with scopes_disabled():
        return Activity.objects.create(**values)


def make_wechat(brand, **fields) -> WechatCampaign:
    now = timezone.now()
    values = {
        "brand": brand,
        "business_id": f"b-{brand.pk}-{fields.get('name', '周末')}",
        "name": "周末推送",
        "activity_type": WechatCampaign.ActivityType.TEMPLATE,
        "pack_type": WechatCampaign.PackType.FOLLOWER_ALL,
        "template_id": "tpl-1",
        "template_data": [{"name": "first", "value": "你好", "color": "#173177"}],
        "send_time": now + timedelta(hours=1),
        "begin_time": now,
        "end_time": now + timedelta(days=1),
        "status": WechatCampaign.Status.LAUNCH_NEED,
        "jd_activity_id": 1000 + brand.pk,
        "pre_num": 1451,
    }
    values.update(fields)
    with scopes_disabled():
        return WechatCampaign.objects.create(**values)


@pytest.fixture
def mine(brand):
    instance = make_instance(brand)
    reach = make_reach(brand, instance)
    return {
        "instance": instance,
        "reach": reach,
        "activity": make_activity(brand, reach=reach),
        "wechat": make_wechat(brand),
    }


@pytest.fixture
def theirs(other_brand):
    instance = make_instance(other_brand, name="别人的包")
    reach = make_reach(other_brand, instance, text="别人的短信")
    return {
        "instance": instance,
        "reach": reach,
        "activity": make_activity(other_brand, reach=reach, name="别人的活动"),
        "wechat": make_wechat(other_brand, name="别人的推送"),
    }


@pytest.fixture
def jd_offline(settings):
    """JD Cloud unreachable (nothing listens there): every call fails fast."""
    settings.JDCLOUD_API_BASE_URL = "http://127.0.0.1:9/jdcloud"


def preview_session(client, brand, preview_url="/"):
    """Follow JD's free-login link: a read-only preview session of `brand`."""
    from urllib.parse import urlencode

    params = signed({"master_id": brand.master_id, "preview_url": preview_url})
    response = client.get("/JDCloud/master/verify?" + urlencode(params))
    assert response.status_code == 302
    return client


# --- Pages render, only the brand's rows ------------------------------------------------


PAGES = [
    "/campaigns/",
    "/campaigns/reaches/",
    "/campaigns/reaches/{reach}/",
    "/campaigns/reach/new/",
    "/campaigns/reach/new/?instance={instance}",
    "/campaigns/sms/",
    "/campaigns/activities/",
    "/campaigns/activities/new/",
    "/campaigns/activities/{activity}/",
    "/campaigns/activities/{activity}/edit/",
    "/campaigns/activities/{activity}/preview/",
    "/campaigns/wechat/",
    "/campaigns/wechat/new/",
    "/campaigns/wechat/{wechat}/",
]


def _url(path: str, objects: dict) -> str:
    return path.format(**{name: obj.pk for name, obj in objects.items()})


def test_every_page_renders_for_the_brand(brand_client, mine, jd_offline):
    for path in PAGES:
        response = brand_client.get(_url(path, mine))
        assert response.status_code == 200, path
        assert "/static/campaigns/campaigns." in response.content.decode(), path


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/campaigns/reaches/{reach}/"),
        ("get", "/campaigns/reach/new/?instance={instance}"),
        ("post", "/campaigns/reach/new/?instance={instance}"),
        ("get", "/campaigns/activities/{activity}/"),
        ("get", "/campaigns/activities/{activity}/edit/"),
        ("post", "/campaigns/activities/{activity}/edit/"),
        ("post", "/campaigns/activities/{activity}/submit/"),
        ("get", "/campaigns/activities/{activity}/preview/"),
        ("get", "/campaigns/wechat/{wechat}/"),
        ("post", "/campaigns/wechat/{wechat}/cancel/"),
        ("post", "/campaigns/wechat/{wechat}/retry/"),
    ],
)
def test_another_brands_ids_look_exactly_like_missing_ones(
    brand_client, mine, theirs, method, path, jd_offline
):
    missing = {name: type(obj)(pk=999_999) for name, obj in theirs.items()}

    answers = [getattr(brand_client, method)(_url(path, objs)) for objs in (theirs, missing)]

    assert [a.status_code for a in answers] == [404, 404]
    with scopes_disabled():
        assert WechatCampaign.objects.get(pk=theirs["wechat"].pk).remark == ""
        assert Activity.objects.get(pk=theirs["activity"].pk).review == Activity.Review.DRAFT


def test_the_lists_show_only_the_brands_rows(brand_client, mine, theirs, jd_offline):
    pages = {
        "/campaigns/": ["data-reach-id", "data-activity-id", "data-wechat-id"],
        "/campaigns/reaches/": ["data-reach-id"],
        "/campaigns/activities/": ["data-activity-id"],
        "/campaigns/wechat/": ["data-wechat-id"],
    }
    for url, attributes in pages.items():
        page = brand_client.get(url).content.decode()
        for attribute in attributes:
            kind = attribute.split("-")[1]
            assert f'{attribute}="{mine[kind].pk}"' in page, (url, attribute)
            assert f'{attribute}="{theirs[kind].pk}"' not in page, (url, attribute)
        assert "别人的" not in page, url


def test_the_list_pages_need_few_queries(brand_client, brand, mine, jd_offline):
    """At most 10 queries however many rows, besides the integration call log's own
    writes (one row per attempt to reach JD Cloud, and their savepoints)."""
    for n in range(12):
        instance = make_instance(brand, name=f"包{n}")
        reach = make_reach(brand, instance)
        make_activity(brand, reach=reach, name=f"活动{n}", activity_id=f"act-{n}")
        make_wechat(brand, name=f"推送{n}", business_id=f"biz-{n}", jd_activity_id=5000 + n)
    for url in [
        "/campaigns/",
        "/campaigns/reaches/",
        "/campaigns/activities/",
        "/campaigns/wechat/",
    ]:
        with CaptureQueriesContext(connection) as context:
            assert brand_client.get(url).status_code == 200, url
        queries = [
            q["sql"]
            for q in context.captured_queries
            if "portal_integrationcall" not in q["sql"] and "SAVEPOINT" not in q["sql"]
        ]
        assert len(queries) <= 10, (url, queries)


# --- Read-only preview sessions ----------------------------------------------------------


def test_the_reviewers_preview_page_works_in_a_preview_session(client, brand, mine):
    from campaigns.services.activities import PREVIEW_PATH, preview_url

    activity = mine["activity"]
    path = reverse("campaigns:activity-preview", kwargs={"pk": activity.pk})
    assert path == PREVIEW_PATH.format(pk=activity.pk)
    assert preview_url(activity).endswith(path)

    preview_session(client, brand, path)
    response = client.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert "只读预览" in page  # the session's badge
    assert activity.name in page and activity.start_type_remark in page
    assert has_id(response, "preview-reach")
    assert mine["reach"].text in page
    assert mine["instance"].package_id in page
    assert 'id="preview-package-size"' in page and "1234" in page
    assert 'method="post"' not in page.replace(
        'class="langswitch" action="/i18n/setlang/" method="post"', ""
    ).replace('action="/accounts/logout/" method="post"', "")


def test_a_preview_session_sees_no_write_control(client, brand, mine, jd_offline):
    preview_session(client, brand)
    write_ids = [
        "new-reach",
        "new-activity",
        "edit-activity",
        "submit-activity",
        "new-wechat",
        "cancel-form",
        "retry-wechat",
    ]
    for path in [
        "/campaigns/",
        "/campaigns/reaches/",
        "/campaigns/reaches/{reach}/",
        "/campaigns/sms/",
        "/campaigns/activities/",
        "/campaigns/activities/{activity}/",
        "/campaigns/wechat/",
        "/campaigns/wechat/{wechat}/",
    ]:
        response = client.get(_url(path, mine))
        assert response.status_code == 200, path
        assert not [i for i in write_ids if has_id(response, i)], path

    for path in [
        "/campaigns/reach/new/?instance={instance}",
        "/campaigns/activities/new/",
        "/campaigns/activities/{activity}/edit/",
        "/campaigns/wechat/new/",
    ]:
        assert client.get(_url(path, mine)).status_code == 403, path
    for path in ["/campaigns/activities/{activity}/submit/", "/campaigns/wechat/{wechat}/cancel/"]:
        assert client.post(_url(path, mine), {"remark": "x"}).status_code == 403, path
    with scopes_disabled():
        assert Activity.objects.get(pk=mine["activity"].pk).review == Activity.Review.DRAFT


def test_members_see_the_write_controls(brand_client, mine, jd_offline):
    page = brand_client.get(_url("/campaigns/activities/{activity}/", mine))
    assert has_id(page, "edit-activity") and has_id(page, "submit-activity")
    assert has_id(brand_client.get(_url("/campaigns/wechat/{wechat}/", mine)), "cancel-form")
    assert has_id(brand_client.get("/campaigns/"), "new-reach")


# --- The SMS ledger ----------------------------------------------------------------------


@pytest.fixture
def jd_client(client, jd_brand, make_brand_user):
    """A user of the sandbox's brand, logged in."""
    client.force_login(make_brand_user(jd_brand).user)
    return client


def messages_of(response) -> str:
    page = response.content.decode()
    return page.split('<ul class="messages">')[1].split("</ul>")[0] if "messages" in page else ""


def test_the_ledger_shows_balance_and_records_from_jd(jd_client):
    response = jd_client.get("/campaigns/sms/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-balance="public">65282<' in page and 'data-balance="private">97097<' in page
    assert has_id(response, "ledger-recharge")
    assert "1c5466bb7e685bb2edb5d5854d6e5953" in page and "12312312" in page

    consume = jd_client.get("/campaigns/sms/?kind=consume").content.decode()
    assert 'id="ledger-consume"' in consume and "5a1777175642ae3bc73e9a1cec14d784" in consume


def test_the_ledger_filters_by_date_and_pages(jd_client):
    recent = (timezone.localdate() - timedelta(days=10)).isoformat()
    page = jd_client.get(f"/campaigns/sms/?kind=recharge&start={recent}").content.decode()
    assert "12312312" not in page and "1c5466bb7e685bb2edb5d5854d6e5953" not in page
    assert page.count("<tr>") == 1 + 1  # the head and the recharge of last week

    second = jd_client.get("/campaigns/sms/?kind=recharge&page_size=2&page_num=2")
    assert second.content.decode().count("<tr>") == 1 + 1
    assert 'rel="prev"' in second.content.decode() and 'rel="next"' not in second.content.decode()

    wrong = jd_client.get("/campaigns/sms/?start=2026-02-01&end=2026-01-01")
    assert wrong.status_code == 200 and has_id(wrong, "ledger-errors")


def test_jd_failures_on_the_ledger_are_messages_not_a_500(jd_client, control):
    control.post("/faults", json={"path": "/sms/balance", "kind": "http_error", "status": 503})
    control.post(
        "/faults", json={"path": "/sms/recharge", "kind": "code", "code": "500", "msg": "系统繁忙"}
    )

    response = jd_client.get("/campaigns/sms/")

    assert response.status_code == 200
    shown = messages_of(response)
    assert shown.count('class="error"') == 2 and "系统繁忙" in shown
    assert "data-balance" not in response.content.decode()


# --- The reach wizard ---------------------------------------------------------------------


def reach_form(**extra) -> dict:
    form = {"type": "SMSPUBLIC", "template_id": "4370", "send_time": ""}
    form.update({f"param_{name}": value for name, value in MARKETING.items()})
    form.update(extra)
    return form


def test_the_wizard_sends_the_reach_and_lands_on_its_page(jd_client, package):
    page = jd_client.get(f"/campaigns/reach/new/?instance={package.pk}")
    config = json_script(page, "reach-config")
    assert config["instance"] == package.pk
    assert config["urls"]["preflight"] == "/api/v1/reaches/preflight/"
    assert config["singleLength"] == 70 and config["partLength"] == 67

    response = jd_client.post(f"/campaigns/reach/new/?instance={package.pk}", reach_form())

    reach = Reach.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/campaigns/reaches/{reach.pk}/"
    assert reach.status == Reach.Status.SENT and reach.template_params == MARKETING
    detail = jd_client.get(response["Location"])
    assert has_id(detail, "sms-result") and 'data-result="success"' in detail.content.decode()
    assert reach.text in detail.content.decode()
    assert f"/crowds/instances/{package.pk}/" in detail.content.decode()


def test_a_refused_reach_comes_back_with_its_preflight(jd_client, package):
    form = reach_form(param_url="")

    response = jd_client.post(f"/campaigns/reach/new/?instance={package.pk}", form)

    assert response.status_code == 400
    assert not Reach.objects.exists()
    initial = json_script(response, "reach-initial")
    assert (
        initial["template_id"] == "4370" and initial["template_params"]["shop"] == "戴森官方旗舰店"
    )
    paths = [problem["path"] for problem in initial["preflight"]["blocking"]]
    assert paths == ["params.template_params.url"]
    assert 'class="error"' in messages_of(response)


def test_the_wizard_is_disabled_while_jd_is_down(jd_client, package):
    SystemState.objects.update_or_create(pk=1, defaults={"up": False, "reason": "系统升级中"})

    page = jd_client.get(f"/campaigns/reach/new/?instance={package.pk}")
    assert has_id(page, "wizard-disabled") and "系统升级中" in page.content.decode()
    assert 'data-disabled="true"' in page.content.decode()

    refused = jd_client.post(f"/campaigns/reach/new/?instance={package.pk}", reach_form())
    assert refused.status_code == 400 and not Reach.objects.exists()


def test_a_package_not_generated_cannot_be_reached(brand_client, brand):
    instance = make_instance(brand, status=InstanceStatus.GENERATING, package_size=None)
    page = brand_client.get(f"/campaigns/reach/new/?instance={instance.pk}")
    assert has_id(page, "wizard-disabled") and 'data-disabled="true"' in page.content.decode()


# --- Activities --------------------------------------------------------------------------


ACTIVITY = {
    "name": "618 会员日",
    "description": "会员日上新",
    "start_type": "2",
    "start_type_remark": "周期:每1周执行一次",
    "reach_type": "SMS",
    "reach": "",
}


def test_a_periodic_activity_needs_its_schedule(brand_client):
    response = brand_client.post(
        "/campaigns/activities/new/", {**ACTIVITY, "start_type_remark": ""}
    )

    assert response.status_code == 400
    assert 'id="field-start_type_remark"' in response.content.decode()
    assert 'class="errors"' in response.content.decode()
    with scopes_disabled():
        assert not Activity.objects.exists()


def test_a_single_run_drops_the_hidden_schedule(brand_client):
    response = brand_client.post("/campaigns/activities/new/", {**ACTIVITY, "start_type": "1"})

    assert response.status_code == 302
    with scopes_disabled():
        assert Activity.objects.get().start_type_remark == ""


def test_submit_review_and_an_edit_that_voids_the_approval(jd_client, jd_brand):
    from campaigns.services import activities

    created = jd_client.post("/campaigns/activities/new/", ACTIVITY)
    activity = Activity.objects.get()
    assert created["Location"] == f"/campaigns/activities/{activity.pk}/"
    page = jd_client.get(created["Location"])
    assert 'data-review="draft"' in page.content.decode() and has_id(page, "submit-activity")

    jd_client.post(f"/campaigns/activities/{activity.pk}/submit/")
    activity.refresh_from_db()
    assert activity.review == Activity.Review.PENDING
    assert not has_id(jd_client.get(created["Location"]), "submit-activity")

    activities.activity_record_review(
        brand=jd_brand,
        activity_id=activity.activity_id,
        approve_status="1",
        audit_remark="通过",
        auditor="jd_auditor",
    )
    approved = jd_client.get(created["Location"]).content.decode()
    assert 'data-review="approved"' in approved and "jd_auditor" in approved
    assert has_id(
        jd_client.get(f"/campaigns/activities/{activity.pk}/edit/"), "edit-voids-approval"
    )

    edited = jd_client.post(
        f"/campaigns/activities/{activity.pk}/edit/",
        {**ACTIVITY, "name": "618 会员日(改)"},
        follow=True,
    )
    activity.refresh_from_db()
    assert activity.review == Activity.Review.DRAFT
    assert 'class="warning"' in messages_of(edited)
    assert has_id(edited, "review-voided") and has_id(edited, "submit-activity")

    listed = jd_client.get("/campaigns/activities/?review=draft").content.decode()
    assert f'data-activity-id="{activity.pk}"' in listed


def test_a_jd_refusal_of_the_submission_is_shown(jd_client, control):
    jd_client.post("/campaigns/activities/new/", ACTIVITY)
    activity = Activity.objects.get()
    control.post(
        "/faults",
        json={"path": "/activity/create", "kind": "code", "code": "500", "msg": "审核通道关闭"},
    )

    response = jd_client.post(f"/campaigns/activities/{activity.pk}/submit/", follow=True)

    activity.refresh_from_db()
    assert activity.review == Activity.Review.SUBMIT_FAILED
    assert "审核通道关闭" in messages_of(response)
    assert has_id(response, "submit-error") and has_id(response, "submit-activity")


# --- WeChat ------------------------------------------------------------------------------


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def wechat_form(template_id: str, **extra) -> dict:
    now = timezone.now()
    form = {
        "name": "周末上新推送",
        "activity_type": "3",
        "template_id": template_id,
        f"tpl-{template_id}-0-value": "您好,新品上架",
        f"tpl-{template_id}-0-color": "#173177",
        f"tpl-{template_id}-1-value": "周末上新",
        f"tpl-{template_id}-2-value": "本周六",
        f"tpl-{template_id}-3-value": "欢迎光临",
        "pack_type": "1",
        "begin_time": local(now + timedelta(minutes=5)),
        "send_time": local(now + timedelta(hours=1)),
        "end_time": local(now + timedelta(days=2)),
        "convert_urls": "",
    }
    form.update(extra)
    return form


WECHAT_TEMPLATE = "iHxQJL1oep3kb2EVX94-T4zQeVVihfdNGXapx4tS0oU"  # {{first}} {{keyword1}} …


def test_the_wechat_page_shows_the_official_account(jd_client):
    page = jd_client.get("/campaigns/wechat/").content.decode()
    assert "测试品牌商服务号" in page
    assert 'data-followers="all"' in page and "1451" in page


def test_the_wechat_form_offers_templates_with_their_fields_and_the_news(jd_client):
    response = jd_client.get("/campaigns/wechat/new/")
    page = response.content.decode()
    assert f'data-template-id="{WECHAT_TEMPLATE}"' in page
    for index, field in enumerate(["first", "keyword1", "keyword2", "remark"]):
        assert f'data-field="{field}"' in page
        assert f'name="tpl-{WECHAT_TEMPLATE}-{index}-value"' in page
    assert page.count('class="news-item"') == 5 and 'rel="next"' in page

    fragment = jd_client.get("/campaigns/wechat/news/?offset=20").content.decode()
    assert fragment.count('class="news-item"') == 3 and 'rel="prev"' in fragment


def test_create_follow_and_cancel_a_wechat_campaign(jd_client):
    response = jd_client.post("/campaigns/wechat/new/", wechat_form(WECHAT_TEMPLATE))

    campaign = WechatCampaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/campaigns/wechat/{campaign.pk}/"
    assert campaign.jd_activity_id is not None and campaign.sync_error == ""
    assert [d["name"] for d in campaign.template_data] == [
        "first",
        "keyword1",
        "keyword2",
        "remark",
    ]
    assert campaign.template_data[0]["color"] == "#173177"
    detail = jd_client.get(response["Location"])
    assert f'data-wechat-poll="/api/v1/wechat-campaigns/{campaign.pk}/"' in detail.content.decode()
    assert has_id(detail, "cancel-form")

    too_long = jd_client.post(
        f"/campaigns/wechat/{campaign.pk}/cancel/", {"remark": "太长" * 26}, follow=True
    )
    campaign.refresh_from_db()
    assert not campaign.is_final and 'class="error"' in messages_of(too_long)

    jd_client.post(f"/campaigns/wechat/{campaign.pk}/cancel/", {"remark": "活动取消"})
    campaign.refresh_from_db()
    assert campaign.status == WechatCampaign.Status.LAUNCH_REJECTED
    assert campaign.remark == "活动取消"
    assert not has_id(jd_client.get(response["Location"]), "cancel-form")


def test_wechat_errors_are_shown_beside_their_fields(jd_client):
    form = wechat_form(WECHAT_TEMPLATE, **{f"tpl-{WECHAT_TEMPLATE}-1-value": ""}, pack_type="2")

    response = jd_client.post("/campaigns/wechat/new/", form)

    assert response.status_code == 400
    assert not WechatCampaign.objects.exists()
    page = response.content.decode()
    assert 'class="row-errors"' in page  # the empty keyword1
    assert 'id="field-instance"' in page and page.count('class="errors"') >= 2
