"""WeChat official-account activities (spec "微信活动").

An activity moves over sandbox time, one `wechat_step_seconds` per step:
0 CREATE (正在获取映射关系) → 2 LAUNCH_NEED (待投放, until send_time) → 4 LAUNCH_NEED_ARRIVE
(待触达) → 5 LAUNCH_ARRIVING (触达中) → 1 LAUNCHED (已投放), or 6 SEND_FAIL at
`wechat_failure_rate` (decided at creation by the seeded stream). `/activity/wx/reject`
moves it to 3 LAUNCH_REJECTED while it is 0, 2 or 4 (nothing sent yet).
"""

from __future__ import annotations

import math
from datetime import timedelta
from urllib.parse import urlsplit

from sandbox.catalog import WECHAT_TEMPLATE_IDS, WECHAT_TEMPLATES
from sandbox.clock import format_datetime
from sandbox.jdcloud.envelope import (
    CODE_INT,
    WX_CREATE,
    ApiError,
    Params,
    brand_of,
    conflict,
    endpoint,
    generated_instance,
    not_found,
)
from sandbox.jdcloud.sms import short_code
from sandbox.state import Brand, SandboxState, WechatActivity

CREATE, LAUNCHED, LAUNCH_NEED, REJECTED, NEED_ARRIVE, ARRIVING, SEND_FAIL = 0, 1, 2, 3, 4, 5, 6
CANCELLABLE = (CREATE, LAUNCH_NEED, NEED_ARRIVE)
PACK_TYPES = (1, 2, 3, 4, 5)  # FOLLOWER_ALL, CUSTOMER, UPLOAD_OPENID, FOLLOWER_PIN, FOLLOWER_NULL
TEMPLATE, MEDIA = 3, 4


@endpoint(CODE_INT)
def wechat_info(state: SandboxState, params: Params) -> dict:
    return dict(brand_of(state, params).wechat)


@endpoint(CODE_INT)
def wechat_templates(state: SandboxState, params: Params) -> list:
    brand_of(state, params)
    return [dict(template) for template in WECHAT_TEMPLATES]


@endpoint(CODE_INT)
def wechat_news(state: SandboxState, params: Params) -> dict:
    brand = brand_of(state, params)
    offset = params.integer("offset", required=False, default=0, minimum=0)
    count = params.integer("count", required=False, default=20, minimum=1, maximum=20)
    items = brand.news[offset : offset + count]
    return {"totalCount": len(brand.news), "itemCount": len(items), "items": items}


def _template_info(info: dict) -> dict:
    template_id = info.get("templateId")
    if not template_id:
        raise ApiError("templateInfo缺少必填参数templateId")
    if template_id not in WECHAT_TEMPLATE_IDS:
        raise ApiError(f"templateInfo.templateId不存在:{template_id}", "404")
    data = info.get("data")
    if not isinstance(data, list) or not data:
        raise ApiError("templateInfo.data(模版消息体)必须是非空数组")
    items = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ApiError(f"templateInfo.data[{index}]必须是JSON对象")
        for name in ("name", "value"):
            if not isinstance(item.get(name), str) or not item[name]:
                raise ApiError(f"templateInfo.data[{index}]缺少必填参数{name}")
        items.append({"name": item["name"], "value": item["value"], "color": item.get("color")})
    return {
        "templateId": template_id,
        "data": items,
        "url": info.get("url"),
        "miniAppId": info.get("miniAppId"),
        "miniPathPage": info.get("miniPathPage"),
    }


def _media_info(brand: Brand, info: dict) -> dict:
    media_id = info.get("mediaId")
    if not media_id:
        raise ApiError("mediaInfo缺少必填参数mediaId")
    if not any(item["mediaId"] == media_id for item in brand.news):
        raise ApiError(f"mediaInfo.mediaId不存在:{media_id}", "404")
    if not info.get("mediaTitle"):
        raise ApiError("mediaInfo缺少必填参数mediaTitle")
    return {"mediaId": media_id, "mediaTitle": info["mediaTitle"]}


def _url_mappings(params: Params) -> list:
    mappings = params.array("urlMappingList", required=False) or []
    for index, item in enumerate(mappings):
        if not isinstance(item, dict) or not item.get("url") or not item.get("shortUrl"):
            raise ApiError(f"urlMappingList[{index}]必须包含url和shortUrl")
    return mappings


