"""Activities under JD's review: submission (`/activity/create`), the review callback
(`POST /JDCloud/activity/update`), approval voided by an edit, and the REST API."""

import httpx
import pytest
from django_scopes import scope

from campaigns.models import Activity
from campaigns.services import activities as services
from portal.models import IntegrationCall
from sandbox.isv import review_activity_request
from sandbox.settings import SandboxSettings
from tests.brands.isv import post_json, signed
from tests.crowds.sandboxed import SANDBOX_MASTER_ID

pytestmark = pytest.mark.django_db

PORTAL = "https://portal.example.com"
CALLBACK = "/JDCloud/activity/update"
PERIODIC_REMARK = "周期:每1周执行一次;开始时间:2019-04-22 20:20:00;结束:执行5次结束。"


@pytest.fixture
def sandbox(sandbox_url, settings):
    settings.JDCLOUD_API_BASE_URL = f"{sandbox_url}/jdcloud"
    settings.PORTAL_BASE_URL = PORTAL
    control = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    control.post("/reset", json={"seed": 7, "clock": "manual"}).raise_for_status()
    yield control
    control.delete("/faults")
    control.close()


@pytest.fixture
def sandbox_brand(make_brand, sandbox):
    brand = make_brand(master_id=SANDBOX_MASTER_ID, name="测试品牌商")
    with scope(brand=brand):
        yield brand


def draft(brand, **overrides) -> Activity:
    fields = {
        "brand": brand,
        "name": "会员日",
        "description": "每周会员日短信",
        "start_type": "2",
        "start_type_remark": PERIODIC_REMARK,
        "reach_type": "SMS",
    }
    return services.activity_create(**{**fields, **overrides})


def submitted(brand, **overrides) -> Activity:
    activity = services.activity_submit(activity=draft(brand, **overrides))
    assert activity.review == Activity.Review.PENDING, activity.submit_error
    return activity


def review_body(activity, **overrides) -> dict:
    body = {
        "activity_id": activity.activity_id,
        "approve_status": "1",
        "audit_remark": "审核通过",
        "auditor": "jiangkun17",
        "master_id": activity.brand.master_id,
    }
    return {**body, **overrides}


def review(client, body: dict):
    response = post_json(client, CALLBACK, body)
    assert response.status_code == 200  # JD reads the envelope, never a 5xx
    return response.json()


# --- Services ------------------------------------------------------------------------


def test_create_gives_a_draft_with_a_fresh_id_and_the_content_hash(brand):
    with scope(brand=brand):
        one, two = draft(brand), draft(brand, start_type="1", start_type_remark="")

    assert one.review == two.review == Activity.Review.DRAFT
    assert len(one.activity_id) == 32 and one.activity_id != two.activity_id
    assert len(one.content_hash) == 64 and one.content_hash != two.content_hash
    assert one.submitted_hash == "" and one.submitted_at is None


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"start_type": "2", "start_type_remark": "  "}, "start_type_remark"),
        ({"start_type": "1", "start_type_remark": "每周一次"}, "start_type_remark"),
        ({"start_type": "3"}, "start_type"),
        ({"name": ""}, "activity_name"),
        ({"name": "长" * 101}, "activity_name"),
        ({"reach_type": "WECHAT"}, "activity_reach_type"),
    ],
)
def test_create_refuses_bad_content_naming_the_field(brand, fields, path):
    with scope(brand=brand), pytest.raises(services.ActivityInputError) as refused:
        draft(brand, **fields)

    assert path in [v.path for v in refused.value.violations]
    with scope(brand=brand):
        assert not Activity.objects.exists()


def test_submit_sends_the_preview_url_and_awaits_review(sandbox_brand):
    activity = draft(sandbox_brand)

    activity = services.activity_submit(activity=activity)

    assert activity.review == Activity.Review.PENDING
    assert activity.submitted_hash == activity.content_hash and activity.submitted_at
    assert activity.submit_error == ""
    call = IntegrationCall.objects.get(endpoint="/activity/create")
    assert call.ok
    assert call.request_body == {
        "master_id": SANDBOX_MASTER_ID,
        "activity_id": activity.activity_id,
        "activity_name": "会员日",
        "activity_desc": "每周会员日短信",
        "preview_url": f"{PORTAL}/campaigns/activities/{activity.pk}/preview/",
        "start_type": "2",
        "start_type_remark": PERIODIC_REMARK,
        "activity_reach_type": "SMS",
    }


def test_a_failed_submission_is_recorded_and_can_be_retried(sandbox_brand, sandbox):
    sandbox.post(
        "/faults",
        json={"path": "/activity/create", "kind": "http_error", "status": 502, "times": 1},
    ).raise_for_status()
    activity = draft(sandbox_brand)

    failed = services.activity_submit(activity=activity)

    assert failed.review == Activity.Review.SUBMIT_FAILED
    assert "502" in failed.submit_error and failed.submitted_hash == ""
    retried = services.activity_submit(activity=failed)
    assert retried.review == Activity.Review.PENDING and retried.submit_error == ""


