"""WeChat official-account campaigns (spec: 微信活动).

The local twin is saved first with its `business_id`, then `/activity/wx/create` is asked
(STYLE.md §7); a JD failure leaves the row with `sync_error`, retried by
`wechat_campaign_submit`. A created campaign is polled on `/activity/wx/activityInfo`
(one short task re-scheduled with backoff) until JD reports a final status.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from brands.models import Brand
from campaigns.models import WechatCampaign
from campaigns.writeback import writeback_for_wechat
from campaigns.writeback_models import WechatOpenIdAudience
from crowds.conditions import Violation
from crowds.linkflow_models import OpenIdPackage
from crowds.models import CrowdInstance
from crowds.openid import openid_pack_url
from portal.integrations.jdcloud import types as jd
from portal.integrations.jdcloud.errors import (
    JDCloudError,
    JDCloudRejected,
    JDCloudTransportError,
)
from portal.integrations.jdcloud.factory import jdcloud_client

logger = logging.getLogger(__name__)

# JD Cloud's "yyyy-MM-dd HH:mm:ss" carry no zone: they are China Standard Time.
JD_TIMEZONE = ZoneInfo("Asia/Shanghai")

Status = WechatCampaign.Status
PackType = WechatCampaign.PackType
ActivityType = WechatCampaign.ActivityType

REMARK_MAX = 50  # spec 取消微信活动: remark 取消备注 50字符内
CONVERT_URLS_MAX = 20
NEWS_COUNT_MAX = 20  # spec 获取公众号图文列表: count 1-20
SEND_TIME_GRACE = timedelta(minutes=10)  # a form filled "now" arrives a little late
# While JD holds a campaign until its send time (LAUNCH_NEED), poll at most this rarely.
WAITING_POLL_SECONDS = 15 * 60
# A campaign still not final this long after its end is not polled any more.
GIVE_UP_AFTER_END = timedelta(days=1)
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class WechatInputError(Exception):
    """Bad input: each violation names its field as the API does (`templateInfo.data[0].name`)."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__("; ".join(f"{v.path}: {v.message}" for v in violations))
        self.violations = list(violations)


class WechatConflict(Exception):
    """The campaign's state does not allow this (already cancelled, already created...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WechatRemoteError(Exception):
    """JD Cloud refused (its `msg`) or could not be reached (`retryable`)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def _jd_message(exc: JDCloudError) -> str:
    if isinstance(exc, JDCloudTransportError):
        if exc.http_status:
            return _("京东云暂时无法访问(HTTP %(status)s),请稍后重试") % {"status": exc.http_status}
        return _("京东云暂时无法访问,请稍后重试")
    return getattr(exc, "msg", "") or str(exc)


def _remote(exc: JDCloudError) -> WechatRemoteError:
    return WechatRemoteError(_jd_message(exc), retryable=exc.retryable)


def _client(brand_id: int):
    return jdcloud_client(brand_id=brand_id)


def _ensure_jd_available() -> None:
    # Imported here: `campaigns.services.system` is maintained alongside this module.
    from campaigns.services.system import JDUnavailable, ensure_jd_available

    try:
        ensure_jd_available()
    except JDUnavailable as exc:
        raise WechatRemoteError(exc.reason, retryable=True) from exc


def _jd_time(value: datetime) -> datetime:
    return timezone.localtime(value, JD_TIMEZONE)


# --- Reads for the pages ------------------------------------------------------------


def wechat_info(brand: Brand) -> jd.WeChatInfo:
    """`/activity/wx/weChatInfo`: the official account and its follower counts."""
    try:
        return _client(brand.pk).activity_wx_wechat_info(master_id=brand.master_id)
    except JDCloudError as exc:
        raise _remote(exc) from exc


def wechat_templates(brand: Brand) -> list[jd.WxTemplate]:
    """`/activity/wx/getAllTemplate`: the account's template messages (no paging)."""
    try:
        return _client(brand.pk).activity_wx_get_all_template(master_id=brand.master_id)
    except JDCloudError as exc:
        raise _remote(exc) from exc


