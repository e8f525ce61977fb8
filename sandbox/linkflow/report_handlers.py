"""Reports, dashboards and short links (spec "报表", "短链接").

Report bodies and their timing are described in `sandbox.linkflow.reports`.

Short links are sandbox addresses, `{base}/linkflow/s/{code}` (6 characters for a tracking
link, 8 for a distribute link, as the spec's examples); opening one counts a click and
redirects (302) to the original URL with the `utm_*` parameters added. A distribute link
is per contact: `utm.term` must be one of the workspace's contact ids, else HTTP 420
`{"domain": "linkflow", "code": "B00008", "message": "No [contact] found with id [...]"}`
(the spec's example). Both accept `utm` as an object or as "utm.source"-style keys.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse, RedirectResponse, Response

from sandbox.linkflow.endpoint import Call, LinkflowError, invalid, not_found, ok, required

UTM_KEYS = ("source", "campaign", "medium", "content", "term")


def report(call: Call) -> Response:
    report_id = call.path_int("reportId")
    body = call.workspace.report_body(report_id, call.now, call.config["report_seconds"])
    if body is None:
        raise not_found("report", report_id)
    return ok(body)


def dashboard(call: Call) -> Response:
    dashboard_id = call.path_int("dashboardId")
    found = call.workspace.dashboards.get(dashboard_id)
    if found is None:
        raise not_found("dashboard", dashboard_id)
    name, report_ids = found
    reports = call.workspace.reports
    return ok(
        {
            "kanBanName": name,
            "reports": [{"id": rid, "reportName": reports[rid].name} for rid in report_ids],
        }
    )


def _link_request(call: Call) -> tuple[str, dict[str, str]]:
    body = call.json_object()
    url = body.get("url")
    if url in (None, ""):
        raise required("url")
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("参数不合法: url")
    nested = body.get("utm") if isinstance(body.get("utm"), dict) else {}
    utm = {}
    for key in UTM_KEYS:
        value = nested.get(key, body.get(f"utm.{key}"))
        if value not in (None, ""):
            if not isinstance(value, str | int):
                raise invalid(f"参数不合法: utm.{key}")
            utm[key] = str(value)
    return str(url), utm


def short_url(call: Call) -> Response:
    url, utm = _link_request(call)
    link = call.linkflow.new_short_link(
        app_key=call.workspace.app_key, url=url, utm=utm, contact_id=None, now=call.now
    )
    return ok({"shorturl": f"{call.base_url}/s/{link.code}"})


def short_url_distribute(call: Call) -> Response:
    url, utm = _link_request(call)
    term = utm.get("term")
    if term is None:
        raise required("utm.term")
    contact_id = int(term) if term.isdigit() else None
    if contact_id is None or not call.workspace.exists(contact_id):
        raise LinkflowError(420, "B00008", f"No [contact] found with id [{term}]", domain=True)
    link = call.linkflow.new_short_link(
        app_key=call.workspace.app_key, url=url, utm=utm, contact_id=contact_id, now=call.now
    )
    return ok({"shorturl": f"{call.base_url}/s/{link.code}"})


def follow(call: Call) -> Response:
    """`GET /linkflow/s/{code}`: what a person clicking the short link gets."""
    link = call.linkflow.short_links.get(call.path("code"))
    if link is None:
        return PlainTextResponse("Not Found", status_code=404)
    link.clicks.append(
        {
            "time": call.now.isoformat(),
            "user_agent": call.request.headers.get("user-agent", ""),
        }
    )
    return RedirectResponse(link.target(), status_code=302)