def test_a_refusal_by_jd_keeps_jds_message(sandbox_brand, sandbox):
    sandbox.post(
        "/faults",
        json={
            "path": "/activity/create",
            "kind": "code",
            "code": "500",
            "msg": "系统繁忙",
            "times": 1,
        },
    ).raise_for_status()

    failed = services.activity_submit(activity=draft(sandbox_brand))

    assert (failed.review, failed.submit_error) == (Activity.Review.SUBMIT_FAILED, "系统繁忙")


def test_pending_or_approved_activities_are_not_submitted_again(sandbox_brand):
    activity = submitted(sandbox_brand)

    with pytest.raises(services.ActivityConflict):
        services.activity_submit(activity=activity)


def test_editing_after_approval_voids_it(sandbox_brand, client):
    activity = submitted(sandbox_brand)
    review(client, signed(review_body(activity)))
    activity.refresh_from_db()
    assert activity.review == Activity.Review.APPROVED

    unchanged = services.activity_update(activity=activity, name="会员日")
    assert unchanged.review == Activity.Review.APPROVED

    edited = services.activity_update(activity=activity, description="改成每月一次")
    assert edited.review == Activity.Review.DRAFT
    assert edited.content_hash != edited.submitted_hash
    assert services.activity_submit(activity=edited).review == Activity.Review.PENDING


# --- The review callback ---------------------------------------------------------------


def test_an_approval_is_recorded_and_answered_per_spec(sandbox_brand, client):
    activity = submitted(sandbox_brand)

    answer = review(client, signed(review_body(activity)))

    assert answer == {"code": 0, "msg": "success", "data": {"status": "1"}}
    activity.refresh_from_db()
    assert activity.review == Activity.Review.APPROVED
    assert (activity.auditor, activity.audit_remark) == ("jiangkun17", "审核通过")
    assert activity.reviewed_at is not None
    call = IntegrationCall.objects.get(endpoint=CALLBACK)
    assert call.ok and call.brand == sandbox_brand


def test_a_rejection_built_by_the_sandbox_is_recorded(sandbox_brand, client, settings):
    activity = submitted(sandbox_brand)
    request = review_activity_request(
        SandboxSettings(isv_key=settings.JDCLOUD_ISV_KEY, portal_url=""),
        activity_id=activity.activity_id,
        approve_status="2",
        audit_remark="活动描述不清楚",
        auditor="sandbox_auditor",
        master_id=SANDBOX_MASTER_ID,
    )

    answer = review(client, request.body)

    assert answer["data"] == {"status": "1"}
    activity.refresh_from_db()
    assert activity.review == Activity.Review.REJECTED
    assert activity.audit_remark == "活动描述不清楚"


def test_a_repeated_review_changes_nothing(sandbox_brand, client):
    activity = submitted(sandbox_brand)
    review(client, signed(review_body(activity)))
    first = Activity.objects.get(pk=activity.pk)

    answer = review(client, signed(review_body(activity)))

    assert answer == {"code": 0, "msg": "success", "data": {"status": "1"}}
    again = Activity.objects.get(pk=activity.pk)
    assert (again.review, again.reviewed_at, again.updated_at) == (
        first.review,
        first.reviewed_at,
        first.updated_at,
    )


def test_a_later_different_review_replaces_the_first(sandbox_brand, client):
    activity = submitted(sandbox_brand)
    review(client, signed(review_body(activity)))

    review(client, signed(review_body(activity, approve_status="2", audit_remark="复核驳回")))

    activity.refresh_from_db()
    assert (activity.review, activity.audit_remark) == (Activity.Review.REJECTED, "复核驳回")


def test_a_tampered_token_is_refused(sandbox_brand, client):
    activity = submitted(sandbox_brand)
    body = {**signed(review_body(activity, approve_status="2")), "approve_status": "1"}

    answer = review(client, body)

    assert answer["code"] == "401"
    activity.refresh_from_db()
    assert activity.review == Activity.Review.PENDING


@pytest.mark.parametrize("field", ["activity_id", "approve_status", "auditor", "master_id"])
def test_a_missing_field_is_named_in_the_answer(sandbox_brand, client, field):
    activity = submitted(sandbox_brand)
    body = review_body(activity)
    del body[field]

    answer = review(client, signed(body))

    assert answer["code"] == "400" and answer["data"] == {"status": "0"}
    assert answer["msg"].startswith(f"{field}: ")
    activity.refresh_from_db()
    assert activity.review == Activity.Review.PENDING


def test_an_unknown_approve_status_is_refused(sandbox_brand, client):
    activity = submitted(sandbox_brand)

    answer = review(client, signed(review_body(activity, approve_status="3")))

    assert (answer["code"], answer["data"]) == ("400", {"status": "0"})
    assert answer["msg"].startswith("approve_status: ")


def test_the_audit_remark_is_optional_and_numbers_are_accepted(sandbox_brand, client):
    activity = submitted(sandbox_brand)
    body = review_body(activity, approve_status=1)
    del body["audit_remark"]

    assert review(client, signed(body))["data"] == {"status": "1"}
    activity.refresh_from_db()
    assert (activity.review, activity.audit_remark) == (Activity.Review.APPROVED, "")


