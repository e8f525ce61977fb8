"""WeChat activities (spec "微信活动")."""

import pytest

from tests.sandbox.conftest import DEMO, OTHER
from tests.sandbox.jd_client import expect_error

TEMPLATE_ID = "iHxQJL1oep3kb2EVX94-T4zQeVVihfdNGXapx4tS0oU"


def template_activity(**overrides) -> dict:
    """The spec's example (typos included: pack_ame), for the demo brand."""
    body = {
        "master_id": DEMO,
        "business_id": "3243d1ff24c6471783f91081b2ee249b",
        "send_time": "2026-1-5 10:00:00",
        "create_time": "2026-1-5 10:00:00",
        "begin_time": "2026-1-5 10:00:00",
        "end_time": "2026-1-6 10:00:00",
        "pack_type": 5,
        "pack_desc": "ECRM测试包描述",
        "pack_ame": "ECRM测试包名称",
        "activity_type": 3,
        "mediaInfo": {
            "mediaId": "vo5a1f0PLcgSZoTDJ0dkWK6SLVy6f8FLN6406bBuRtQ",
            "mediaTitle": "京东云ECRM上线了",
        },
        "templateInfo": {
            "templateId": TEMPLATE_ID,
            "data": [
                {"name": "first", "value": "京东云ECRM通知", "color": "#173177"},
                {"name": "keyword1", "value": "京东云促销", "color": "#173177"},
            ],
            "url": "http://www.jd.com",
            "miniAppId": None,
            "miniPathPage": None,
        },
    }
    return {**body, **overrides}


def info(jd, activity_id: int) -> dict:
    return jd.ok_get("/activity/wx/activityInfo", master_id=DEMO, activity_id=str(activity_id))


def test_account_info_and_templates(jd):
    account = jd.ok_get("/activity/wx/weChatInfo", master_id=DEMO)
    templates = jd.ok_get("/activity/wx/getAllTemplate", master_id=DEMO)

    assert set(account) == {
        "appId",
        "appName",
        "pinFollowerNum",
        "notPinFollowerNum",
        "allFollowerNum",
    }
    assert account["allFollowerNum"] == account["pinFollowerNum"] + account["notPinFollowerNum"]
    ids = [t["templateId"] for t in templates]
    assert ids[:2] == ["6WZmKqoFhS8894SYGQltQzOhNKehdMd6O5R5BRSwi1g", TEMPLATE_ID]
    assert len(ids) >= 4
    assert set(templates[1]) == {
        "templateId",
        "title",
        "primaryIndustry",
        "deputyIndustry",
        "content",
        "example",
    }
    expect_error(jd.get("/activity/wx/weChatInfo", master_id="nobody"), "404")


def test_news_pages_with_offset_and_count(jd):
    first = jd.ok_get("/activity/wx/batchGetNews", master_id=DEMO)
    tail = jd.ok_get("/activity/wx/batchGetNews", master_id=DEMO, offset="20", count="5")

    assert (first["totalCount"], first["itemCount"], len(first["items"])) == (23, 20, 20)
    assert (tail["itemCount"], len(tail["items"])) == (3, 3)
    item = first["items"][0]
    assert set(item) == {"mediaId", "updateTime", "content"}
    assert set(item["content"]) == {"createdTime", "updatedTime", "articles"}
    article = item["content"]["articles"][0]
    assert set(article) == {
        "thumbMediaId",
        "thumbUrl",
        "author",
        "title",
        "contentSourceUrl",
        "content",
        "digest",
        "showCoverPic",
        "url",
        "needOpenComment",
        "onlyFansCanComment",
    }
    expect_error(jd.get("/activity/wx/batchGetNews", master_id=DEMO, count="21"), "400", "count")
    expect_error(jd.get("/activity/wx/batchGetNews", master_id=DEMO, count="0"), "400", "count")


def test_create_answers_the_activity_id_in_the_spec_envelope(jd):
    envelope = jd.post("/activity/wx/create", template_activity())

    assert set(envelope) == {"code", "data", "success"}
    assert envelope["code"] == 0 and envelope["success"] is True
    assert isinstance(envelope["data"], int)
    details = info(jd, envelope["data"])
    assert details["pack_name"] == "ECRM测试包名称"
    assert details["templateInfo"]["templateId"] == TEMPLATE_ID
    assert details["mediaInfo"] is None


def test_status_moves_over_sandbox_time(jd, client, advance):
    client.post("/_control/config", json={"wechat_failure_rate": 0})
    activity_id = jd.post(
        "/activity/wx/create", template_activity(send_time="2026-01-05 10:05:00")
    )["data"]
    seen = []
    for _ in range(12):
        details = info(jd, activity_id)
        seen.append((details["activity_status"], details["pre_num"], details["act_num"]))
        advance(30)

    statuses = [status for status, _, _ in seen]
    assert statuses == [0] + [2] * 9 + [4, 5]  # waits in 2 (待投放) until send_time
    advance(30)
    final = info(jd, activity_id)
    assert final["activity_status"] == 1
    assert seen[0][1] == 0 and seen[1][1] == 163  # pack_type 5: fans not matched to a JD pin
    assert 0 < final["act_num"] <= final["pre_num"] == 163


