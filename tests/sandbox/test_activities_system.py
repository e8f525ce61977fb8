"""Activities awaiting review, notices and system status."""

import pytest

from tests.sandbox.conftest import DEMO
from tests.sandbox.jd_client import expect_error


def activity(**overrides) -> dict:
    """The spec's example, with its typos ("start_type_remark ", "activity_reach_type ")."""
    body = {
        "master_id": DEMO,
        "activity_id": "11111",
        "activity_name": "测试活动名称",
        "activity_desc": "测试活动描述",
        "preview_url": "http://localhost:8080/preview_url",
        "start_type": 2,
        "start_type_remark ": "周期:每1周执行一次;开始时间:2019-04-22 20:20:00;结束:执行5次结束。",
        "activity_reach_type ": "SMS",
    }
    return {**body, **overrides}


def test_an_activity_is_stored_pending_review(jd, client):
    envelope = jd.post("/activity/create", activity())

    assert envelope == {"code": 0, "msg": "success", "data": {"status": "0"}}
    summary = client.get("/_control/state").json()
    assert summary["activities_pending_review"] == 1


def test_a_periodic_activity_needs_its_remark(jd):
    body = activity(start_type="2")
    del body["start_type_remark "]

    expect_error(jd.post("/activity/create", body), "400", "start_type_remark", "周期性")
    assert jd.ok_post("/activity/create", {**body, "start_type": "1"}) == {"status": "0"}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"start_type": "3"}, "start_type"),
        ({"activity_reach_type ": "EMAIL"}, "activity_reach_type"),
        ({"activity_name": ""}, "activity_name"),
        ({"activity_id": None}, "activity_id"),
        ({"master_id": "nobody"}, "master_id"),
    ],
)
def test_activity_fields_are_validated(jd, change, fragment):
    envelope = jd.post("/activity/create", activity(**change))

    assert envelope["code"] in ("400", "404")
    assert fragment in envelope["msg"]


def test_notices_include_an_expired_and_an_upcoming_upgrade(jd, client):
    notices = jd.ok_get("/notice/list")

    expired, upcoming = notices
    assert expired["notice_type"] == upcoming["notice_type"] == "SYS_UPGRADE"
    assert expired["notice_status"] == "0" and upcoming["notice_status"] == "1"
    assert upcoming["start_time"] == "2026-01-08 00:00:00"
    assert upcoming["end_time"] == "2026-01-08 02:00:00" and upcoming["expire_time"] == ""
    assert set(expired) == {
        "notice_code",
        "title",
        "content",
        "notice_type",
        "notice_status",
        "start_time",
        "end_time",
        "expire_time",
    }

    client.post(
        "/_control/notices", json={"title": "维护", "notice_type": "OTHER", "content": "今晚维护"}
    )
    assert [n["title"] for n in jd.ok_get("/notice/list")][-1] == "维护"


def test_system_status_up_and_down(jd, client):
    up = jd.get("/system/status", system_code="ECRM_API")
    client.post("/_control/system", json={"status": "down"})
    down = jd.request("GET", "/system/status", params={"system_code": "ECRM_API"})
    other = jd.post("/crowd/list", {"master_id": DEMO})
    shorturl = jd.post("/shorturl/create", {"url": "https://www.jd.com/?utm_source=a"})
    client.post("/_control/system", json={"status": "up"})

    assert up == {"code": 0, "msg": "success", "data": {"system_code": "ECRM_API", "status": "1"}}
    assert down.status_code == 503
    assert other == {"code": "503", "msg": "系统升级中,请稍后再试", "data": None}
    assert shorturl["result"] == "503"
    assert jd.ok_get("/system/status", system_code="ECRM_API")["status"] == "1"
    expect_error(jd.get("/system/status", system_code="OTHER"), "400", "system_code")
