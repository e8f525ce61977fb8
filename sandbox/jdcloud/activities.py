"""Activities awaiting JD's review (spec "活动相关"), notices and system status
(spec "公告、系统状态")."""

from __future__ import annotations

from sandbox.clock import format_datetime
from sandbox.jdcloud.envelope import CODE_INT, ApiError, Params, brand_of, endpoint
from sandbox.state import Activity, SandboxState


@endpoint(CODE_INT)
def activity_create(state: SandboxState, params: Params) -> dict:
    """Stored as pending review; JD's answer reaches the portal on `/JDCloud/activity/update`
    (the sandbox's home page sends it). Submitting the same activity_id again re-enters
    review."""
    brand = brand_of(state, params)
    activity_id = params.text("activity_id", max_length=64)
    activity_name = params.text("activity_name", max_length=100)
    start_type = params.choice("start_type", ("1", "2"))
    remark = params.text("start_type_remark", required=False, max_length=500)
    if start_type == "2" and remark is None:
        raise ApiError("启动方式为周期性执行(start_type=2)时,start_type_remark(启动方式备注)必填")
    reach_type = params.choice("activity_reach_type", ("SMS", "OTHER"))
    state.activities[(brand.master_id, activity_id)] = Activity(
        master_id=brand.master_id,
        activity_id=activity_id,
        activity_name=activity_name,
        activity_desc=params.text("activity_desc", required=False),
        preview_url=params.text("preview_url", required=False, max_length=2000),
        start_type=start_type,
        start_type_remark=remark,
        activity_reach_type=reach_type,
        submitted_at=state.now(),
    )
    return {"status": "0"}


def _time(value) -> str:
    return format_datetime(value) if value else ""


@endpoint(CODE_INT)
def notice_list(state: SandboxState, params: Params) -> list:
    """`notice_status` is "0" once `expire_time` has passed (an empty expire_time never
    expires)."""
    now = state.now()
    return [
        {
            "notice_code": notice["notice_code"],
            "title": notice["title"],
            "content": notice["content"],
            "notice_type": notice["notice_type"],
            "notice_status": "0" if notice["expire_time"] and notice["expire_time"] <= now else "1",
            "start_time": _time(notice["start_time"]),
            "end_time": _time(notice["end_time"]),
            "expire_time": _time(notice["expire_time"]),
        }
        for notice in state.notices
    ]


@endpoint(CODE_INT)
def system_status(state: SandboxState, params: Params) -> dict:
    """Spec "获取系统状态": answers only while up; while down the gateway answers 503."""
    system_code = params.choice("system_code", ("ECRM_API",))
    return {"system_code": system_code, "status": "1"}