def wechat_news(brand: Brand, offset: int = 0, count: int = NEWS_COUNT_MAX) -> jd.WxNewsPage:
    """`/activity/wx/batchGetNews`: one page of the account's news."""
    errors = []
    if offset < 0:
        errors.append(Violation("offset", _("偏移量不能小于 0")))
    if not 1 <= count <= NEWS_COUNT_MAX:
        errors.append(
            Violation("count", _("数量必须在 1 到 %(max)s 之间") % {"max": NEWS_COUNT_MAX})
        )
    if errors:
        raise WechatInputError(errors)
    try:
        return _client(brand.pk).activity_wx_batch_get_news(
            master_id=brand.master_id, offset=offset, count=count
        )
    except JDCloudError as exc:
        raise _remote(exc) from exc


# --- Create -----------------------------------------------------------------------


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_jd_url(url: str) -> bool:
    """Spec 转化落地页: 只能转化京东域内地址."""
    host = (urlsplit(url).hostname or "").lower()
    return _is_http_url(url) and (host == "jd.com" or host.endswith(".jd.com"))


def _template_data(items: Iterable[Mapping[str, Any]], errors: list[Violation]) -> list[dict]:
    cleaned, seen = [], set()
    for index, item in enumerate(items):
        path = f"templateInfo.data[{index}]"
        name = str(item.get("name") or "").strip()
        value = str(item.get("value") or "")
        color = str(item.get("color") or "").strip()
        if not name:
            errors.append(Violation(f"{path}.name", _("模板参数名不能为空")))
        elif name in seen:
            errors.append(Violation(f"{path}.name", _("模板参数 %(name)s 重复") % {"name": name}))
        seen.add(name)
        if not value.strip():
            errors.append(Violation(f"{path}.value", _("模板参数值不能为空")))
        if color and not COLOR.match(color):
            errors.append(Violation(f"{path}.color", _("字体颜色必须是 #RRGGBB 格式,例如 #173177")))
        cleaned.append({"name": name, "value": value, "color": color or None})
    if not cleaned:
        errors.append(Violation("templateInfo.data", _("模板消息至少需要一个参数")))
    return cleaned


def _check_content(
    *,
    activity_type: int,
    template_id: str,
    template_data: list[dict],
    template_url: str,
    media_id: str,
    media_title: str,
    errors: list[Violation],
) -> None:
    if activity_type == ActivityType.TEMPLATE:
        if not template_id:
            errors.append(Violation("templateInfo.templateId", _("模板消息必须选择模板")))
        if template_url and not _is_http_url(template_url):
            errors.append(
                Violation("templateInfo.url", _("跳转链接必须是 http 或 https 的完整链接"))
            )
        if media_id or media_title:
            errors.append(Violation("mediaInfo", _("模板消息不需要图文信息")))
    elif activity_type == ActivityType.MEDIA:
        if not media_id:
            errors.append(Violation("mediaInfo.mediaId", _("图文消息必须选择图文素材")))
        if not media_title:
            errors.append(Violation("mediaInfo.mediaTitle", _("图文消息必须填写素材标题")))
        if template_id or template_data or template_url:
            errors.append(Violation("templateInfo", _("图文消息不需要模板信息")))


def _check_audience(
    *,
    brand: Brand,
    pack_type: int,
    instance: CrowdInstance | None,
    openid_package: OpenIdPackage | None,
    errors: list[Violation],
) -> None:
    if pack_type not in PackType.values:
        errors.append(
            Violation(
                "pack_type",
                _(
                    "人群包类型必须是 1(全部粉丝)、2(自定义人群包)、3(导入openId包)、"
                    "4(匹配京东账号的粉丝)或 5(未匹配的粉丝)"
                ),
            )
        )
    elif pack_type == PackType.UPLOAD_OPENID:
        # JD fetches the openId file from `pack_path` (only in the spec's example): the
        # signed link to a package built from a Linkflow group (crowds.openid).
        if openid_package is None:
            errors.append(
                Violation(
                    "openid_package",
                    _("导入openId包(3)必须选择一个由 Linkflow 群组生成的 openId 包"),
                )
            )
        elif openid_package.brand_id != brand.pk:
            errors.append(Violation("openid_package", _("openId 包不存在")))
        elif not openid_package.is_ready:
            errors.append(Violation("openid_package", _("openId 包尚未生成成功,不能用于微信活动")))
        elif openid_package.count == 0:
            errors.append(Violation("openid_package", _("openId 包中没有该公众号的 openId")))
    elif pack_type == PackType.CUSTOMER:
        if instance is None:
            errors.append(Violation("package_id", _("自定义人群包(2)必须选择一个人群包")))
        elif instance.brand_id != brand.pk:
            errors.append(Violation("package_id", _("人群包不存在")))
        elif not instance.is_generated or not instance.package_id:
            errors.append(Violation("package_id", _("人群包尚未生成成功,不能用于微信活动")))
    elif instance is not None:
        errors.append(Violation("package_id", _("只有自定义人群包(2)需要选择人群包")))
    if openid_package is not None and pack_type != PackType.UPLOAD_OPENID:
        errors.append(Violation("openid_package", _("只有导入openId包(3)需要选择 openId 包")))


