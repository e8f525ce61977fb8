"""REST: the brand's Linkflow reports (local snapshots, fetched by a Celery poll) and
dashboards (live), under /api/v1/cdp/.

Not connected → 409; a Linkflow refusal or outage → 502 with Linkflow's code and message.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.linkflow import LinkflowNotConnected
from portal.integrations.linkflow.errors import LinkflowError, LinkflowRejected
from reports.cdp import selectors, services
from reports.cdp.charts import chart_of
from reports.cdp.models import LinkflowReport


def _may_refresh(request) -> bool:
    return getattr(request, "brand_access", None) == "member" and request.brand.is_usable


class BrandMayRead(BasePermission):
    """A brand is attached to the session; only a usable brand's members may refresh."""

    def has_permission(self, request, view) -> bool:
        if getattr(request, "brand", None) is None:
            return False
        return request.method in SAFE_METHODS or _may_refresh(request)


class NotConnected(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "linkflow_not_connected"

    def __init__(self, exc: LinkflowNotConnected) -> None:
        super().__init__()
        self.detail = {"detail": str(exc), "code": self.default_code}


class LinkflowFailed(APIException):
    """`{"detail": "B00012: …", "code": "B00012", "message": "…"}`: Linkflow refused or
    could not be reached."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "linkflow_error"

    def __init__(self, exc: LinkflowError) -> None:
        super().__init__()
        self.detail = {
            "detail": services.describe(exc),
            "code": getattr(exc, "code", "") or self.default_code,
            "message": getattr(exc, "message", "") or str(exc),
        }


ERROR_BODY = inline_serializer(
    "CdpLinkflowErrorOutput",
    {
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
        "message": serializers.CharField(required=False),
    },
)


def _linkflow_id(value: int) -> int:
    """Linkflow ids are Longs; anything larger is no report of this brand."""
    if not 0 < value <= services.MAX_LINKFLOW_ID:
        raise Http404
    return value


class LinkflowReportOutput(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display")
    chart = serializers.SerializerMethodField(
        help_text="The body normalized for drawing: kind, labels, series, numbers, table."
    )
    body = serializers.JSONField(
        allow_null=True, help_text="Linkflow's answer as received, once ready (null before)."
    )

    class Meta:
        model = LinkflowReport
        fields = [
            "report_id",
            "name",
            "chart_type",
            "status",
            "status_display",
            "error",
            "requested_at",
            "ready_at",
            "poll_count",
            "body",
            "chart",
        ]

    def get_chart(self, report: LinkflowReport) -> dict[str, Any] | None:
        return chart_of(report.body)


class ReportApi(APIView):
    """A Linkflow report (`/open/report/{reportId}`) as the brand's last snapshot.

    GET answers at once; with no snapshot yet (or `?refresh=1`) it starts fetching, and
    the answer says `pending` / `computing` until a Celery poll stores the body (`ready`)
    or gives up (`failed`, with the reason). POST fetches it again."""

    permission_classes = [BrandMayRead]

    @extend_schema(
        operation_id="cdp_report_retrieve",
        responses={200: LinkflowReportOutput, 409: ERROR_BODY},
    )
    def get(self, request, report_id: int):
        refresh = request.query_params.get("refresh") == "1" and _may_refresh(request)
        report = self._open(request, report_id, refresh=refresh)
        return Response(LinkflowReportOutput(report).data)

    @extend_schema(
        operation_id="cdp_report_refresh",
        request=None,
        responses={202: LinkflowReportOutput, 409: ERROR_BODY},
    )
    def post(self, request, report_id: int):
        report = self._open(request, report_id, refresh=True)
        return Response(LinkflowReportOutput(report).data, status=status.HTTP_202_ACCEPTED)

    @staticmethod
    def _open(request, report_id: int, *, refresh: bool) -> LinkflowReport:
        try:
            return services.linkflow_report_open(
                brand=request.brand, report_id=_linkflow_id(report_id), refresh=refresh
            )
        except LinkflowNotConnected as exc:
            raise NotConnected(exc) from exc


class DashboardReportOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="Linkflow report ID")
    name = serializers.CharField(help_text="reportName")
    status = serializers.CharField(
        allow_null=True, help_text="Status of the brand's snapshot; null when never opened."
    )


class DashboardOutput(serializers.Serializer):
    dashboard_id = serializers.IntegerField()
    name = serializers.CharField(help_text="kanBanName")
    reports = DashboardReportOutput(many=True)


class DashboardApi(APIView):
    """A Linkflow dashboard (`/open/dashboard/{dashboardId}/summary`), read live: its name
    and reports, each with the status of the brand's snapshot of it."""

    permission_classes = [BrandMayRead]

    @extend_schema(
        operation_id="cdp_dashboard_retrieve",
        responses={
            200: DashboardOutput,
            404: OpenApiResponse(description="Linkflow has no such dashboard, or a bad id"),
            409: ERROR_BODY,
            502: ERROR_BODY,
        },
    )
    def get(self, request, dashboard_id: int):
        try:
            dashboard = services.linkflow_dashboard_open(
                brand=request.brand, dashboard_id=_linkflow_id(dashboard_id)
            )
        except LinkflowNotConnected as exc:
            raise NotConnected(exc) from exc
        except LinkflowRejected as exc:
            if exc.http_status == 404 or exc.code == "B00008":  # no such dashboard
                raise Http404(str(exc)) from exc
            raise LinkflowFailed(exc) from exc
        except LinkflowError as exc:
            raise LinkflowFailed(exc) from exc
        snapshots = selectors.report_snapshots(report_ids=[r["id"] for r in dashboard.reports])
        reports = [
            {
                "id": r["id"],
                "name": r["reportName"],
                "status": snapshots[r["id"]].status if r["id"] in snapshots else None,
            }
            for r in dashboard.reports
        ]
        output = {"dashboard_id": dashboard.dashboard_id, "name": dashboard.name}
        return Response(DashboardOutput({**output, "reports": reports}).data)
