"""REST API of reports: rows, on-demand re-pull, split uplift."""

from __future__ import annotations

from datetime import date

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from crowds.models import CrowdInstance
from portal.api import (
    ErrorEnvelope,
    ErrorsOutput,
    RemoteFailed,
    field_error,
    request_fields,
)
from portal.integrations.jdcloud.errors import JDCloudError, JDCloudRejected
from reports import services
from reports.models import AMOUNT_METRICS, COUNT_METRICS, TOP5_FIELDS, ReportRow
from reports.parsing import top5_entries
from reports.uplift import split_uplift


class JDFailed(RemoteFailed):
    """JD Cloud unreachable or busy: 502, `retryable`."""


class JDRefused(RemoteFailed):
    """JD Cloud answered and refused (its message says why): not a gateway failure."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "jdcloud_refused"


def _jd_error(exc: JDCloudError) -> APIException:
    """JD's refusal is 409; JD unreachable, or answering that it is busy (`JDBusy`), 502:
    `retryable` says whether the same request may succeed later."""
    kind = JDRefused if isinstance(exc, JDCloudRejected) and not exc.retryable else JDFailed
    return kind({"detail": getattr(exc, "msg", "") or str(exc), "retryable": exc.retryable})


class TopSkuOutput(serializers.Serializer):
    metric = serializers.CharField()
    rank = serializers.IntegerField()
    sku_id = serializers.CharField()
    value = serializers.DecimalField(max_digits=16, decimal_places=2)


class ReportRowOutput(serializers.ModelSerializer):
    top_skus = serializers.SerializerMethodField()

    class Meta:
        model = ReportRow
        fields = [
            "id",
            "package_id",
            "report_date",
            "report_type",
            "reach_type",
            "shop_id",
            "op_time",
            *COUNT_METRICS,
            *AMOUNT_METRICS,
            "top5_raw",
            "top5_malformed",
            "top_skus",
            "pulled_at",
        ]

    @extend_schema_field(TopSkuOutput(many=True))
    def get_top_skus(self, row: ReportRow) -> list[dict]:
        """Each readable top-5 list's entries, lists in the spec's order, by rank."""
        top5 = row.top5 or {}
        entries = [
            {"metric": name, "rank": e.rank, "sku_id": e.sku_id, "value": e.value}
            for name in TOP5_FIELDS
            for e in top5_entries(top5.get(name, ""))
        ]
        return TopSkuOutput(entries, many=True).data


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise field_error(name, _("Use yyyy-MM-dd.")) from exc


class ReportRowViewSet(ErrorEnvelope, mixins.ListModelMixin, viewsets.GenericViewSet):
    """JD's daily marketing report rows of this brand."""

    serializer_class = ReportRowOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReportRow.objects.none()
        params = self.request.query_params
        rows = ReportRow.objects.all()
        if params.get("package_id"):
            rows = rows.filter(package_id=params["package_id"])
        if params.get("report_type"):
            rows = rows.filter(report_type=params["report_type"])
        if start := _date(params.get("date_from"), "date_from"):
            rows = rows.filter(report_date__gte=start)
        if end := _date(params.get("date_to"), "date_to"):
            rows = rows.filter(report_date__lte=end)
        return rows

    @extend_schema(
        parameters=[
            OpenApiParameter("package_id", str),
            OpenApiParameter("report_type", str, enum=["click", "exposure"]),
            OpenApiParameter("date_from", str, description="yyyy-MM-dd"),
            OpenApiParameter("date_to", str, description="yyyy-MM-dd"),
        ],
        responses={200: ReportRowOutput(many=True), 400: ErrorsOutput},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=inline_serializer("ReportPullInput", {"report_date": serializers.DateField()}),
        responses={
            200: inline_serializer("ReportPullOutput", {"result": serializers.DictField()}),
            400: ErrorsOutput,
        },
    )
    @action(detail=False, methods=["post"])
    def pull(self, request):
        """Re-pull a day on demand: `/report/pull`, then `/report` for both types."""
        report_date = _date(str(request_fields(request).get("report_date") or ""), "report_date")
        if report_date is None:
            raise field_error("report_date", _("Required, yyyy-MM-dd."))
        try:
            result = services.report_repull(brand=request.brand, report_date=report_date)
        except JDCloudError as exc:
            raise _jd_error(exc) from exc
        return Response({"result": result})

    @extend_schema(
        request=inline_serializer("ReportCreateInput", {"instance": serializers.IntegerField()}),
        responses={
            200: inline_serializer("ReportCreateOutput", {"status": serializers.CharField()}),
            400: ErrorsOutput,
        },
    )
    @action(detail=False, methods=["post"], url_path="create")
    def create_report(self, request):
        """`/report/create` for a package that was not reached (reached ones get reports
        by themselves), with the ISV's partner id."""
        raw = str(request_fields(request).get("instance") or "")
        if not raw.isdecimal():
            raise field_error("instance", _("The id of a generated crowd instance."))
        instance = get_object_or_404(CrowdInstance, pk=int(raw))
        try:
            services.report_create(brand=request.brand, package_id=instance.package_id)
        except JDCloudError as exc:
            raise _jd_error(exc) from exc
        return Response({"status": "0"})

    @extend_schema(
        parameters=[
            OpenApiParameter("split", int, required=True, description="the split's source instance")
        ],
        responses={
            200: inline_serializer(
                "UpliftOutput",
                {"split": serializers.IntegerField(), "comparisons": serializers.ListField()},
            ),
            400: ErrorsOutput,
        },
    )
    @action(detail=False, methods=["get"])
    def uplift(self, request):
        split = request.query_params.get("split", "")
        if not split.isdecimal():
            raise field_error("split", _("The id of the instance that was split."))
        parent = get_object_or_404(CrowdInstance, pk=int(split))
        comparisons = split_uplift(
            parent, report_type=request.query_params.get("report_type", "exposure")
        )
        return Response({"split": parent.pk, "comparisons": [uplift_dict(c) for c in comparisons]})


def uplift_dict(comparison) -> dict:
    def arm(a):
        return {
            "package_id": a.package_id,
            "name": a.name,
            "reached": a.reached,
            "people": a.people,
            "converted": a.converted,
            "conversion": a.conversion,
            "ord_amount_per_person": a.ord_amount_per_person,
            "pay_amount_per_person": a.pay_amount_per_person,
        }

    return {
        "control": arm(comparison.control),
        "treatment": arm(comparison.treatment),
        "absolute_uplift": comparison.absolute,
        "relative_uplift": comparison.relative,
        "ci95": [comparison.ci_low, comparison.ci_high],
        "significant": comparison.significant,
        "too_small": comparison.too_small,
        "ord_amount_per_person_diff": comparison.ord_amount_per_person_diff,
        "pay_amount_per_person_diff": comparison.pay_amount_per_person_diff,
    }