def _check_times(
    *, send_time: datetime, begin_time: datetime, end_time: datetime, errors: list[Violation]
) -> None:
    now = timezone.now()
    if end_time <= begin_time:
        errors.append(Violation("end_time", _("活动结束时间必须晚于开始时间")))
    if send_time < begin_time:
        errors.append(Violation("send_time", _("投放时间不能早于活动开始时间")))
    elif send_time >= end_time:
        errors.append(Violation("send_time", _("投放时间必须早于活动结束时间")))
    if send_time < now - SEND_TIME_GRACE:
        errors.append(Violation("send_time", _("投放时间不能早于当前时间")))


def _convert(brand: Brand, urls: Sequence[str]) -> list[dict]:
    """`/activity/wx/convertUrl` for each landing page, as the spec's urlMappingList."""
    mappings = []
    client = _client(brand.pk)
    for index, url in enumerate(urls):
        try:
            short = client.activity_wx_convert_url(master_id=brand.master_id, url=url)
        except JDCloudRejected as exc:
            if exc.retryable:
                # JD busy or failing is not the address's fault: a message for the whole
                # form, to try again, not an error beside the URL.
                raise WechatRemoteError(
                    _(
                        "JD Cloud is busy and could not convert the landing pages (%(msg)s); "
                        "try again in a moment."
                    )
                    % {"msg": _jd_message(exc)},
                    retryable=True,
                ) from exc
            raise WechatInputError([Violation(f"convert_urls[{index}]", _jd_message(exc))]) from exc
        except JDCloudError as exc:
            raise _remote(exc) from exc
        mappings.append({"url": url, "shortUrl": short})
    return mappings


def wechat_campaign_create(
    *,
    brand: Brand,
    name: str,
    activity_type: int,
    pack_type: int,
    instance: CrowdInstance | None = None,
    openid_package: OpenIdPackage | None = None,
    template_id: str = "",
    template_data: Iterable[Mapping[str, Any]] = (),
    template_url: str = "",
    media_id: str = "",
    media_title: str = "",
    send_time: datetime,
    begin_time: datetime,
    end_time: datetime,
    convert_urls: Sequence[str] = (),
) -> WechatCampaign:
    """Validate, convert the landing pages, save the local row, then create it at JD.

    A JD failure keeps the row with `sync_error` (retry: `wechat_campaign_submit`); success
    stores JD's activity id and starts polling its status."""
    errors: list[Violation] = []
    name = (name or "").strip()
    if not name:
        errors.append(Violation("name", _("活动名称不能为空")))
    elif len(name) > 200:
        errors.append(Violation("name", _("活动名称不能超过 200 个字符")))
    if activity_type not in ActivityType.values:
        errors.append(Violation("activity_type", _("消息类型必须是 3(模板消息)或 4(图文消息)")))
    template_id, template_url = (template_id or "").strip(), (template_url or "").strip()
    media_id, media_title = (media_id or "").strip(), (media_title or "").strip()
    data = (
        _template_data(template_data, errors)
        if activity_type == ActivityType.TEMPLATE
        else list(template_data)
    )
    _check_content(
        activity_type=activity_type,
        template_id=template_id,
        template_data=data,
        template_url=template_url,
        media_id=media_id,
        media_title=media_title,
        errors=errors,
    )
    _check_audience(
        brand=brand,
        pack_type=pack_type,
        instance=instance,
        openid_package=openid_package,
        errors=errors,
    )
    _check_times(send_time=send_time, begin_time=begin_time, end_time=end_time, errors=errors)
    urls = list(dict.fromkeys(u.strip() for u in convert_urls if u and u.strip()))
    if len(urls) > CONVERT_URLS_MAX:
        errors.append(
            Violation("convert_urls", _("最多转化 %(max)s 个落地页") % {"max": CONVERT_URLS_MAX})
        )
    for index, url in enumerate(urls):
        if not _is_jd_url(url):
            errors.append(
                Violation(
                    f"convert_urls[{index}]",
                    _("只能转化京东域内地址(jd.com),且必须是完整链接"),
                )
            )
    if errors:
        raise WechatInputError(errors)

    _ensure_jd_available()
    url_mappings = _convert(brand, urls)
    with transaction.atomic():
        campaign = WechatCampaign.objects.create(
            brand=brand,
            business_id=uuid.uuid4().hex,
            name=name,
            activity_type=activity_type,
            pack_type=pack_type,
            instance=instance if pack_type == PackType.CUSTOMER else None,
            template_id=template_id,
            template_data=data if activity_type == ActivityType.TEMPLATE else [],
            template_url=template_url,
            media_id=media_id,
            media_title=media_title,
            url_mappings=url_mappings,
            send_time=send_time,
            begin_time=begin_time,
            end_time=end_time,
        )
        if pack_type == PackType.UPLOAD_OPENID:
            WechatOpenIdAudience.objects.create(
                brand=brand, campaign=campaign, package=openid_package
            )
    return wechat_campaign_submit(campaign=campaign)


