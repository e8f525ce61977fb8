"""A WeChat campaign whose status polls keep killing their worker is given up after
CELERY_MAX_REDELIVERIES, saying why, and the user can ask JD Cloud again (page and API);
so can one the portal stopped polling a day after its end.

A delivery "dies" by raising a BaseException from inside JD's answer (what a SIGKILL looks
like to the row: the call was made, nothing after it ran)."""

# The sandbox fixtures are imported from test_wechat.py and named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import tasks
from campaigns.models import WechatCampaign
from campaigns.services import wechat as services
from portal.integrations.jdcloud.client import JDCloudClient
from tests.campaigns.test_wechat import (  # noqa: F401 - fixtures
    STEP,
    advance,
    enqueued,
    sandbox,
    sandbox_brand,
    template_campaign,
)

pytestmark = pytest.mark.django_db

Status = WechatCampaign.Status


class WorkerKilled(BaseException):
    """Nothing in the portal catches it, as nothing runs after a SIGKILL."""


def die_inside_the_poll(campaign: WechatCampaign, monkeypatch) -> None:
    real = JDCloudClient.activity_wx_activity_info

    def answered_then_killed(self, **kwargs):
        real(self, **kwargs)
        raise WorkerKilled()

    WechatCampaign.objects.filter(pk=campaign.pk).update(next_poll_at=timezone.now())
    with monkeypatch.context() as patched:
        patched.setattr(JDCloudClient, "activity_wx_activity_info", answered_then_killed)
        with pytest.raises(WorkerKilled):
            tasks.poll_wechat_campaign(campaign_id=campaign.pk, brand_id=campaign.brand_id)


def status_calls(sandbox) -> int:
    journal = sandbox.get("/requests", params={"path": "/activity/wx/activityInfo"})
    return len(journal.json()["requests"])


def overdue(campaign: WechatCampaign) -> None:
    WechatCampaign.objects.filter(pk=campaign.pk).update(
        next_poll_at=timezone.now() - timedelta(hours=1)
    )


def test_a_poll_that_died_stays_counted_and_one_that_finishes_clears_it(
    sandbox_brand, sandbox, enqueued, monkeypatch
):
    campaign = template_campaign(sandbox_brand)
    die_inside_the_poll(campaign, monkeypatch)
    campaign.refresh_from_db()
    assert (campaign.poll_deliveries, campaign.poll_count) == (1, 0)

    tasks.poll_wechat_campaign(campaign_id=campaign.pk, brand_id=sandbox_brand.pk)

    campaign.refresh_from_db()
    assert (campaign.poll_deliveries, campaign.poll_count) == (0, 1)


def test_the_sweeper_resends_up_to_the_cap_then_stops_saying_why(
    sandbox_brand, sandbox, enqueued, monkeypatch, settings
):
    settings.CELERY_MAX_REDELIVERIES = 2
    campaign = template_campaign(sandbox_brand)
    die_inside_the_poll(campaign, monkeypatch)  # the first delivery
    for _redelivery in range(2):
        overdue(campaign)
        assert tasks.resume_overdue_wechat_polls() == 1
        die_inside_the_poll(campaign, monkeypatch)
    overdue(campaign)

    assert tasks.resume_overdue_wechat_polls() == 0

    campaign.refresh_from_db()
    assert campaign.next_poll_at is None and campaign.poll_deliveries == 0
    assert "3" in campaign.sync_error
    assert services.wechat_campaign_can_repoll(campaign)
    assert tasks.resume_overdue_wechat_polls() == 0  # nothing more, ever


def test_a_delivery_handed_back_after_the_cap_stops_without_asking_jd(
    sandbox_brand, sandbox, enqueued, monkeypatch, settings
):
    settings.CELERY_MAX_REDELIVERIES = 0
    campaign = template_campaign(sandbox_brand)
    die_inside_the_poll(campaign, monkeypatch)
    asked = len(
        sandbox.get("/requests", params={"path": "/activity/wx/activityInfo"}).json()["requests"]
    )

    tasks.poll_wechat_campaign(campaign_id=campaign.pk, brand_id=sandbox_brand.pk)

    campaign.refresh_from_db()
    assert campaign.next_poll_at is None and campaign.sync_error
    after = len(
        sandbox.get("/requests", params={"path": "/activity/wx/activityInfo"}).json()["requests"]
    )
    assert after == asked