def test_an_unknown_activity_or_brand_is_404(sandbox_brand, other_brand, client):
    activity = submitted(sandbox_brand)
    with scope(brand=other_brand):
        others = draft(other_brand)

    unknown = review(client, signed(review_body(activity, activity_id="nope")))
    not_ours = review(client, signed(review_body(activity, activity_id=others.activity_id)))
    no_brand = review(client, signed(review_body(activity, master_id="no-such-brand")))

    assert unknown["code"] == not_ours["code"] == no_brand["code"] == "404"
    assert unknown["msg"].startswith("activity_id: ") and no_brand["msg"].startswith("master_id: ")
    assert unknown["data"] == {"status": "0"}


def test_a_review_arriving_after_an_edit_does_not_apply(sandbox_brand, client):
    activity = submitted(sandbox_brand)
    services.activity_update(activity=activity, name="会员日(新版)")

    answer = review(client, signed(review_body(activity)))

    assert answer["code"] == 0 and answer["data"] == {"status": "1"}
    assert "未生效" in answer["msg"] and "重新提交" in answer["msg"]
    activity.refresh_from_db()
    assert activity.review == Activity.Review.DRAFT
    assert activity.auditor == "" and activity.reviewed_at is None


def test_a_review_of_a_never_submitted_activity_does_not_apply(sandbox_brand, client):
    activity = draft(sandbox_brand)

    answer = review(client, signed(review_body(activity)))

    assert "未生效" in answer["msg"]
    activity.refresh_from_db()
    assert activity.review == Activity.Review.DRAFT


# --- REST API --------------------------------------------------------------------------


@pytest.fixture
def api(client, sandbox_brand, make_brand_user):
    client.force_login(make_brand_user(sandbox_brand).user)
    return client


CREATE = {
    "activity_name": "会员日",
    "activity_desc": "每周会员日短信",
    "start_type": "2",
    "start_type_remark": PERIODIC_REMARK,
    "activity_reach_type": "SMS",
}


def test_api_creates_submits_and_shows_the_review(api, client):
    created = api.post("/api/v1/activities/", CREATE, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["review"] == "draft" and body["approve_status"] is None
    assert body["preview_url"] == f"{PORTAL}/campaigns/activities/{body['id']}/preview/"

    submitted = api.post(f"/api/v1/activities/{body['id']}/submit/")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["review"] == "pending" and submitted.json()["submitted_at"]
    again = api.post(f"/api/v1/activities/{body['id']}/submit/")
    assert again.status_code == 409

    activity = Activity.objects.get(pk=body["id"])
    review(client, signed(review_body(activity, approve_status="2", audit_remark="请补充描述")))
    shown = api.get(f"/api/v1/activities/{body['id']}/").json()
    assert (shown["review"], shown["approve_status"], shown["audit_remark"], shown["auditor"]) == (
        "rejected",
        "2",
        "请补充描述",
        "jiangkun17",
    )
    assert shown["reviewed_at"] and shown["edited_since_submission"] is False

    edited = api.patch(
        f"/api/v1/activities/{body['id']}/",
        {"activity_desc": "补充后的描述"},
        content_type="application/json",
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["review"] == "draft" and edited.json()["edited_since_submission"]
    assert api.get("/api/v1/activities/", {"review": "draft"}).json()["count"] == 1


def test_api_errors_name_their_path(api):
    periodic = api.post(
        "/api/v1/activities/",
        {**CREATE, "start_type_remark": ""},
        content_type="application/json",
    )
    missing = api.post("/api/v1/activities/", {"start_type": "1"}, content_type="application/json")

    assert periodic.status_code == 400
    assert [e["path"] for e in periodic.json()["errors"]] == ["start_type_remark"]
    assert {e["path"] for e in missing.json()["errors"]} == {"activity_name", "activity_reach_type"}


def test_api_submit_failure_is_a_502_with_jds_message(api, sandbox):
    sandbox.post(
        "/faults",
        json={
            "path": "/activity/create",
            "kind": "code",
            "code": "500",
            "msg": "系统繁忙",
            "times": 1,
        },
    ).raise_for_status()
    activity_id = api.post("/api/v1/activities/", CREATE, content_type="application/json").json()[
        "id"
    ]

    failed = api.post(f"/api/v1/activities/{activity_id}/submit/")

    assert failed.status_code == 502
    assert failed.json()["detail"] == "系统繁忙" and failed.json()["retryable"] is True
    assert failed.json()["activity"]["review"] == "submit_failed"
    assert api.post(f"/api/v1/activities/{activity_id}/submit/").status_code == 200


def test_api_hides_another_brands_activities(api, other_brand):
    with scope(brand=other_brand):
        others = draft(other_brand)

    assert api.get(f"/api/v1/activities/{others.pk}/").status_code == 404
    assert api.post(f"/api/v1/activities/{others.pk}/submit/").status_code == 404
    patched = api.patch(
        f"/api/v1/activities/{others.pk}/", {"activity_name": "x"}, content_type="application/json"
    )
    assert patched.status_code == 404
    assert api.get("/api/v1/activities/").json()["count"] == 0