def _openid_pack(campaign: WechatCampaign) -> dict[str, Any]:
    """pack_path / pack_name / pack_desc of a pack_type 3 campaign. The link is signed at
    each submission, valid at least until a day after the send time (JD may fetch the file
    as late as that)."""
    audience = (
        WechatOpenIdAudience.objects.filter(campaign_id=campaign.pk)
        .select_related("package")
        .first()
    )
    if audience is None:
        return {}
    package = audience.package
    return {
        "pack_path": openid_pack_url(package, valid_until=campaign.send_time + timedelta(days=1)),
        "pack_name": f"Linkflow {package.group_name}"[:100],
        "pack_desc": f"{package.count} openId · Linkflow group {package.group_id}",
    }


def _wx_activity(campaign: WechatCampaign) -> jd.WxActivity:
    instance = campaign.instance
    pack = (
        _openid_pack(campaign)
        if campaign.pack_type == PackType.UPLOAD_OPENID
        else {
            "pack_name": (instance.name or None) if instance else None,
            "pack_desc": (instance.crowd.description or None)
            if instance and instance.crowd
            else None,
        }
    )
    return jd.WxActivity(
        master_id=campaign.brand.master_id,
        business_id=campaign.business_id,
        send_time=_jd_time(campaign.send_time),
        create_time=_jd_time(campaign.created_at),
        begin_time=_jd_time(campaign.begin_time),
        end_time=_jd_time(campaign.end_time),
        pack_type=campaign.pack_type,
        activity_type=campaign.activity_type,
        package_id=instance.package_id if instance else None,
        **pack,
        media_id=campaign.media_id or None,
        media_title=campaign.media_title or None,
        template_id=campaign.template_id or None,
        template_data=tuple(
            jd.WxTemplateData(name=d["name"], value=d["value"], color=d.get("color"))
            for d in campaign.template_data
        ),
        template_url=campaign.template_url or None,
        url_mappings=tuple((m["url"], m["shortUrl"]) for m in campaign.url_mappings),
    )


def _start_polling(campaign: WechatCampaign) -> None:
    from campaigns.tasks import poll_wechat_campaign

    kwargs = {"campaign_id": campaign.pk, "brand_id": campaign.brand_id}
    eta = campaign.next_poll_at
    transaction.on_commit(lambda: poll_wechat_campaign.apply_async(kwargs=kwargs, eta=eta))


