"""Reads of the brand's Linkflow report snapshots and remembered dashboards."""

from __future__ import annotations

from collections.abc import Iterable

from reports.cdp.models import LinkflowDashboard, LinkflowReport

RECENT = 20


def recent_dashboards(*, limit: int = RECENT) -> list[LinkflowDashboard]:
    return list(LinkflowDashboard.objects.order_by("-opened_at")[:limit])


def recent_dashboard(*, dashboard_id: int) -> LinkflowDashboard | None:
    return LinkflowDashboard.objects.filter(dashboard_id=dashboard_id).first()


def recent_reports(*, limit: int = RECENT) -> list[LinkflowReport]:
    return list(LinkflowReport.objects.defer("body").order_by("-updated_at")[:limit])


def report_snapshots(*, report_ids: Iterable[int]) -> dict[int, LinkflowReport]:
    """The brand's snapshots of these reports, by Linkflow report id."""
    rows = LinkflowReport.objects.filter(report_id__in=list(report_ids)).defer("body")
    return {row.report_id: row for row in rows}
