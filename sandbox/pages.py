"""The sandbox's HTML: the home page (`GET /`) and its buttons, which call the portal's
ISV endpoints as JD Cloud would (push or freeze a brand, review an activity, open a
free-login preview), and a summary of the Linkflow workspaces. Plain f-strings; every
value goes through `html.escape`."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox import isv
from sandbox.clock import format_datetime
from sandbox.state import SandboxState

STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.3rem .5rem}
th{background:#f3f3f3;text-align:left}code,pre{font-size:.85rem}.muted{color:#777}
.error{color:#b00}form{display:inline}button{margin:.1rem}pre{background:#f7f7f7;padding:.8rem}
"""
CROWD_TYPES = {
    1: "人群提取",
    2: "人群计算",
    3: "人群另存",
    4: "人群上传",
    5: "按比例抽取",
    6: "按人数抽取",
    7: "响应节点筛选",
}
STATUS_TEXT = {"0": "生成中", "1": "生成失败", "2": "生成成功"}


def page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p class='muted'>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _hidden(**values: object) -> str:
    return "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(str(v))}'>"
        for k, v in values.items()
    )


def _brand_rows(state: SandboxState) -> list[list[str]]:
    portal = state.settings.portal_url
    rows = []
    for brand in state.brands.values():
        status = "正常" if brand.status == 1 else "冻结"
        toggle = 0 if brand.status == 1 else 1
        actions = (
            f"<form method='post' action='/isv/push-brand'>{_hidden(master_id=brand.master_id)}"
            "<button>推送品牌(master/sync)</button></form>"
            f"<form method='post' action='/isv/edit-brand'>"
            f"{_hidden(master_id=brand.master_id, status=toggle)}"
            f"<button>{'冻结' if toggle == 0 else '解冻'}(master/edit)</button></form>"
            f"<form method='get' action='/isv/preview-link'>{_hidden(master_id=brand.master_id)}"
            f"<input name='preview_url' value='{escape(portal)}/' size='28'>"
            "<button>免登预览</button></form>"
        )
        rows.append(
            [
                f"<code>{escape(brand.master_id)}</code>",
                escape(brand.name),
                escape(brand.shop_id),
                escape("、".join(brand.pins)),
                f"{brand.public_balance} / {brand.private_balance}",
                escape(status),
                actions,
            ]
        )
    return rows


def _instance_rows(state: SandboxState) -> list[list[str]]:
    now = state.now()
    rows = []
    for instance in sorted(state.instances.values(), key=lambda i: i.created_at, reverse=True):
        rows.append(
            [
                f"<code>{escape(instance.package_id)}</code>",
                escape(instance.name or ""),
                escape(CROWD_TYPES.get(instance.crowd_type, str(instance.crowd_type))),
                escape(STATUS_TEXT[instance.status(now)]),
                str(instance.visible_size(now)),
                escape(instance.reach.type if instance.reach else ""),
                escape(state.brands[instance.master_id].name),
            ]
        )
    return rows[:200]


def _activity_rows(state: SandboxState) -> list[list[str]]:
    rows = []
    for activity in state.activities.values():
        ids = _hidden(master_id=activity.master_id, activity_id=activity.activity_id)
        actions = (
            f"<form method='post' action='/isv/review-activity'>{ids}"
            "<input name='audit_remark' placeholder='审核备注' size='12'>"
            "<input name='auditor' value='sandbox_auditor' size='12'>"
            "<button name='approve_status' value='1'>通过</button>"
            "<button name='approve_status' value='2'>驳回</button></form>"
        )
        review = {"pending": "待审核", "approved": "已通过", "rejected": "已驳回"}[activity.review]
        rows.append(
            [
                escape(activity.activity_id),
                escape(activity.activity_name),
                escape(state.brands[activity.master_id].name),
                escape(activity.activity_reach_type),
                escape(activity.preview_url or ""),
                escape(review + (f"({activity.audit_remark})" if activity.audit_remark else "")),
                actions if activity.review == "pending" else "",
            ]
        )
    return rows


def _linkflow_rows(state: SandboxState) -> list[list[str]]:
    return [
        [
            f"<code>{escape(ws.app_key)}</code>",
            str(ws.contact_count()),
            str(len(ws.groups)),
            str(len(ws.tags)),
            str(len(ws.orders.orders)),
            str(len(ws.messages)),
            "、".join(str(report_id) for report_id in ws.reports),
        ]
        for ws in state.linkflow.workspaces.values()
    ]