def wechat_campaign_submit(*, campaign: WechatCampaign) -> WechatCampaign:
    """`/activity/wx/create` for a row JD does not hold yet (first try or retry); a row
    already created is returned as it is. Failure is recorded in `sync_error`.

    JD does not deduplicate `business_id`: if an answer was lost after JD created the
    campaign, a retry creates a second one (the spec has no way to look it up)."""
    if campaign.jd_activity_id is not None:
        return campaign
    if campaign.is_final:
        raise WechatConflict(_("活动已取消,不能再提交"))
    _ensure_jd_available()
    try:
        jd_activity_id = _client(campaign.brand_id).activity_wx_create(_wx_activity(campaign))
    except JDCloudError as exc:
        campaign.sync_error = _jd_message(exc)
        campaign.save(update_fields=["sync_error", "updated_at"])
        return campaign
    now = timezone.now()
    updated = WechatCampaign.objects.filter(pk=campaign.pk, jd_activity_id__isnull=True).update(
        jd_activity_id=jd_activity_id,
        status=Status.CREATE,
        sync_error="",
        next_poll_at=now,
        updated_at=now,
    )
    campaign.refresh_from_db()
    if updated:
        _start_polling(campaign)
    return campaign


# --- Cancel -----------------------------------------------------------------------


def wechat_campaign_cancel(*, campaign: WechatCampaign, remark: str) -> WechatCampaign:
    """`/activity/wx/reject`: JD cancels while nothing has been sent yet, and says why not
    otherwise. A campaign JD never created is cancelled locally."""
    remark = (remark or "").strip()
    if not remark:
        raise WechatInputError([Violation("remark", _("请填写取消备注"))])
    if len(remark) > REMARK_MAX:
        raise WechatInputError(
            [
                Violation(
                    "remark",
                    _("取消备注不能超过 %(max)s 个字符(当前 %(count)s 个)")
                    % {"max": REMARK_MAX, "count": len(remark)},
                )
            ]
        )
    if campaign.is_final:
        raise WechatConflict(_("活动已结束或已取消,不能取消"))
    if campaign.jd_activity_id is not None:
        _ensure_jd_available()
        try:
            _client(campaign.brand_id).activity_wx_reject(
                master_id=campaign.brand.master_id,
                activity_id=campaign.jd_activity_id,
                remark=remark,
            )
        except JDCloudError as exc:
            raise _remote(exc) from exc
    now = timezone.now()
    cancelled = (
        WechatCampaign.objects.filter(pk=campaign.pk)
        .exclude(status__in=WechatCampaign.FINAL)
        .update(status=Status.LAUNCH_REJECTED, remark=remark, next_poll_at=None, updated_at=now)
    )
    campaign.refresh_from_db()
    if cancelled:
        writeback_for_wechat(campaign=campaign)
    return campaign


# --- Polling ----------------------------------------------------------------------


def _poll_setting(name: str) -> float:
    """WECHAT_POLL_* when the settings have it, else the crowds' CROWD_POLL_* value."""
    return getattr(settings, f"WECHAT_POLL_{name}", getattr(settings, f"CROWD_POLL_{name}"))


def poll_delay_seconds(poll_count: int, jitter: float) -> float:
    """Exponential backoff with jitter: initial × 2ⁿ, capped, times the jitter factor."""
    base = _poll_setting("INITIAL_SECONDS") * (2 ** min(poll_count, 16))
    return min(base, _poll_setting("MAX_SECONDS")) * jitter