def test_a_small_seeded_share_of_activities_fails(jd, client, advance):
    client.post("/_control/config", json={"wechat_failure_rate": 1})
    activity_id = jd.post("/activity/wx/create", template_activity())["data"]

    advance(200)

    assert info(jd, activity_id)["activity_status"] == 6
    assert info(jd, activity_id)["act_num"] == 0


def test_reject_before_launch_only(jd, advance):
    early = jd.post("/activity/wx/create", template_activity())["data"]
    late = jd.post("/activity/wx/create", template_activity())["data"]
    body = {"master_id": DEMO, "remark": "测试"}

    cancelled = jd.post("/activity/wx/reject", {**body, "activity_id": early})
    advance(90)
    sending = jd.post("/activity/wx/reject", {**body, "activity_id": late})

    assert cancelled == {"code": 0, "msg": "success", "data": True}
    assert info(jd, early)["activity_status"] == 3 and info(jd, early)["remark"] == "测试"
    expect_error(sending, "409", "触达中")
    expect_error(jd.post("/activity/wx/reject", {**body, "activity_id": early}), "409", "已取消")
    expect_error(
        jd.post("/activity/wx/reject", {**body, "activity_id": late, "remark": "长" * 51}),
        "400",
        "50",
    )
    expect_error(
        jd.post("/activity/wx/reject", {**body, "activity_id": early, "master_id": OTHER}), "404"
    )


@pytest.mark.parametrize(
    ("overrides", "code", "fragment"),
    [
        ({"templateInfo": None}, "400", "templateInfo"),
        (
            {"templateInfo": {"templateId": "nope", "data": [{"name": "a", "value": "b"}]}},
            "404",
            "templateId",
        ),
        ({"templateInfo": {"templateId": TEMPLATE_ID, "data": []}}, "400", "data"),
        ({"activity_type": 4, "mediaInfo": None}, "400", "mediaInfo"),
        (
            {"activity_type": 4, "mediaInfo": {"mediaId": "nope", "mediaTitle": "x"}},
            "404",
            "mediaId",
        ),
        ({"activity_type": 5}, "400", "activity_type"),
        ({"pack_type": 2}, "400", "package_id"),
        ({"pack_type": 3}, "400", "pack_path"),
        ({"pack_type": 6}, "400", "pack_type"),
        ({"end_time": "2026-1-4 10:00:00"}, "400", "end_time"),
        ({"send_time": "tomorrow"}, "400", "send_time"),
        ({"business_id": None}, "400", "business_id"),
    ],
)
def test_create_validates(jd, overrides, code, fragment):
    envelope = jd.post("/activity/wx/create", template_activity(**overrides))

    assert envelope["success"] is False
    expect_error(envelope, code, fragment)


def test_news_and_custom_package_activities(jd, make_package, size_of):
    package_id = make_package()
    media_id = jd.ok_get("/activity/wx/batchGetNews", master_id=DEMO, count="1")["items"][0][
        "mediaId"
    ]

    activity_id = jd.post(
        "/activity/wx/create",
        template_activity(
            activity_type=4,
            templateInfo=None,
            mediaInfo={"mediaId": media_id, "mediaTitle": "图文"},
            pack_type=2,
            package_id=package_id,
        ),
    )["data"]

    details = info(jd, activity_id)
    assert details["mediaInfo"] == {"mediaId": media_id, "mediaTitle": "图文"}
    assert details["templateInfo"] is None
    assert details["activity_type"] == 4 and details["pack_type"] == 2
    assert jd.ok_get("/activity/wx/activityInfo", master_id=DEMO, activity_id=str(activity_id))
    assert set(details) >= {
        "activity_id",
        "activity_content",
        "business_id",
        "pack_path",
        "pack_desc",
        "pre_num",
        "act_num",
        "begin_time",
        "end_time",
        "send_time",
        "activity_status",
        "remark",
        "created",
    }
    assert details["pre_num"] == 0  # still mapping (status 0)


def test_convert_url_only_for_jd_domains(jd):
    converted = jd.get("/activity/wx/convertUrl", master_id=DEMO, url="http://www.jd.com")

    assert converted["code"] == 0
    assert converted["data"].startswith("sq.jd.com/") and len(converted["data"]) == 17
    assert jd.ok_get("/activity/wx/convertUrl", master_id=DEMO, url="https://item.jd.com/1.html")
    for url in ("http://www.taobao.com", "http://jd.com.evil.cn/x", "ftp://www.jd.com"):
        expect_error(jd.get("/activity/wx/convertUrl", master_id=DEMO, url=url), "400", "京东域")
