"""The sandbox acting as JD Cloud towards the portal's ISV endpoints."""

import hashlib
import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox import isv
from sandbox.settings import SandboxSettings
from tests.sandbox.conftest import DEMO

VECTORS = Path("/work/shared/vectors/isv_callback_token.json")
ISV_KEY = os.environ.get("JDCLOUD_ISV_KEY", "SandboxIsvKey0123456789abcdefABC")
SETTINGS = SandboxSettings(isv_key=ISV_KEY, portal_url="http://portal.test")


def test_the_token_reproduces_the_spec_example():
    example = json.loads(VECTORS.read_text())["spec_example"]

    assert isv.token_string(example["params"], example["key"]) == example["string"]
    assert isv.isv_token(example["params"], example["key"]) == example["token"]


def test_token_rendering_of_json_values():
    params = {
        "b": 1577807999,
        "a": "测试 品牌",
        "c": None,
        "d": "",
        "e": True,
        "f": {"x": [1, "二"]},
        "token": "ignored",
    }

    string = isv.token_string(params, "k")

    assert string == 'a=测试 品牌&b=1577807999&e=true&f={"x":[1,"二"]}&key=k'
    assert isv.isv_token(params, "k") == hashlib.md5(string.encode()).hexdigest()  # noqa: S324


def recording_transport(answer: dict | None = None):
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json=answer or {"code": 0, "msg": "success", "data": {"status": "1"}}
        )

    return httpx.MockTransport(handle), seen


def check_token(body: dict) -> None:
    assert body["token"] == isv.isv_token({k: v for k, v in body.items() if k != "token"}, ISV_KEY)


def test_push_brand_posts_the_spec_fields_with_a_token():
    transport, seen = recording_transport()
    request = isv.push_brand_request(
        SETTINGS,
        master_id=DEMO,
        master_name="测试品牌商",
        master_desc="测试品牌商",
        shop_id="10000087",
        expire_time=1577807999,
        status=1,
    )

    response = isv.send(request, httpx.Client(transport=transport))

    assert response.json()["data"] == {"status": "1"}
    (sent,) = seen
    assert (sent.method, str(sent.url)) == ("POST", "http://portal.test/JDCloud/master/sync")
    assert sent.headers["content-type"] == "application/json; charset=UTF-8"
    body = json.loads(sent.content)
    assert body == {
        "master_id": DEMO,
        "master_name": "测试品牌商",
        "master_desc": "测试品牌商",
        "shop_id": "10000087",
        "shop_type": "1",
        "user_type": "1",
        "expire_time": 1577807999,
        "status": 1,
        "token": body["token"],
    }
    check_token(body)


def test_edit_and_review_requests():
    edit = isv.edit_brand_request(SETTINGS, master_id=DEMO, expire_time=1577807999, status=0)
    review = isv.review_activity_request(
        SETTINGS,
        activity_id="11111",
        approve_status="2",
        audit_remark="驳回",
        auditor="jiangkun17",
        master_id=DEMO,
    )

    assert edit.url == "http://portal.test/JDCloud/master/edit"
    assert set(edit.body) == {"master_id", "expire_time", "status", "token"}
    assert review.url == "http://portal.test/JDCloud/activity/update"
    assert review.body["approve_status"] == "2"
    check_token(edit.body)
    check_token(review.body)
    with pytest.raises(ValueError, match="approve_status"):
        isv.review_activity_request(
            SETTINGS,
            activity_id="1",
            approve_status="3",
            audit_remark="",
            auditor="a",
            master_id=DEMO,
        )


def test_preview_link_carries_a_token_over_the_plain_values():
    link = isv.preview_link(SETTINGS, master_id=DEMO, preview_url="http://portal.test/a?b=1&c=测")

    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://portal.test/JDCloud/master/verify"
    )
    assert query["preview_url"] == "http://portal.test/a?b=1&c=测"
    assert query["token"] == isv.isv_token(
        {"master_id": DEMO, "preview_url": "http://portal.test/a?b=1&c=测"}, ISV_KEY
    )


def test_the_cli_prints_request_and_answer(monkeypatch):
    monkeypatch.setenv("PORTAL_URL", "http://portal.test")
    transport, seen = recording_transport()
    printed: list[str] = []

    code = isv.main(
        ["review-activity", "--activity-id", "11111", "--approve-status", "1"],
        client=httpx.Client(transport=transport),
        out=printed.append,
    )

    assert code == 0
    assert str(seen[0].url) == "http://portal.test/JDCloud/activity/update"
    assert json.loads(seen[0].content)["master_id"] == DEMO
    assert printed[0].startswith("--> POST http://portal.test/JDCloud/activity/update")
    assert printed[1].startswith("<-- HTTP 200")


def test_the_cli_preview_link_and_a_failing_portal(monkeypatch):
    monkeypatch.setenv("PORTAL_URL", "http://portal.test")
    printed: list[str] = []
    failing = httpx.MockTransport(lambda request: httpx.Response(500, text="boom"))

    assert isv.main(["preview-link"], out=printed.append) == 0
    assert printed[0].startswith("http://portal.test/JDCloud/master/verify?master_id=")
    assert isv.main(["push-brand"], client=httpx.Client(transport=failing), out=printed.append) == 1


def test_the_home_page_lists_brands_instances_and_pending_activities(client, jd, make_package):
    make_package(name="<script>人群</script>")
    jd.post(
        "/activity/create",
        {
            "master_id": DEMO,
            "activity_id": "A-1",
            "activity_name": "<b>活动",
            "start_type": "1",
            "activity_reach_type": "SMS",
        },
    )

    page = client.get("/")

    assert page.status_code == 200
    assert "测试品牌商" in page.text and "别家品牌" in page.text
    assert "&lt;script&gt;人群&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert "&lt;b&gt;活动" in page.text
    assert "/isv/review-activity" in page.text and "/health" in page.text
    assert "/_control/state" in page.text


def test_home_page_buttons_call_the_portal(app, client, jd):
    transport, seen = recording_transport()
    app.state.isv_transport = transport
    jd.post(
        "/activity/create",
        {
            "master_id": DEMO,
            "activity_id": "A-1",
            "activity_name": "活动",
            "start_type": "1",
            "activity_reach_type": "SMS",
        },
    )

    pushed = client.post("/isv/push-brand", data={"master_id": DEMO})
    frozen = client.post("/isv/edit-brand", data={"master_id": DEMO, "status": "0"})
    reviewed = client.post(
        "/isv/review-activity",
        data={
            "master_id": DEMO,
            "activity_id": "A-1",
            "approve_status": "2",
            "audit_remark": "素材不合规",
        },
    )
    preview = client.get(
        "/isv/preview-link",
        params={"master_id": DEMO, "preview_url": "http://x/y"},
        follow_redirects=False,
    )

    assert [r.status_code for r in (pushed, frozen, reviewed)] == [200, 200, 200]
    assert [urlsplit(str(r.url)).path for r in seen] == [
        "/JDCloud/master/sync",
        "/JDCloud/master/edit",
        "/JDCloud/activity/update",
    ]
    for request in seen:
        check_token(json.loads(request.content))
    assert json.loads(seen[1].content)["status"] == 0
    assert json.loads(seen[2].content)["audit_remark"] == "素材不合规"
    assert "门户已接受" in reviewed.text
    assert preview.status_code == 302
    assert "/JDCloud/master/verify?master_id=" in preview.headers["location"]
    home = client.get("/").text
    assert "已驳回(素材不合规)" in home and "解冻" in home