def wechat_campaign_poll(*, campaign_id: int, jitter: float = 1.0) -> WechatCampaign:
    """One `/activity/wx/activityInfo` call, safe to run twice.

    Runs only for a created, non-final campaign whose poll is due (a duplicate arriving
    early does nothing). Records status and counts and books the next poll with a
    guarded update (`poll_count` as version, never over a final status), so of two
    concurrent polls only one books. The returned row's `polled` says whether this call
    booked: the poll task re-schedules itself only then."""
    campaign = WechatCampaign.objects.select_related("brand").get(pk=campaign_id)
    campaign.polled = False
    now = timezone.now()
    if campaign.jd_activity_id is None or campaign.is_final:
        return campaign
    if campaign.next_poll_at is None:
        return campaign  # polling was given up or never started
    if campaign.next_poll_at > now + timedelta(seconds=1):
        return campaign  # another poll chain owns this campaign
    changes: dict[str, Any] = {"poll_count": campaign.poll_count + 1, "updated_at": now}
    try:
        info = _client(campaign.brand_id).activity_wx_activity_info(
            master_id=campaign.brand.master_id, activity_id=campaign.jd_activity_id
        )
    except JDCloudError as exc:
        logger.info("status of WeChat activity %s unavailable: %s", campaign.jd_activity_id, exc)
        info = None
        changes["sync_error"] = _jd_message(exc)
    if info is not None:
        changes.update(
            status=info.activity_status,
            pre_num=info.pre_num,
            act_num=info.act_num,
            remark=(info.remark or campaign.remark)[:REMARK_MAX],
            sync_error="",
        )
    status = changes.get("status", campaign.status)
    if status in WechatCampaign.FINAL:
        changes["next_poll_at"] = None
    elif now > campaign.end_time + GIVE_UP_AFTER_END:
        changes["next_poll_at"] = None
        changes["sync_error"] = _("活动结束后京东云仍未返回最终状态,已停止查询")
    else:
        delay = poll_delay_seconds(campaign.poll_count, jitter)
        if status == Status.LAUNCH_NEED and campaign.send_time > now:
            # Nothing moves until the send time: no need to ask every minute meanwhile.
            until_send = (campaign.send_time - now).total_seconds()
            delay = max(delay, min(until_send, WAITING_POLL_SECONDS))
        changes["next_poll_at"] = now + timedelta(seconds=delay)
    booked = (
        WechatCampaign.objects.filter(pk=campaign.pk, poll_count=campaign.poll_count)
        .exclude(status__in=WechatCampaign.FINAL)
        .update(**changes)
    )
    campaign.refresh_from_db()
    campaign.polled = bool(booked)
    if booked and campaign.is_final:
        # Only the poll that recorded the final status writes it back (the job is unique
        # per campaign anyway).
        writeback_for_wechat(campaign=campaign)
    return campaign


def wechat_campaign_can_repoll(campaign: WechatCampaign) -> bool:
    """Created at JD, not final, and no poll booked: the portal stopped asking (JD gave no
    final status a day after the end, or the polls kept killing their worker)."""
    return (
        campaign.jd_activity_id is not None
        and not campaign.is_final
        and campaign.next_poll_at is None
    )


def wechat_campaign_repoll(*, campaign: WechatCampaign) -> WechatCampaign:
    """Ask JD for the status again, now, after the portal stopped asking: the polls that
    died before are forgiven. The campaign's write-back follows its final status as usual."""
    if not wechat_campaign_can_repoll(campaign):
        raise WechatConflict(_("The portal is still asking JD Cloud about this campaign."))
    now = timezone.now()
    restarted = WechatCampaign.objects.filter(
        pk=campaign.pk, next_poll_at__isnull=True, jd_activity_id__isnull=False
    ).exclude(status__in=WechatCampaign.FINAL)
    if restarted.update(next_poll_at=now, poll_deliveries=0, sync_error="", updated_at=now):
        campaign.refresh_from_db()
        _start_polling(campaign)
    else:
        campaign.refresh_from_db()
    return campaign


def wechat_poll_give_up(*, campaign_id: int, times: int) -> WechatCampaign:
    """Stop polling a campaign whose polls were cut off `times` times in a row (their worker
    died each time), saying why; `wechat_campaign_repoll` starts again."""
    reason = _(
        "The portal stopped asking JD Cloud about this campaign: the status call was cut off "
        "%(times)d times in a row before it finished (its worker stopped). Ask again to "
        "resume."
    ) % {"times": times}
    now = timezone.now()
    WechatCampaign.objects.filter(pk=campaign_id).exclude(status__in=WechatCampaign.FINAL).update(
        next_poll_at=None, poll_deliveries=0, sync_error=reason, updated_at=now
    )
    logger.warning("polls of WeChat campaign %s given up: %s", campaign_id, reason)
    return WechatCampaign.objects.get(pk=campaign_id)


def wechat_campaigns_due_for_poll(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(campaign id, brand id) of created, non-final campaigns whose poll is overdue: their
    poll chain was lost (a worker died, a message expired). Periodic fan-out: unscoped."""
    now = now or timezone.now()
    overdue = now - timedelta(seconds=_poll_setting("OVERDUE_SECONDS"))
    with scopes_disabled():
        return list(
            WechatCampaign.objects.filter(
                Q(jd_activity_id__isnull=False),
                ~Q(status__in=WechatCampaign.FINAL),
                next_poll_at__lt=overdue,
            ).values_list("pk", "brand_id")[:500]
        )
