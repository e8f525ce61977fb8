"""Landing-page conversion (`/activity/wx/convertUrl`, spec: 微信活动) when JD fails: a busy
or failing JD is a message for the whole form, to try again (API: 502, retryable), while
JD refusing an address stays an error beside that address (API: 400 naming its path).
Against the sandbox (fixtures `control`, `jd_brand` in tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from campaigns.models import WechatCampaign
from campaigns.services import wechat as services

pytestmark = pytest.mark.django_db

TEMPLATE_ID = "iHxQJL1oep3kb2EVX94-T4zQeVVihfdNGXapx4tS0oU"  # in the sandbox's catalog
LANDING = "https://pro.jd.com/mall/active/member.html"
BUSY = {"code": "500", "msg": "系统繁忙"}
BAD_URL = {"code": "400", "msg": "url不合法:活动页已下线"}


def fail_convert_once(control, answer: dict) -> None:
    control.post(
        "/faults",
        json={"path": "/activity/wx/convertUrl", "kind": "code", "times": 1, **answer},
    ).raise_for_status()


def create(brand) -> WechatCampaign:
    now = timezone.now()
    return services.wechat_campaign_create(
        brand=brand,
        name="会员日提醒",
        activity_type=3,
        pack_type=1,
        template_id=TEMPLATE_ID,
        template_data=[{"name": "first", "value": "京东云ECRM通知"}],
        send_time=now,
        begin_time=now,
        end_time=now + timedelta(days=1),
        convert_urls=[LANDING],
    )


def test_a_busy_jd_is_a_retryable_remote_error_and_a_refused_url_a_field_error(jd_brand, control):
    fail_convert_once(control, BUSY)
    with translation.override("en"), pytest.raises(services.WechatRemoteError) as busy:
        create(jd_brand)

    assert busy.value.retryable is True
    assert "JD Cloud is busy" in busy.value.message and "系统繁忙" in busy.value.message

    fail_convert_once(control, BAD_URL)
    with pytest.raises(services.WechatInputError) as refused:
        create(jd_brand)

    assert [(v.path, v.message) for v in refused.value.violations] == [
        ("convert_urls[0]", BAD_URL["msg"])
    ]
    assert not WechatCampaign.objects.exists()
    # Trying again once JD is itself again converts and creates.
    assert create(jd_brand).url_mappings[0]["url"] == LANDING


@pytest.fixture
def api(client, jd_brand, make_brand_user):
    client.force_login(make_brand_user(jd_brand).user)
    return client


def post_campaign(api):
    now = timezone.now()
    body = {
        "name": "会员日提醒",
        "activity_type": 3,
        "pack_type": 1,
        "templateInfo": {
            "templateId": TEMPLATE_ID,
            "data": [{"name": "first", "value": "京东云ECRM通知", "color": "#173177"}],
        },
        "send_time": now.isoformat(),
        "begin_time": now.isoformat(),
        "end_time": (now + timedelta(days=1)).isoformat(),
        "convert_urls": [LANDING],
    }
    return api.post("/api/v1/wechat-campaigns/", body, content_type="application/json")


def test_api_says_retryable_for_a_busy_jd_and_names_the_path_of_a_refused_url(api, control):
    fail_convert_once(control, BUSY)
    busy = post_campaign(api)

    assert busy.status_code == 502, busy.content
    assert busy.json()["retryable"] is True and "系统繁忙" in busy.json()["detail"]
    assert "errors" not in busy.json()

    fail_convert_once(control, BAD_URL)
    refused = post_campaign(api)

    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"] == [{"path": "convert_urls[0]", "message": BAD_URL["msg"]}]
    assert post_campaign(api).status_code == 201


def wechat_form(**extra) -> dict:
    def local(moment) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")

    now = timezone.now()
    return {
        "name": "周末上新推送",
        "activity_type": "3",
        "template_id": TEMPLATE_ID,
        f"tpl-{TEMPLATE_ID}-0-value": "您好,新品上架",
        f"tpl-{TEMPLATE_ID}-1-value": "周末上新",
        f"tpl-{TEMPLATE_ID}-2-value": "本周六",
        f"tpl-{TEMPLATE_ID}-3-value": "欢迎光临",
        "pack_type": "1",
        "begin_time": local(now + timedelta(minutes=5)),
        "send_time": local(now + timedelta(hours=1)),
        "end_time": local(now + timedelta(days=2)),
        "convert_urls": LANDING,
        **extra,
    }


def test_the_form_shows_a_busy_jd_as_a_message_and_a_refused_url_beside_the_field(api, control):
    fail_convert_once(control, BUSY)
    busy = api.post("/campaigns/wechat/new/", wechat_form())

    assert busy.status_code == 400
    assert "convert_urls" not in busy.context["form"].errors
    shown = [str(m) for m in busy.context["messages"]]
    assert len(shown) == 1 and "系统繁忙" in shown[0]

    fail_convert_once(control, BAD_URL)
    refused = api.post("/campaigns/wechat/new/", wechat_form())

    assert refused.status_code == 400
    assert refused.context["form"].errors["convert_urls"] == [BAD_URL["msg"]]
    assert not WechatCampaign.objects.exists()