async def home(request: Request) -> HTMLResponse:
    state: SandboxState = request.app.state.sandbox
    async with state.lock:
        clock = state.clock.describe()
        body = (
            f"<p>沙箱时间 {escape(format_datetime(state.now()))}({escape(clock['mode'])},"
            f"seed {state.seed});系统状态 {'正常' if state.system_up else '升级中'};"
            f"门户 <code>{escape(state.settings.portal_url)}</code></p>"
            "<p><a href='/health'>/health</a> · <a href='/_control/state'>/_control/state</a> · "
            "<a href='/_control/requests'>/_control/requests</a> · "
            "<a href='/_control/faults'>/_control/faults</a></p>"
            "<h2>品牌商</h2>"
            + _table(
                ["master_id", "名称", "店铺", "pin", "短信余额(公/私)", "状态", "操作"],
                _brand_rows(state),
                "没有品牌商",
            )
            + "<h2>待审核与已审核的活动</h2>"
            + _table(
                ["活动ID", "名称", "品牌商", "触达方式", "预览地址", "审核", "操作"],
                _activity_rows(state),
                "还没有提交的活动",
            )
            + "<h2>人群对象实例</h2>"
            + _table(
                ["package_id", "名称", "类型", "状态", "人数", "触达", "品牌商"],
                _instance_rows(state),
                "还没有实例",
            )
            + "<h2>Linkflow CDP(<code>/linkflow</code>)</h2>"
            "<p>每个 App Key 一个工作区;令牌由 <code>GET /linkflow/token</code> 换取。"
            "<a href='/_control/linkflow'>/_control/linkflow</a> · "
            "<a href='/_control/linkflow/messages'>回写的消息</a> · "
            "<a href='/_control/linkflow/shorturls'>短链接</a> · "
            "<a href='/_control/linkflow/tags'>标签</a></p>"
            + _table(
                ["App Key", "联系人", "群组", "标签", "订单", "收到的消息", "报表"],
                _linkflow_rows(state),
                "没有 App",
            )
        )
    return HTMLResponse(page("京东云沙箱", body))


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))


async def _call_portal(request: Request, call: isv.IsvRequest) -> tuple[str, bool]:
    transport = getattr(request.app.state, "isv_transport", None)
    async with httpx.AsyncClient(
        timeout=isv.TIMEOUT_SECONDS, transport=transport, follow_redirects=False
    ) as client:
        try:
            response = await isv.send_async(call, client)
        except httpx.HTTPError as exc:
            return f"请求失败:{exc!r}", False
    try:
        accepted = response.is_success and str(response.json().get("code")) == "0"
    except (ValueError, AttributeError):
        accepted = False
    return isv.describe_response(response), accepted


def _result_page(call: isv.IsvRequest, answer: str, accepted: bool) -> HTMLResponse:
    verdict = "门户已接受" if accepted else "门户未接受(code≠0或HTTP错误)"
    body = (
        f"<p>{escape(verdict)}</p><h2>请求</h2><pre>{escape(call.describe())}</pre>"
        f"<h2>门户的回答</h2><pre>{escape(answer)}</pre><p><a href='/'>返回</a></p>"
    )
    return HTMLResponse(page("调用门户的ISV接口", body), status_code=200 if accepted else 502)


def _missing(what: str) -> HTMLResponse:
    return HTMLResponse(page("错误", f"<p class='error'>{escape(what)}</p>"), status_code=404)


async def push_brand(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    form = await _form(request)
    brand = state.brands.get(form.get("master_id", ""))
    if brand is None:
        return _missing("品牌商不存在")
    call = isv.push_brand_request(
        state.settings,
        master_id=brand.master_id,
        master_name=brand.name,
        master_desc=brand.desc or brand.name,
        shop_id=brand.shop_id,
        shop_type=brand.shop_type,
        user_type=brand.user_type,
        expire_time=brand.expire_time,
        status=brand.status,
    )
    return _result_page(call, *await _call_portal(request, call))


async def edit_brand(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    form = await _form(request)
    brand = state.brands.get(form.get("master_id", ""))
    if brand is None:
        return _missing("品牌商不存在")
    status = 0 if form.get("status") == "0" else 1
    expire_time = int(form["expire_time"]) if form.get("expire_time", "").isdigit() else None
    call = isv.edit_brand_request(
        state.settings,
        master_id=brand.master_id,
        expire_time=expire_time or brand.expire_time,
        status=status,
    )
    answer, accepted = await _call_portal(request, call)
    if accepted:
        async with state.lock:
            brand.status, brand.expire_time = status, expire_time or brand.expire_time
    return _result_page(call, answer, accepted)


async def review_activity(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    form = await _form(request)
    activity = state.activities.get((form.get("master_id", ""), form.get("activity_id", "")))
    if activity is None:
        return _missing("活动不存在")
    approve = "2" if form.get("approve_status") == "2" else "1"
    remark = form.get("audit_remark") or ("审核通过" if approve == "1" else "审核驳回")
    call = isv.review_activity_request(
        state.settings,
        activity_id=activity.activity_id,
        approve_status=approve,
        audit_remark=remark,
        auditor=form.get("auditor") or "sandbox_auditor",
        master_id=activity.master_id,
    )
    answer, accepted = await _call_portal(request, call)
    if accepted:
        async with state.lock:
            activity.review = "approved" if approve == "1" else "rejected"
            activity.audit_remark, activity.auditor = remark, call.body["auditor"]
    return _result_page(call, answer, accepted)


async def open_preview(request: Request) -> Response:
    """Sends the browser to the portal's free-login URL, as JD Cloud's console does."""
    state: SandboxState = request.app.state.sandbox
    master_id = request.query_params.get("master_id", "")
    if master_id not in state.brands:
        return _missing("品牌商不存在")
    target = request.query_params.get("preview_url") or f"{state.settings.portal_url}/"
    link = isv.preview_link(state.settings, master_id=master_id, preview_url=target)
    return RedirectResponse(link, status_code=302)


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/isv/push-brand", push_brand, methods=["POST"]),
    Route("/isv/edit-brand", edit_brand, methods=["POST"]),
    Route("/isv/review-activity", review_activity, methods=["POST"]),
    Route("/isv/preview-link", open_preview, methods=["GET"]),
]
