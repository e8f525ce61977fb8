"""Write-back of campaign outcomes to Linkflow: a WeChat campaign sent to an openId package
writes one event per openId when it becomes final, exactly once even when the task runs
twice, fails mid-way or dies; the contacts Linkflow refused are kept and sent again by a retry;
JD reaches and other audiences are recorded as skipped."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
import respx
import time_machine
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from brands.linkflow import linkflow_for
from campaigns import writeback, writeback_tasks
from campaigns.models import WechatCampaign, WritebackJob, WritebackRefusal
from campaigns.services import reach as reach_services
from campaigns.services import wechat as wechat_services
from crowds import openid
from crowds.linkflow_models import OpenIdPackage
from portal.integrations.linkflow.client import LinkflowClient
from tests.conftest import SANDBOX_LINKFLOW_KEY, SANDBOX_LINKFLOW_SECRET
from tests.crowds.sandboxed import SANDBOX_MASTER_ID

pytestmark = pytest.mark.django_db

CHANNEL_ID = "wx5a39a02868a39999"  # the sandbox workspace's official account
TEMPLATE_ID = "iHxQJL1oep3kb2EVX94-T4zQeVVihfdNGXapx4tS0oU"
STEP = 30  # sandbox seconds per WeChat status step
Status = WritebackJob.Status


@pytest.fixture(autouse=True)
def package_root(settings, tmp_path):
    settings.OPENID_PACKAGE_ROOT = tmp_path / "openid"
    settings.PORTAL_BASE_URL = "https://portal.example.test"


@pytest.fixture
def lf_brand(make_brand, control):
    control.post("/config", json={"wechat_step_seconds": STEP, "wechat_failure_rate": 0})
    control.delete("/linkflow/messages")
    brand = make_brand(
        master_id=SANDBOX_MASTER_ID,
        name="测试品牌商",
        linkflow_app_key=SANDBOX_LINKFLOW_KEY,
        linkflow_app_secret=SANDBOX_LINKFLOW_SECRET,
        linkflow_channel_key="udc_portal",
        wechat_app_id=CHANNEL_ID,
    )
    with scope(brand=brand):
        yield brand


@pytest.fixture
def ready_package(lf_brand) -> OpenIdPackage:
    (group,) = linkflow_for(lf_brand).groups(name="618潜在客户")
    package = openid.openid_package_create(brand=lf_brand, group_id=group["id"])
    package = openid.openid_package_build(package_id=package.pk, budget_seconds=600).package
    assert package.is_ready and package.count > 5
    return package


def open_ids(package: OpenIdPackage) -> list[str]:
    return [open_id for open_id, _end in openid.openid_lines(package)]


def wechat_campaign(brand, **overrides) -> WechatCampaign:
    now = timezone.now()
    fields = {
        "brand": brand,
        "name": "会员日提醒",
        "activity_type": 3,
        "pack_type": 3,
        "template_id": TEMPLATE_ID,
        "template_data": [{"name": "first", "value": "京东云ECRM通知"}],
        "send_time": now,
        "begin_time": now,
        "end_time": now + timedelta(days=1),
    }
    return wechat_services.wechat_campaign_create(**{**fields, **overrides})


def launch(control, campaign: WechatCampaign) -> WechatCampaign:
    """Sandbox time until JD reports the campaign launched, then the poll that sees it."""
    control.post("/clock/advance", json={"seconds": 4 * STEP + 1}).raise_for_status()
    campaign = wechat_services.wechat_campaign_poll(campaign_id=campaign.pk)
    assert campaign.status == WechatCampaign.Status.LAUNCHED
    return campaign


def messages(control) -> list[dict]:
    found = control.get(
        "/linkflow/messages", params={"app_key": SANDBOX_LINKFLOW_KEY, "domain": "event"}
    )
    found.raise_for_status()
    return found.json()["messages"]


def job_of(campaign: WechatCampaign) -> WritebackJob:
    return WritebackJob.objects.get(source_kind="wechat", source_id=campaign.pk)


@pytest.fixture
def launched(lf_brand, ready_package, control, django_capture_on_commit_callbacks):
    campaign = wechat_campaign(lf_brand, openid_package=ready_package)
    with django_capture_on_commit_callbacks() as enqueued:
        campaign = launch(control, campaign)
    assert len(enqueued) == 1  # the write-back task, once the poll's transaction commits
    return campaign


# --- WeChat campaigns sent to an openId package ------------------------------------------------


def test_a_launched_campaign_writes_one_event_per_openid(launched, ready_package, control):
    job = job_of(launched)
    assert (job.status, job.total, job.sent) == (Status.PENDING, ready_package.count, 0)

    status = writeback_tasks.run_writeback(job_id=job.pk, brand_id=job.brand_id)

    job.refresh_from_db()
    written = messages(control)
    assert status == Status.DONE == job.status
    assert job.sent == ready_package.count == len(written)
    assert [m["identities"] for m in written] == [
        [{"type": "wechat.openId", "id": open_id}] for open_id in open_ids(ready_package)
    ]
    assert not any(m["duplicate"] for m in written)
    first = written[0]
    assert (first["channelKey"], first["channelType"], first["action"]) == (
        "udc_portal",
        "UDC",
        "track",
    )
    assert first["data"]["event"] == "jd_wechat_campaign"
    assert first["data"]["props"] == {
        "campaign": "会员日提醒",
        "jd_activity_id": launched.jd_activity_id,
        "business_id": launched.business_id,
        "status": 1,
        "status_name": "LAUNCHED",
        "pre_num": launched.pre_num,
        "act_num": launched.act_num,
        "openid_package": ready_package.pk,
        "linkflow_group_id": ready_package.group_id,
    }
    assert first["data"]["eventDate"] == int(launched.updated_at.timestamp() * 1000)
    # The events land on the contacts the openIds came from, not on new ones.
    members = {
        m["contact"]["id"]
        for m in linkflow_for(job.brand).iter_group_members(group_id=ready_package.group_id)
    }
    assert {m["contactId"] for m in written} <= members


def test_running_the_task_twice_writes_nothing_more(launched, control):
    job = job_of(launched)
    writeback_tasks.run_writeback(job_id=job.pk, brand_id=job.brand_id)
    before = len(messages(control))

    again = writeback_tasks.run_writeback(job_id=job.pk, brand_id=job.brand_id)
    writeback.writeback_for_wechat(campaign=launched)  # a second trigger finds the job

    assert again == Status.DONE
    assert len(messages(control)) == before
    assert WritebackJob.objects.count() == 1


def test_an_outage_mid_way_resumes_after_the_last_event_written(launched, ready_package, control):
    job = job_of(launched)
    for _slice in range(3):
        assert writeback.writeback_run(job_id=job.pk, budget_seconds=0).more
    control.post(
        "/faults", json={"path": "linkflow:/open/messages", "kind": "http_error", "times": 2}
    ).raise_for_status()

    # The task retries (eagerly here) until Linkflow answers again.
    result = writeback_tasks.run_writeback.apply(
        kwargs={"job_id": job.pk, "brand_id": job.brand_id}
    )

    job.refresh_from_db()
    written = messages(control)
    assert result.result == Status.DONE == job.status
    assert job.runs == 6  # three slices, two runs that met the outage, one to the end
    assert len(written) == job.sent == ready_package.count
    assert not any(m["duplicate"] for m in written)
    assert [m["identities"][0]["id"] for m in written] == open_ids(ready_package)


def test_a_run_that_dies_after_sending_resends_only_that_event_under_the_same_ids(
    launched, ready_package, control, monkeypatch
):
    job = job_of(launched)
    send = LinkflowClient.messages
    calls = []

    def dies_after_the_fifth(self, **kwargs):
        send(self, **kwargs)
        calls.append(kwargs)
        if len(calls) == 5:
            raise SystemExit("worker killed before it saved its progress")

    monkeypatch.setattr(LinkflowClient, "messages", dies_after_the_fifth)
    with pytest.raises(SystemExit):
        writeback.writeback_run(job_id=job.pk)
    monkeypatch.setattr(LinkflowClient, "messages", send)
    job.refresh_from_db()
    assert (job.status, job.sent) == (Status.RUNNING, 4)

    writeback.writeback_run(job_id=job.pk)

    job.refresh_from_db()
    written = messages(control)
    assert job.status == Status.DONE and job.sent == ready_package.count
    assert len(written) == ready_package.count + 1
    repeated = [m for m in written if m["duplicate"]]
    assert len(repeated) == 1  # Linkflow sees the same request and message ids again
    fifth = open_ids(ready_package)[4]
    assert repeated[0]["identities"][0]["id"] == fifth
    assert (repeated[0]["message_id"], repeated[0]["request_id"]) == writeback.message_ids(
        job, fifth
    )
    assert len({m["message_id"] for m in written}) == ready_package.count


def test_a_run_that_finds_the_lease_taken_does_nothing(launched, monkeypatch):
    job = job_of(launched)
    WritebackJob.objects.filter(pk=job.pk).update(
        lease_id="another-run", lease_until=timezone.now() + timedelta(minutes=5)
    )

    outcome = writeback.writeback_run(job_id=job.pk)

    assert not outcome.more and outcome.job.sent == 0
    assert writeback.writebacks_stalled() == []
    resumed = []
    monkeypatch.setattr(writeback_tasks.run_writeback, "delay", lambda **kw: resumed.append(kw))
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert writeback.writebacks_stalled() == [(job.pk, job.brand_id)]
        assert writeback_tasks.resume_stalled_writebacks() == 1
    assert resumed == [{"job_id": job.pk, "brand_id": job.brand_id}]


def test_a_cancelled_campaign_is_written_back_too(lf_brand, ready_package, control):
    campaign = wechat_campaign(
        lf_brand, openid_package=ready_package, send_time=timezone.now() + timedelta(hours=2)
    )

    campaign = wechat_services.wechat_campaign_cancel(campaign=campaign, remark="改期")

    job = job_of(campaign)
    assert job.status == Status.PENDING
    assert job.props["status_name"] == "LAUNCH_REJECTED" and job.props["remark"] == "改期"


# --- Contacts Linkflow refused ----------------------------------------------------------------


def refuse_next(control, times: int) -> None:
    control.post(
        "/faults",
        json={
            "path": "linkflow:/open/messages",
            "kind": "code",
            "status": 400,
            "code": "B00010",
            "msg": "联系人不存在",
            "times": times,
        },
    ).raise_for_status()


def test_refused_contacts_are_kept_and_a_retry_sends_only_them(launched, ready_package, control):
    job = job_of(launched)
    refuse_next(control, 2)
    writeback_tasks.run_writeback(job_id=job.pk, brand_id=job.brand_id)
    job.refresh_from_db()
    first, second = open_ids(ready_package)[:2]
    assert (job.status, job.sent, job.rejected) == (Status.DONE, ready_package.count - 2, 2)
    assert "[B00010] 联系人不存在 ×2" in job.reason == writeback.refusals_reason(job)
    refused = WritebackRefusal.objects.filter(job=job)
    assert list(refused.values_list("open_id", "code", "message")) == [
        (first, "B00010", "联系人不存在"),
        (second, "B00010", "联系人不存在"),
    ]
    assert writeback.writeback_can_retry(job)
    written = len(messages(control))

    refuse_next(control, 1)  # the first is refused again, the second goes through
    writeback.writeback_retry(job=job)
    writeback_tasks.run_writeback(job_id=job.pk, brand_id=job.brand_id)

    job.refresh_from_db()
    again = messages(control)[written:]
    assert [m["identities"][0]["id"] for m in again] == [second]
    assert (again[0]["message_id"], again[0]["request_id"]) == writeback.message_ids(job, second)
    assert (job.status, job.sent, job.rejected) == (Status.DONE, ready_package.count - 1, 1)
    assert "[B00010] 联系人不存在 ×1" in job.reason == writeback.refusals_reason(job)
    assert list(refused.values_list("open_id", "resend")) == [(first, False)]

    writeback.writeback_retry(job=job)
    writeback_tasks.run_writeback(job_id=job.pk, brand_id=job.brand_id)

    job.refresh_from_db()
    everything = messages(control)
    assert (job.status, job.sent, job.rejected, job.reason) == (
        Status.DONE,
        ready_package.count,
        0,
        "",
    )
    assert not refused.exists() and not writeback.writeback_can_retry(job)
    assert sorted(m["identities"][0]["id"] for m in everything) == sorted(open_ids(ready_package))
    assert not any(m["duplicate"] for m in everything)


def test_the_resent_contacts_are_written_in_slices(launched, ready_package, control):
    job = job_of(launched)
    refuse_next(control, 3)
    job = writeback.writeback_run(job_id=job.pk).job
    writeback.writeback_retry(job=job)

    slices = [writeback.writeback_run(job_id=job.pk, budget_seconds=0) for _n in range(4)]

    assert [s.more for s in slices] == [True, True, True, False]  # the last one finds no more
    assert [(s.job.sent, s.job.rejected) for s in slices] == [
        (ready_package.count - 2, 2),
        (ready_package.count - 1, 1),
        (ready_package.count, 0),
        (ready_package.count, 0),
    ]
    assert slices[-1].job.status == Status.DONE
    assert len(messages(control)) == ready_package.count


# --- Skipped -------------------------------------------------------------------------------------


def test_without_a_channel_key_the_job_is_skipped_and_can_run_later(
    lf_brand, ready_package, control
):
    lf_brand.linkflow_channel_key = ""
    lf_brand.save()
    campaign = launch(control, wechat_campaign(lf_brand, openid_package=ready_package))
    job = job_of(campaign)
    assert job.status == Status.SKIPPED
    assert job.reason == writeback.writeback_config_problem(lf_brand)  # no channel key
    assert writeback.writeback_can_retry(job)

    lf_brand.linkflow_channel_key = "udc_portal"
    lf_brand.save()
    writeback.writeback_retry(job=job)
    writeback_tasks.run_writeback(job_id=job.pk, brand_id=lf_brand.pk)

    job.refresh_from_db()
    assert job.status == Status.DONE and job.sent == ready_package.count
    assert len(messages(control)) == ready_package.count


def test_a_brand_that_disconnected_linkflow_is_skipped(launched):
    job = job_of(launched)
    brand = job.brand
    brand.linkflow_app_key = ""
    brand.save()

    writeback_tasks.run_writeback(job_id=job.pk, brand_id=brand.pk)

    job.refresh_from_db()
    assert job.status == Status.SKIPPED
    assert job.reason == writeback.writeback_config_problem(brand)  # not connected


def test_other_wechat_audiences_have_no_known_identities(lf_brand, control):
    campaign = launch(control, wechat_campaign(lf_brand, pack_type=1))

    job = job_of(campaign)
    assert job.status == Status.SKIPPED and job.reason == writeback.no_identities_reason()
    assert job.package_id is None and not writeback.writeback_can_retry(job)
    with pytest.raises(writeback.WritebackNotRetryable):
        writeback.writeback_retry(job=job)
    assert messages(control) == []


def test_a_reach_is_recorded_as_skipped_for_want_of_identities(jd_brand, package):
    reach = reach_services.reach_send(
        brand=jd_brand,
        instance=package,
        request=reach_services.ReachRequest(
            reach_type="SMSPUBLIC",
            template_id="4370",
            template_params={
                "shop": "戴森官方旗舰店",
                "product": "吹风机",
                "discount": "8",
                "url": "3.cn/abc",
            },
        ),
    )

    job = WritebackJob.objects.get(source_kind="reach", source_id=reach.pk)
    assert reach.status == "sent"
    assert job.status == Status.SKIPPED and job.reason == writeback.no_identities_reason()
    assert job.props["package_id"] == package.package_id
    assert writeback.writeback_of(reach) == job


# --- Refusals, at the transport level ----------------------------------------------------------

BASE = "https://linkflow.writeback.test"


@respx.mock
def test_refusals_of_the_first_contacts_fail_the_job(make_brand, settings):
    settings.LINKFLOW_API_BASE_URL = BASE
    brand = make_brand(
        linkflow_app_key="respx-writeback-key", linkflow_app_secret="s", linkflow_channel_key="k"
    )
    respx.get(f"{BASE}/token").mock(
        return_value=httpx.Response(200, json={"token": "t", "expiration": "2099-01-01 00:00:00"})
    )
    posted = respx.post(f"{BASE}/open/messages").mock(
        return_value=httpx.Response(400, json={"code": "B00022", "message": "渠道不存在"})
    )
    with scope(brand=brand):
        package = OpenIdPackage.objects.create(
            brand=brand, group_id=1, group_name="g", wechat_app_id="wx", status="ready", count=8
        )
        path = openid.openid_package_root() / f"{brand.pk}/{package.pk}-1.txt"
        path.parent.mkdir(parents=True)
        path.write_text("".join(f"o{n}\n" for n in range(8)))
        OpenIdPackage.objects.filter(pk=package.pk).update(file=f"{brand.pk}/{package.pk}-1.txt")
        job = WritebackJob.objects.create(
            brand=brand, source_kind="wechat", source_id=1, event="e", package=package, total=8
        )

        status = writeback_tasks.run_writeback(job_id=job.pk, brand_id=brand.pk)

        job.refresh_from_db()
    assert status == Status.FAILED == job.status
    assert job.reason == "[B00022] 渠道不存在"
    assert posted.call_count == writeback.REFUSALS_BEFORE_GIVING_UP
    assert job.rejected == writeback.REFUSALS_BEFORE_GIVING_UP and job.sent == 0
    refused = ["o0", "o1", "o2", "o3", "o4"]
    with scopes_disabled():
        assert list(job.refusals.values_list("open_id", flat=True)) == refused

    # The channel is fixed: the rest of the file, then the refused contacts, once each.
    posted.mock(return_value=httpx.Response(200, json={}))
    with scope(brand=brand):
        writeback.writeback_retry(job=job)
        writeback_tasks.run_writeback(job_id=job.pk, brand_id=brand.pk)
        job.refresh_from_db()
        assert not job.refusals.exists()
    sent = [json.loads(call.request.content)["identities"][0]["id"] for call in posted.calls]
    assert sent[len(refused) :] == ["o5", "o6", "o7", *refused]
    assert (job.status, job.sent, job.rejected, job.reason) == (Status.DONE, 8, 0, "")


@respx.mock
def test_an_outage_that_lasts_fails_the_job_with_the_reason(make_brand, settings):
    settings.LINKFLOW_API_BASE_URL = BASE
    brand = make_brand(
        linkflow_app_key="respx-writeback-key-2", linkflow_app_secret="s", linkflow_channel_key="k"
    )
    respx.get(f"{BASE}/token").mock(
        return_value=httpx.Response(200, json={"token": "t", "expiration": "2099-01-01 00:00:00"})
    )
    respx.post(f"{BASE}/open/messages").mock(return_value=httpx.Response(503))
    with scope(brand=brand):
        package = OpenIdPackage.objects.create(
            brand=brand, group_id=1, group_name="g", wechat_app_id="wx", status="ready", count=1
        )
        path = openid.openid_package_root() / f"{brand.pk}/{package.pk}-1.txt"
        path.parent.mkdir(parents=True)
        path.write_text("o1\n")
        OpenIdPackage.objects.filter(pk=package.pk).update(file=f"{brand.pk}/{package.pk}-1.txt")
        job = WritebackJob.objects.create(
            brand=brand, source_kind="wechat", source_id=1, event="e", package=package, total=1
        )

        result = writeback_tasks.run_writeback.apply(
            kwargs={"job_id": job.pk, "brand_id": brand.pk}
        )

        job.refresh_from_db()
    assert result.result == Status.FAILED == job.status
    assert "503" in job.reason and job.runs == writeback_tasks.TRANSPORT_RETRIES + 1
    assert writeback.writeback_can_retry(job)


# --- Pages and API ---------------------------------------------------------------------------


def test_the_status_tag_shows_the_job_and_its_retry_button(launched, make_brand_user):
    job = job_of(launched)
    writeback.writeback_fail(job_id=job.pk, reason="Linkflow down")
    request = RequestFactory().get("/")
    request.brand_access = "member"
    template = Template("{% load linkflow_writeback %}{% writeback_status campaign %}")

    html = template.render(Context({"campaign": launched, "request": request, "csrf_token": "t"}))

    assert 'id="linkflow-writeback" data-status="failed"' in html
    assert "Linkflow down" in html
    assert f"/crowds/openid/writebacks/{job.pk}/retry/" in html


def test_the_status_tag_shows_the_codes_of_refused_contacts_and_offers_a_retry(
    launched, ready_package, control
):
    job = job_of(launched)
    refuse_next(control, 2)
    writeback.writeback_run(job_id=job.pk)
    request = RequestFactory().get("/")
    request.brand_access = "member"
    template = Template("{% load linkflow_writeback %}{% writeback_status campaign %}")

    html = template.render(Context({"campaign": launched, "request": request, "csrf_token": "t"}))

    assert 'data-status="done"' in html
    assert '<li data-code="B00010"><code>B00010</code> 联系人不存在 × 2</li>' in html
    assert f"/crowds/openid/writebacks/{job.pk}/retry/" in html
    assert not any(open_id in html for open_id in open_ids(ready_package))


def test_the_retry_page_runs_the_job_again_and_returns_to_the_campaign(
    launched, client, make_brand_user, django_capture_on_commit_callbacks
):
    job = job_of(launched)
    writeback.writeback_fail(job_id=job.pk, reason="Linkflow down")
    client.force_login(make_brand_user(job.brand).user)

    with django_capture_on_commit_callbacks() as enqueued:
        response = client.post(f"/crowds/openid/writebacks/{job.pk}/retry/")

    job.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/campaigns/wechat/{launched.pk}/"
    assert job.status == Status.PENDING and len(enqueued) == 1


def test_api_lists_filters_and_retries(launched, lf_brand, client, make_brand_user, control):
    other = launch(control, wechat_campaign(lf_brand, pack_type=1, name="全部粉丝"))
    client.force_login(make_brand_user(lf_brand).user)
    job = job_of(launched)
    writeback.writeback_fail(job_id=job.pk, reason="Linkflow down")

    listed = client.get("/api/v1/cdp/writebacks/", {"source_kind": "wechat"})
    one = client.get("/api/v1/cdp/writebacks/", {"source_id": launched.pk})
    retried = client.post(f"/api/v1/cdp/writebacks/{job.pk}/retry/")
    refused = client.post(f"/api/v1/cdp/writebacks/{job_of(other).pk}/retry/")

    assert listed.status_code == 200 and len(listed.json()["results"]) == 2
    assert [j["id"] for j in one.json()["results"]] == [job.pk]
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert refused.status_code == 409


def test_api_shows_the_refusal_codes_and_retries_a_done_job_with_refusals(
    launched, lf_brand, client, make_brand_user, control, ready_package
):
    job = job_of(launched)
    refuse_next(control, 2)
    writeback.writeback_run(job_id=job.pk)
    client.force_login(make_brand_user(lf_brand).user)

    listed = client.get("/api/v1/cdp/writebacks/").json()["results"]
    one = client.get(f"/api/v1/cdp/writebacks/{job.pk}/").json()
    retried = client.post(f"/api/v1/cdp/writebacks/{job.pk}/retry/")

    codes = [{"code": "B00010", "message": "联系人不存在", "count": 2}]
    assert [j["refusals"] for j in listed] == [codes]
    assert (one["status"], one["rejected"], one["refusals"]) == ("done", 2, codes)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert retried.json()["refusals"] == codes  # still refused until the run sends them
    assert not any(open_id in str(one) for open_id in open_ids(ready_package))


def test_the_admin_shows_the_refusal_codes_and_retries_a_done_job(
    launched, ready_package, control, admin_client
):
    job = job_of(launched)
    refuse_next(control, 2)
    writeback.writeback_run(job_id=job.pk)

    page = admin_client.get(f"/admin/campaigns/writebackjob/{job.pk}/change/")
    retried = admin_client.post(
        "/admin/campaigns/writebackjob/", {"action": "retry", "_selected_action": [job.pk]}
    )

    html = page.content.decode()
    assert page.status_code == 200 and "[B00010] 联系人不存在 ×2" in html
    assert not any(open_id in html for open_id in open_ids(ready_package))
    job.refresh_from_db()
    assert retried.status_code == 302 and job.status == Status.PENDING


def test_api_hides_another_brands_jobs(client, make_brand, make_brand_user):
    mine, theirs = make_brand(), make_brand()
    with scopes_disabled():
        job = WritebackJob.objects.create(brand=theirs, source_kind="reach", source_id=1)
    client.force_login(make_brand_user(mine).user)

    assert client.get(f"/api/v1/cdp/writebacks/{job.pk}/").status_code == 404
    assert client.post(f"/api/v1/cdp/writebacks/{job.pk}/retry/").status_code == 404
    assert client.post(f"/crowds/openid/writebacks/{job.pk}/retry/").status_code == 404
    assert client.get("/api/v1/cdp/writebacks/").json()["results"] == []
