"""JD Cloud's provided API (spec "接口描述"), served under `/jdcloud` behind the gateway.

Every endpoint of the spec, with its method and path; `gateway.py` checks signatures,
injects faults and keeps the journal before a request reaches these routes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match, Route

from sandbox.jdcloud import activities, crowds, instances, reach, reports, sms, wechat

PREFIX = "/jdcloud"


def _get(path: str, view) -> Route:
    return Route(path, view, methods=["GET"])


def _post(path: str, view) -> Route:
    return Route(path, view, methods=["POST"])


ROUTES = [
    _post("/master/verify", crowds.master_verify),
    _get("/tag/list/v2", crowds.tag_list),
    _post("/crowd/create/v2", crowds.crowd_create),
    _post("/crowd/edit/v2", crowds.crowd_edit),
    _post("/crowd/del", crowds.crowd_delete),
    _post("/crowd/info", crowds.crowd_info),
    _post("/crowd/list", crowds.crowd_list),
    _post("/crowd/init", crowds.crowd_init),
    _get("/crowd/instance/status/{package_id}", instances.instance_status),
    _get("/crowd/instance/status", instances.instance_status),  # the planned query form
    _post("/crowd/instance/saveas", instances.instance_save_as),
    _post("/crowd/instance/calc", instances.instance_calc),
    _post("/crowd/instance/split", instances.instance_split),
    _post("/crowd/instance/filter", reach.instance_filter),
    _post("/crowd/instance/reach", reach.instance_reach),
    _post("/shorturl/create", sms.shorturl_create),
    _post("/sms/templates", sms.sms_templates),
    _get("/sms/signature", sms.sms_signature),
    _get("/sms/balance", sms.sms_balance),
    _get("/sms/recharge", sms.sms_recharge),
    _get("/sms/consume", sms.sms_consume),
    _post("/sms/result", reach.sms_result),
    _post("/activity/create", activities.activity_create),
    _post("/report/create", reports.report_create),
    _post("/report", reports.report),
    _post("/report/pull", reports.report_pull),
    _get("/activity/wx/getAllTemplate", wechat.wechat_templates),
    _get("/activity/wx/batchGetNews", wechat.wechat_news),
    _post("/activity/wx/create", wechat.wechat_create),
    _get("/activity/wx/activityInfo", wechat.wechat_activity_info),
    _post("/activity/wx/reject", wechat.wechat_reject),
    _get("/activity/wx/convertUrl", wechat.wechat_convert_url),
    _get("/activity/wx/weChatInfo", wechat.wechat_info),
    _get("/notice/list", activities.notice_list),
    _get("/system/status", activities.system_status),
]


async def unknown_api(request: Request) -> JSONResponse:
    """The gateway's own answer for a path or method it does not route."""
    from sandbox.gateway import gateway_error  # the gateway imports this package

    if any(route.matches(request.scope)[0] == Match.PARTIAL for route in ROUTES):
        return gateway_error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here")
    return gateway_error(404, "NOT_FOUND", f"no API at {request.url.path}")


ROUTES.append(Route("/{path:path}", unknown_api, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]))