def test_asking_again_polls_to_the_final_status(
    sandbox_brand, sandbox, enqueued, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_MAX_REDELIVERIES = 0
    campaign = template_campaign(sandbox_brand)
    die_inside_the_poll(campaign, monkeypatch)
    tasks.poll_wechat_campaign(campaign_id=campaign.pk, brand_id=sandbox_brand.pk)
    campaign.refresh_from_db()
    enqueued.clear()

    with django_capture_on_commit_callbacks(execute=True):
        campaign = services.wechat_campaign_repoll(campaign=campaign)

    assert campaign.next_poll_at is not None and campaign.sync_error == ""
    assert campaign.poll_deliveries == 0
    assert enqueued == [
        ({"campaign_id": campaign.pk, "brand_id": sandbox_brand.pk}, campaign.next_poll_at)
    ]
    advance(sandbox, 5 * STEP)
    tasks.poll_wechat_campaign(campaign_id=campaign.pk, brand_id=sandbox_brand.pk)
    campaign.refresh_from_db()
    assert campaign.status == Status.LAUNCHED


def test_asking_again_is_refused_while_polling_goes_on(sandbox_brand, sandbox, enqueued):
    campaign = template_campaign(sandbox_brand)
    assert campaign.next_poll_at is not None

    with pytest.raises(services.WechatConflict):
        services.wechat_campaign_repoll(campaign=campaign)


def test_a_campaign_given_up_after_its_end_can_be_asked_again(sandbox_brand, sandbox, enqueued):
    campaign = template_campaign(sandbox_brand)
    WechatCampaign.objects.filter(pk=campaign.pk).update(
        end_time=timezone.now() - timedelta(days=2), next_poll_at=timezone.now()
    )
    campaign = services.wechat_campaign_poll(campaign_id=campaign.pk)
    assert campaign.next_poll_at is None and not campaign.is_final

    assert services.wechat_campaign_can_repoll(campaign)
    campaign = services.wechat_campaign_repoll(campaign=campaign)
    assert campaign.next_poll_at is not None


def test_the_page_offers_asking_again_and_does_it(
    client, sandbox_brand, sandbox, enqueued, make_brand_user
):
    client.force_login(make_brand_user(sandbox_brand).user)
    campaign = template_campaign(sandbox_brand)
    page = reverse("campaigns:wechat-campaign", args=[campaign.pk])
    assert 'id="repoll-wechat"' not in client.get(page).content.decode()

    WechatCampaign.objects.filter(pk=campaign.pk).update(next_poll_at=None, sync_error="stopped")
    assert 'id="repoll-wechat"' in client.get(page).content.decode()

    response = client.post(reverse("campaigns:wechat-repoll", args=[campaign.pk]))

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.next_poll_at is not None and campaign.sync_error == ""


def test_the_api_says_when_it_can_ask_again_and_does_it(
    client, sandbox_brand, sandbox, enqueued, make_brand_user
):
    client.force_login(make_brand_user(sandbox_brand).user)
    campaign = template_campaign(sandbox_brand)
    detail = reverse("v1:wechat-campaign-detail", args=[campaign.pk])
    repoll = reverse("v1:wechat-campaign-repoll", args=[campaign.pk])
    assert client.get(detail).json()["can_repoll"] is False
    assert client.post(repoll).status_code == 409

    WechatCampaign.objects.filter(pk=campaign.pk).update(next_poll_at=None, sync_error="stopped")
    assert client.get(detail).json()["can_repoll"] is True

    response = client.post(repoll)

    assert response.status_code == 200
    assert response.json()["can_repoll"] is False and response.json()["sync_error"] == ""
