"""Celery tasks of the campaigns app: small, idempotent, keyed by primary keys."""

from __future__ import annotations

import random

from celery import shared_task

from brands.tenancy import brand_task
from campaigns.models import WechatCampaign
from campaigns.services import wechat
from portal import redelivery

_jitter = random.SystemRandom()
# The campaign's count of polls whose worker died (portal/redelivery.py).
DELIVERIES = "poll_deliveries"


@shared_task(name="campaigns.poll_wechat_campaign")
@brand_task
def poll_wechat_campaign(*, campaign_id: int, brand_id: int) -> int | None:
    """Poll one WeChat campaign; re-schedule itself while it is not final (a poll is one
    short task re-scheduled, never a sleeping loop). A duplicate that did not book the
    next poll ends here, so chains never multiply."""
    delivery = WechatCampaign.objects.filter(pk=campaign_id)
    if times := redelivery.spent_counts(delivery, field=DELIVERIES).get(campaign_id):
        return wechat.wechat_poll_give_up(campaign_id=campaign_id, times=times).status
    with redelivery.counted_delivery(delivery, field=DELIVERIES):
        campaign = wechat.wechat_campaign_poll(
            campaign_id=campaign_id, jitter=_jitter.uniform(0.8, 1.2)
        )
    if campaign.polled and not campaign.is_final and campaign.next_poll_at:
        poll_wechat_campaign.apply_async(
            kwargs={"campaign_id": campaign_id, "brand_id": brand_id}, eta=campaign.next_poll_at
        )
    return campaign.status


@shared_task(name="campaigns.resume_overdue_wechat_polls")
def resume_overdue_wechat_polls() -> int:
    """Periodic: restart WeChat poll chains that were lost (worker killed, message dropped);
    those whose worker died every time, more often than CELERY_MAX_REDELIVERIES, stop with
    the reason instead. Returns how many were sent again."""
    return redelivery.resend_or_give_up(
        WechatCampaign,
        wechat.wechat_campaigns_due_for_poll(),
        field=DELIVERIES,
        give_up=lambda pk, times: wechat.wechat_poll_give_up(campaign_id=pk, times=times),
        resend=lambda pk, brand_id: poll_wechat_campaign.delay(campaign_id=pk, brand_id=brand_id),
    )


@shared_task(name="campaigns.refresh_notices")
def refresh_notices() -> int:
    """Periodic: JD Cloud's notices (`/notice/list`), the same for every brand."""
    from campaigns.services.system import notices_refresh

    return notices_refresh()


@shared_task(name="campaigns.check_system_status")
def check_system_status() -> bool | None:
    """Periodic: `/system/status`; while JD is down, actions needing it are refused."""
    from campaigns.services.system import system_status_check

    state = system_status_check()
    return getattr(state, "up", None)