@endpoint(WX_CREATE)
def wechat_create(state: SandboxState, params: Params) -> int:
    brand = brand_of(state, params)
    business_id = params.text("business_id", max_length=64)
    send_time = params.moment("send_time")
    created_time = params.moment("create_time")
    begin_time = params.moment("begin_time")
    end_time = params.moment("end_time")
    if end_time <= begin_time:
        raise ApiError("end_time(活动结束时间)必须晚于begin_time(活动开始时间)")
    pack_type = params.int_choice("pack_type", PACK_TYPES)
    package_id = params.text("package_id", required=pack_type == 2)
    instance = generated_instance(state, package_id, brand) if pack_type == 2 else None
    pack_path = params.text("pack_path", required=pack_type == 3)
    activity_type = params.int_choice("activity_type", (TEMPLATE, MEDIA))
    template_info = params.mapping("templateInfo", required=activity_type == TEMPLATE)
    media_info = params.mapping("mediaInfo", required=activity_type == MEDIA)
    fields = {
        "business_id": business_id,
        "activity_type": activity_type,
        "templateInfo": _template_info(template_info) if activity_type == TEMPLATE else None,
        "mediaInfo": _media_info(brand, media_info) if activity_type == MEDIA else None,
        "urlMappingList": _url_mappings(params),
        "pack_type": pack_type,
        "package_id": package_id,
        "pack_path": pack_path,
        "pack_desc": params.text("pack_desc", required=False),
        # the spec's example misspells pack_name as "pack_ame"
        "pack_name": params.text(params.first_present("pack_name", "pack_ame"), required=False),
        "begin_time": begin_time,
        "end_time": end_time,
        "send_time": send_time,
        "create_time": created_time,
    }
    wechat = brand.wechat
    pre_num = {
        1: wechat["allFollowerNum"],
        2: instance.size if instance else 0,
        3: 200 + sum(map(ord, pack_path or "")) % 800,  # an uploaded openId file
        4: wechat["pinFollowerNum"],
        5: wechat["notPinFollowerNum"],
    }[pack_type]
    now = state.now()
    step = state.config["wechat_step_seconds"]
    activity = WechatActivity(
        activity_id=state.next_wechat_id,
        master_id=brand.master_id,
        fields=fields,
        created_at=now,
        launch_at=max(now + timedelta(seconds=2 * step), send_time),
        step_seconds=step,
        fails=state.rng_outcomes.random() < state.config["wechat_failure_rate"],
        pre_num=int(pre_num),
        act_ratio=state.rng_outcomes.uniform(0.85, 0.98),
    )
    state.next_wechat_id += 1
    state.wechat_activities[activity.activity_id] = activity
    return activity.activity_id


def activity_status(activity: WechatActivity, now) -> int:
    if activity.rejected_at is not None:
        return REJECTED
    step = timedelta(seconds=activity.step_seconds)
    if now < activity.created_at + step:
        return CREATE
    if now < activity.launch_at:
        return LAUNCH_NEED
    if now < activity.launch_at + step:
        return NEED_ARRIVE
    if now < activity.launch_at + 2 * step:
        return ARRIVING
    return SEND_FAIL if activity.fails else LAUNCHED


def _activity_of(state: SandboxState, params: Params) -> WechatActivity:
    brand = brand_of(state, params)
    activity_id = params.integer("activity_id")
    activity = state.wechat_activities.get(activity_id)
    if activity is None or activity.master_id != brand.master_id:
        raise not_found("微信活动activity_id", activity_id)
    return activity


@endpoint(CODE_INT)
def wechat_activity_info(state: SandboxState, params: Params) -> dict:
    activity = _activity_of(state, params)
    status = activity_status(activity, state.now())
    fields = activity.fields
    sent = math.floor(activity.pre_num * activity.act_ratio)
    act_num = {ARRIVING: sent // 2, LAUNCHED: sent}.get(status, 0)
    return {
        "activity_id": activity.activity_id,
        "activity_name": None,
        "activity_content": "isv活动",
        "business_id": fields["business_id"],
        "activity_type": fields["activity_type"],
        "mediaInfo": fields["mediaInfo"],
        "templateInfo": fields["templateInfo"],
        "pack_type": fields["pack_type"],
        "package_id": fields["package_id"],
        "pack_path": fields["pack_path"],
        "pack_desc": fields["pack_desc"],
        "pack_name": fields["pack_name"],
        "pre_num": 0 if status == CREATE else activity.pre_num,
        "act_num": act_num,
        "begin_time": format_datetime(fields["begin_time"]),
        "end_time": format_datetime(fields["end_time"]),
        "send_time": format_datetime(fields["send_time"]),
        "activity_status": status,
        "remark": activity.remark,
        "created": format_datetime(activity.created_at),
    }


REFUSALS = {
    REJECTED: "微信活动已取消,不能重复取消",
    ARRIVING: "微信活动触达中,不能取消",
    LAUNCHED: "微信活动已投放,不能取消",
    SEND_FAIL: "微信活动发送失败,不能取消",
}


@endpoint(CODE_INT)
def wechat_reject(state: SandboxState, params: Params) -> bool:
    remark = params.text("remark", max_length=50)
    activity = _activity_of(state, params)
    status = activity_status(activity, state.now())
    if status not in CANCELLABLE:
        raise conflict(REFUSALS[status])
    activity.rejected_at = state.now()
    activity.remark = remark
    return True


@endpoint(CODE_INT)
def wechat_convert_url(state: SandboxState, params: Params) -> str:
    brand_of(state, params)
    url = params.text("url", max_length=2000)
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not (host == "jd.com" or host.endswith(".jd.com")):
        raise ApiError(f"只能转化京东域内地址(jd.com),收到{url!r}")
    return f"sq.jd.com/{short_code('wx:' + url)}"
