"""Writes whose answer was lost, and refusals that end a job: the weaknesses the fault suite
met, each pinned here by one deterministic case now that it is fixed (they were strict xfails
until then).

A JD Cloud or Linkflow write that times out may have been carried out: the sandbox, like a
real gateway, holds the request (a `timeout` fault) and then runs it, while the portal has
stopped waiting. The portal records such a call as failed and offers the user a retry, and
the retry must not do it twice."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from campaigns import writeback
from campaigns.models import Reach, WechatCampaign, WritebackJob
from campaigns.services import reach as reach_services
from campaigns.services import wechat as wechat_services
from crowds import openid
from crowds import services as crowd_services
from crowds.models import InstanceStatus, SyncState
from portal.integrations.jdcloud import types as jd
from portal.integrations.jdcloud.factory import jdcloud_client
from tests.crowds.sandboxed import PUBLIC_CONDITION, SANDBOX_MASTER_ID
from tests.faults.scenario import (
    CHANNEL_ID,
    LINKFLOW_KEY,
    LINKFLOW_SECRET,
    REACH_REQUEST,
    TEMPLATE_ID,
    small_group,
)

pytestmark = pytest.mark.django_db

HOLD_MS = 1500  # how long the sandbox holds a request under a `timeout` fault


@pytest.fixture
def short_timeouts(settings):
    settings.JDCLOUD_TIMEOUT_SECONDS = 1.0
    settings.LINKFLOW_TIMEOUT_SECONDS = 1.0


def lose_next_answer(control, path: str) -> None:
    """The next request to `path` is carried out, but only after the portal gave up."""
    control.post(
        "/faults", json={"path": path, "kind": "timeout", "latency_ms": HOLD_MS, "times": 1}
    ).raise_for_status()


def let_the_held_request_finish() -> None:
    time.sleep(HOLD_MS / 1000 + 0.3)


def test_a_crowd_whose_create_answer_was_lost_exists_once_at_jd(jd_brand, control, short_timeouts):
    lose_next_answer(control, "/crowd/create/v2")
    crowd = crowd_services.crowd_create(brand=jd_brand, name="超时人群", condition=PUBLIC_CONDITION)
    assert crowd.sync_state == SyncState.FAILED and "timeout" in crowd.sync_error
    let_the_held_request_finish()

    crowd = crowd_services.crowd_sync(crowd=crowd)  # the user's retry

    assert crowd.sync_state == SyncState.SYNCED
    listed = jdcloud_client().crowd_list(master_id=SANDBOX_MASTER_ID, page_num=1, page_size=50)
    at_jd = [c.search_id for c in listed.result if c.crowd_name == "超时人群"]
    assert at_jd == [crowd.search_id]


def test_a_crowd_create_that_lost_its_answer_is_shown_failed_and_retryable(
    jd_brand, control, short_timeouts
):
    """What does work: the local twin stays, says why, and the retry syncs it."""
    lose_next_answer(control, "/crowd/create/v2")
    crowd = crowd_services.crowd_create(brand=jd_brand, name="超时人群", condition=PUBLIC_CONDITION)

    assert crowd.sync_state == SyncState.FAILED
    assert "timeout" in crowd.sync_error
    let_the_held_request_finish()
    crowd = crowd_services.crowd_sync(crowd=crowd)
    assert crowd.sync_state == SyncState.SYNCED and crowd.search_id


@pytest.fixture
def reachable_part(jd_brand, control):
    """A generated split part of the sandbox brand, small enough for its SMS balance."""
    crowd = crowd_services.crowd_create(brand=jd_brand, name="已婚", condition=PUBLIC_CONDITION)
    instance = crowd_services.instance_create(crowd=crowd)
    control.post("/clock/advance", json={"seconds": 61}).raise_for_status()
    instance = crowd_services.instance_poll(instance_id=instance.pk)
    assert instance.status == InstanceStatus.GENERATED
    (part,) = crowd_services.instance_split(
        instance=instance,
        parts=[crowd_services.SplitPart("样本", 50)],
        split_type=jd.SplitType.COUNT,
    )
    return part


def test_a_reach_whose_answer_was_lost_is_recorded_as_sent(
    jd_brand, reachable_part, control, short_timeouts
):
    lose_next_answer(control, "/crowd/instance/reach")
    first = reach_services.reach_send(
        brand=jd_brand, instance=reachable_part, request=REACH_REQUEST
    )
    let_the_held_request_finish()
    assert jdcloud_client().sms_result(package_id=reachable_part.package_id)  # JD sent it

    if first.status == Reach.Status.FAILED:  # the user retries what the portal shows failed
        reach_services.reach_send(brand=jd_brand, instance=reachable_part, request=REACH_REQUEST)

    sent = Reach.objects.filter(instance=reachable_part, status=Reach.Status.SENT)
    assert sent.count() == 1


@pytest.fixture
def refused_writeback(make_brand, control, settings, tmp_path):
    """A WeChat campaign sent to an openId package of a small Linkflow group, launched; its
    write-back ran once while Linkflow refused one contact (a B-code)."""
    settings.OPENID_PACKAGE_ROOT = tmp_path / "openid"
    control.post("/config", json={"wechat_step_seconds": 1, "wechat_failure_rate": 0})
    brand = make_brand(
        master_id=SANDBOX_MASTER_ID,
        name="测试品牌商",
        linkflow_app_key=LINKFLOW_KEY,
        linkflow_app_secret=LINKFLOW_SECRET,
        linkflow_channel_key="udc_portal",
        wechat_app_id=CHANNEL_ID,
    )
    with scope(brand=brand):
        group_id = small_group(brand, contacts=6)
        package = openid.openid_package_create(brand=brand, group_id=group_id)
        package = openid.openid_package_build(package_id=package.pk, budget_seconds=60).package
        assert package.is_ready and package.count > 1
        now = timezone.now()
        campaign = wechat_services.wechat_campaign_create(
            brand=brand,
            name="故障回写",
            activity_type=3,
            pack_type=3,
            openid_package=package,
            template_id=TEMPLATE_ID,
            template_data=[{"name": "first", "value": "通知"}],
            send_time=now,
            begin_time=now,
            end_time=now + timedelta(days=1),
        )
        control.post("/clock/advance", json={"seconds": 10}).raise_for_status()
        campaign = wechat_services.wechat_campaign_poll(campaign_id=campaign.pk)
        assert campaign.status == WechatCampaign.Status.LAUNCHED
        job = WritebackJob.objects.get(source_kind="wechat", source_id=campaign.pk)
        control.post(
            "/faults",
            json={"path": "linkflow:/open/messages", "kind": "code", "code": "B00010", "times": 1},
        ).raise_for_status()
        job = writeback.writeback_run(job_id=job.pk, budget_seconds=60).job
        assert job.status == WritebackJob.Status.DONE
        assert (job.sent, job.rejected) == (package.count - 1, 1) and job.reason
        yield job


def test_contacts_refused_in_a_writeback_can_be_written_again(refused_writeback):
    job = writeback.writeback_retry(job=refused_writeback)
    job = writeback.writeback_run(job_id=job.pk, budget_seconds=60).job
    assert job.status == WritebackJob.Status.DONE
    assert job.sent == job.total and job.rejected == 0
