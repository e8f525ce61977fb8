"""Pages of Linkflow reports and dashboards, under /cdp/reports/.

Linkflow has no endpoint that lists a workspace's dashboards or reports (spec 报表 has only
获取报表结果 and 获取仪表盘定义), so the index opens one by its ID and lists the ones this
brand opened before. A report page shows the local snapshot at once and, while Linkflow
computes it, `static/reports/cdp/report.js` polls the REST API until it is ready.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from brands.access import brand_required
from brands.linkflow import LinkflowNotConnected
from portal.integrations.linkflow.errors import LinkflowError
from reports.cdp import selectors, services
from reports.cdp.apis import LinkflowReportOutput
from reports.cdp.models import LinkflowReportStatus

# How often the report page asks the API while Linkflow computes.
PAGE_POLL_MILLISECONDS = 2000


class OpenDashboardForm(forms.Form):
    dashboard_id = forms.IntegerField(
        label=gettext_lazy("Dashboard ID"), min_value=1, max_value=services.MAX_LINKFLOW_ID
    )


class OpenReportForm(forms.Form):
    report_id = forms.IntegerField(
        label=gettext_lazy("Report ID"), min_value=1, max_value=services.MAX_LINKFLOW_ID
    )


def _linkflow_id(value: int) -> int:
    if not 0 < value <= services.MAX_LINKFLOW_ID:
        raise Http404(_("No such Linkflow report or dashboard."))
    return value


def _not_connected(request, exc: LinkflowNotConnected, **context):
    return render(request, "reports/cdp/not_connected.html", {"not_connected": str(exc), **context})


@brand_required
def dashboards(request):
    """Open a dashboard or a report by ID; the ones opened before, newest first."""
    dashboard_form = OpenDashboardForm(request.GET if "dashboard_id" in request.GET else None)
    report_form = OpenReportForm(request.GET if "report_id" in request.GET else None)
    if dashboard_form.is_bound and dashboard_form.is_valid():
        return redirect("cdp_reports:dashboard", dashboard_form.cleaned_data["dashboard_id"])
    if report_form.is_bound and report_form.is_valid():
        return redirect("cdp_reports:report", report_form.cleaned_data["report_id"])
    context = {
        "dashboard_form": dashboard_form,
        "report_form": report_form,
        "recent_dashboards": selectors.recent_dashboards(),
        "recent_reports": selectors.recent_reports(),
    }
    if not request.brand.linkflow_connected:
        context["not_connected"] = str(LinkflowNotConnected())
    return render(request, "reports/cdp/dashboards.html", context)


@brand_required
def dashboard(request, dashboard_id: int):
    """A dashboard's reports, read live from Linkflow."""
    dashboard_id = _linkflow_id(dashboard_id)
    try:
        board = services.linkflow_dashboard_open(brand=request.brand, dashboard_id=dashboard_id)
    except LinkflowNotConnected as exc:
        return _not_connected(request, exc, dashboard_id=dashboard_id)
    except LinkflowError as exc:
        context = {"dashboard_id": dashboard_id, "linkflow_error": services.describe(exc)}
        return render(request, "reports/cdp/dashboard.html", context)
    snapshots = selectors.report_snapshots(report_ids=[r["id"] for r in board.reports])
    rows = [(r["id"], r["reportName"], snapshots.get(r["id"])) for r in board.reports]
    context = {"dashboard_id": dashboard_id, "dashboard": board, "rows": rows}
    return render(request, "reports/cdp/dashboard.html", context)


@brand_required
def report(request, report_id: int):
    """A report drawn from its snapshot; opening one never seen starts fetching it, and
    `?refresh=1` fetches it again."""
    report_id = _linkflow_id(report_id)
    refresh = request.GET.get("refresh") == "1" and request.brand_access == "member"
    try:
        snapshot = services.linkflow_report_open(
            brand=request.brand, report_id=report_id, refresh=refresh
        )
    except LinkflowNotConnected as exc:
        return _not_connected(request, exc, report_id=report_id)
    state = LinkflowReportOutput(snapshot).data
    context = {
        "report": snapshot,
        "state": state,
        "chart": state["chart"],
        "from_dashboard": _dashboard_of(request),
        "poll_ms": PAGE_POLL_MILLISECONDS,
        "labels": {
            "status": {value: str(label) for value, label in LinkflowReportStatus.choices},
            "poll_failed": _("The status could not be refreshed; reload the page."),
            "empty": _("The report has no data."),
        },
    }
    return render(request, "reports/cdp/report.html", context)


def _dashboard_of(request):
    """The dashboard the user came from (`?dashboard=<id>`), for the breadcrumbs."""
    raw = request.GET.get("dashboard", "")
    if not raw.isdigit() or not 0 < int(raw) <= services.MAX_LINKFLOW_ID:
        return None
    return selectors.recent_dashboard(dashboard_id=int(raw))


@require_POST
@brand_required(allow_preview=False)
def report_refresh(request, report_id: int):
    report_id = _linkflow_id(report_id)
    try:
        snapshot = services.linkflow_report_open(
            brand=request.brand, report_id=report_id, refresh=True
        )
    except LinkflowNotConnected as exc:
        return _not_connected(request, exc, report_id=report_id)
    if snapshot.in_flight:
        messages.info(request, _("Asked Linkflow for the report again."))
    return redirect("cdp_reports:report", report_id)
