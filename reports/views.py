"""HTML pages of the reports app, under /reports/: the brand's overview across packages,
one package's report, and the A/B uplift of a split. Each page answers `?format=csv` with
the table it shows (`reports.csv_export`).

JD's report rows are daily increments except `people_sent_num` and `delivered_num`, which
are running totals of the whole campaign (spec 获取人群营销报表: "活动全量"): over a period
they are taken at their largest, never summed. For click reports JD says to ignore pv and
uv ("如果report_type是click 请忽略此指标"), so those pages leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, Exists, Max, Min, OuterRef, Subquery, Sum, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from brands.access import brand_required
from campaigns.models import Reach, ReachType
from crowds.models import CrowdInstance, InstanceOrigin
from portal.integrations.jdcloud.errors import JDCloudError
from portal.integrations.jdcloud.factory import jdcloud_client
from reports import services
from reports.csv_export import csv_filename, csv_response
from reports.models import AMOUNT_METRICS, COUNT_METRICS, TOP5_FIELDS, ReportRow, ReportType
from reports.parsing import TopEntry, top5_entries
from reports.uplift import Comparison, split_uplift

PAGE_SIZE = 50
DEFAULT_DAYS = 30
ISO_DATE = "%Y-%m-%d"
CENT = Decimal("0.01")
COUPON_METRICS = ("coupon_pins", "coupon_use_pins", "coupon_orders", "coupon_amount")
# Spec 获取人群营销报表: the seven `*_top5` lists and what their values count.
TOP5_LABELS = {
    "browse_sku_top5": gettext_lazy("Most viewed products (items viewed)"),
    "cart_add_top5": gettext_lazy("Most added to cart (items)"),
    "follow_product_top5": gettext_lazy("Most followed products (follows)"),
    "ord_qtty_top5": gettext_lazy("Most ordered (items)"),
    "ord_amount_top5": gettext_lazy("Highest order amount"),
    "pay_qtty_top5": gettext_lazy("Most paid for (items)"),
    "pay_amount_top5": gettext_lazy("Highest paid amount"),
}
MONEY_TOP5 = {"ord_amount_top5", "pay_amount_top5"}


def _label(name: str) -> str:
    """A metric's name as the model declares it."""
    return str(ReportRow._meta.get_field(name).verbose_name)


def _reach_type_label(value: str) -> str:
    if value in ("", "NULL"):
        return _("Not reached")
    try:
        return str(ReachType(value).label)
    except ValueError:
        return value


def _can_write(request: HttpRequest) -> bool:
    return request.brand_access == "member"


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _next_or(request: HttpRequest, fallback: str) -> str:
    candidate = request.POST.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def _money(value) -> Decimal:
    """Sums of amounts come back from SQLite without their scale ("301.5")."""
    return Decimal(value or 0).quantize(CENT)


def _ratio(part, whole) -> float | None:
    return float(part) / float(whole) if whole else None


def _percent(value: float | None) -> float | None:
    return None if value is None else value * 100


# --- The period a page shows ----------------------------------------------------------


class PeriodForm(forms.Form):
    date_from = forms.DateField(required=False, input_formats=[ISO_DATE])
    date_to = forms.DateField(required=False, input_formats=[ISO_DATE])
    report_type = forms.ChoiceField(required=False, choices=ReportType.choices)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    report_type: str
    errors: list[str] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def _last_days(days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """JD publishes a day's reports the next day, so the last N days end yesterday."""
    yesterday = timezone.localdate() - timedelta(days=1)
    return yesterday - timedelta(days=days - 1), yesterday


def _period(request: HttpRequest, *, default_range: tuple[date, date], default_type: str) -> Period:
    form = PeriodForm(request.GET)
    if not form.is_valid():
        errors = [error for errors in form.errors.values() for error in errors]
        return Period(*default_range, report_type=default_type, errors=errors)
    data = form.cleaned_data
    return Period(
        start=data["date_from"] or default_range[0],
        end=data["date_to"] or default_range[1],
        report_type=data["report_type"] or default_type,
    )


def _rows_in(period: Period):
    return ReportRow.objects.filter(
        report_type=period.report_type, report_date__range=(period.start, period.end)
    )


# --- Overview ----------------------------------------------------------------------------


@dataclass
class PackageTotals:
    package_id: str
    reach_type: str
    delivered: int
    uv: int
    cart_num: int
    ord_pins: int
    ord_num: int
    ord_amount: Decimal
    pay_pins: int
    pay_amount: Decimal
    coupon_pins: int
    coupon_use_pins: int
    coupon_orders: int
    coupon_amount: Decimal
    days: int
    name: str = ""

    @property
    def reach_type_label(self) -> str:
        return _reach_type_label(self.reach_type)

    @property
    def conversion(self) -> float | None:
        """Paying people over people reached; none for a package that was not reached."""
        return _ratio(self.pay_pins, self.delivered)

    @property
    def conversion_percent(self) -> float | None:
        return _percent(self.conversion)


def _package_totals(period: Period) -> list[PackageTotals]:
    grouped = (
        _rows_in(period)
        .values("package_id")
        .annotate(
            reach=Max("reach_type"),
            delivered=Max("delivered_num"),
            uv_sum=Sum("uv"),
            cart_sum=Sum("cart_num"),
            ord_pins_sum=Sum("ord_pins"),
            ord_num_sum=Sum("ord_num"),
            ord_amount_sum=Sum("ord_amount"),
            pay_pins_sum=Sum("pay_pins"),
            pay_amount_sum=Sum("pay_amount"),
            coupon_pins_sum=Sum("coupon_pins"),
            coupon_use_pins_sum=Sum("coupon_use_pins"),
            coupon_orders_sum=Sum("coupon_orders"),
            coupon_amount_sum=Sum("coupon_amount"),
            day_count=Count("id"),
        )
        .order_by("-pay_amount_sum", "package_id")
    )
    return [
        PackageTotals(
            package_id=g["package_id"],
            reach_type=g["reach"] or "",
            delivered=g["delivered"] or 0,
            uv=g["uv_sum"] or 0,
            cart_num=g["cart_sum"] or 0,
            ord_pins=g["ord_pins_sum"] or 0,
            ord_num=g["ord_num_sum"] or 0,
            ord_amount=_money(g["ord_amount_sum"]),
            pay_pins=g["pay_pins_sum"] or 0,
            pay_amount=_money(g["pay_amount_sum"]),
            coupon_pins=g["coupon_pins_sum"] or 0,
            coupon_use_pins=g["coupon_use_pins_sum"] or 0,
            coupon_orders=g["coupon_orders_sum"] or 0,
            coupon_amount=_money(g["coupon_amount_sum"]),
            days=g["day_count"],
        )
        for g in grouped
    ]


def _name_packages(packages: list[PackageTotals], period: Period) -> None:
    """Names of the packages the portal made; packages made elsewhere keep their ID."""
    names = dict(
        CrowdInstance.objects.filter(
            package_id__in=_rows_in(period).values("package_id")
        ).values_list("package_id", "name")
    )
    for package in packages:
        package.name = names.get(package.package_id) or ""


def _overview_totals(packages: list[PackageTotals]) -> dict:
    totals = {
        name: sum((getattr(p, name) for p in packages), start=CENT * 0 if amount else 0)
        for name, amount in (
            ("delivered", False),
            ("pay_pins", False),
            ("pay_amount", True),
            ("ord_amount", True),
            ("coupon_pins", False),
            ("coupon_use_pins", False),
            ("coupon_orders", False),
            ("coupon_amount", True),
        )
    }
    totals["conversion_percent"] = _percent(_ratio(totals["pay_pins"], totals["delivered"]))
    return totals


def _overview_trend(period: Period) -> dict:
    """Paid amount and paying people per day over all packages; days without any row are
    gaps, not zeros (the day may not have been pulled)."""
    by_day = {
        r["report_date"]: r
        for r in _rows_in(period)
        .values("report_date")
        .annotate(amount=Sum("pay_amount"), people=Sum("pay_pins"))
        .order_by()
    }
    if not by_day:
        return {}
    days = [d for d in period.days if min(by_day) <= d <= max(by_day)]
    return {
        "labels": [d.isoformat() for d in days],
        "series": [
            {
                "label": _label("pay_amount"),
                "data": [float(by_day[d]["amount"]) if d in by_day else None for d in days],
                "axis": "money",
            },
            {
                "label": _label("pay_pins"),
                "data": [by_day[d]["people"] if d in by_day else None for d in days],
                "axis": "count",
            },
        ],
        "axes": {"money": _("Amount (¥)"), "count": _label("pay_pins")},
    }


OVERVIEW_CSV_COLUMNS = (
    ("package_id", gettext_lazy("Package ID")),
    ("name", gettext_lazy("Package name")),
    ("reach_type_label", gettext_lazy("Reach type")),
    ("days", gettext_lazy("Days with data")),
    ("delivered", None),
    ("uv", None),
    ("cart_num", None),
    ("ord_pins", None),
    ("ord_num", None),
    ("ord_amount", None),
    ("pay_pins", None),
    ("pay_amount", None),
    ("conversion_percent", gettext_lazy("Conversion (%)")),
    ("coupon_pins", None),
    ("coupon_use_pins", None),
    ("coupon_orders", None),
    ("coupon_amount", None),
)


def _column_label(name: str, label) -> str:
    if label is not None:
        return str(label)
    return _label("delivered_num" if name == "delivered" else name)


def _overview_csv(packages: list[PackageTotals], period: Period) -> HttpResponse:
    def value(package: PackageTotals, name: str):
        if name == "conversion_percent" and package.conversion_percent is not None:
            return round(package.conversion_percent, 4)
        return getattr(package, name)

    return csv_response(
        filename=csv_filename("reports", period.report_type, period.start, period.end),
        header=[_column_label(name, label) for name, label in OVERVIEW_CSV_COLUMNS],
        rows=([value(p, name) for name, _l in OVERVIEW_CSV_COLUMNS] for p in packages),
    )


class RepullForm(forms.Form):
    report_date = forms.DateField(input_formats=[ISO_DATE])

    def clean_report_date(self):
        day = self.cleaned_data["report_date"]
        if day >= timezone.localdate():
            raise forms.ValidationError(
                _("Choose a day before today: JD Cloud has no report for today yet.")
            )
        return day


@brand_required
def report_overview(request: HttpRequest) -> HttpResponse:
    period = _period(request, default_range=_last_days(), default_type=ReportType.EXPOSURE)
    packages = _package_totals(period)
    _name_packages(packages, period)
    if _wants_csv(request):
        return _overview_csv(packages, period)
    return render(
        request,
        "reports/report_overview.html",
        {
            "period": period,
            "report_types": ReportType.choices,
            "page_obj": Paginator(packages, PAGE_SIZE).get_page(request.GET.get("page")),
            "package_count": len(packages),
            "totals": _overview_totals(packages),
            "trend": _overview_trend(period),
            "repull_default": timezone.localdate() - timedelta(days=1),
            "can_write": _can_write(request),
        },
    )


@brand_required(allow_preview=False)
@require_POST
def report_repull(request: HttpRequest) -> HttpResponse:
    """Spec 重新拉取指定日期的营销报表: JD regenerates the day, then both types are pulled
    again and replace what the portal stored for that day."""
    back = _next_or(request, reverse("reports:overview"))
    form = RepullForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("report_date", []):
            messages.error(request, error)
        return redirect(back)
    day = form.cleaned_data["report_date"]
    try:
        result = services.report_repull(brand=request.brand, report_date=day)
    except JDCloudError as exc:
        messages.error(
            request,
            _("JD Cloud could not pull the reports of %(date)s again: %(error)s")
            % {"date": day.isoformat(), "error": getattr(exc, "msg", "") or str(exc)},
        )
        return redirect(back)
    counts = {kind: result.get(kind, {}) for kind in (ReportType.CLICK, ReportType.EXPOSURE)}
    messages.success(
        request,
        _(
            "Pulled the reports of %(date)s again: %(click)s click rows and %(exposure)s "
            "exposure rows stored."
        )
        % {
            "date": day.isoformat(),
            "click": counts[ReportType.CLICK].get("stored", 0),
            "exposure": counts[ReportType.EXPOSURE].get("stored", 0),
        },
    )
    skipped = sum(c.get("skipped", 0) for c in counts.values())
    malformed = sum(c.get("malformed_top5", 0) for c in counts.values())
    if skipped or malformed:
        messages.warning(
            request,
            _(
                "%(skipped)s rows had unreadable numbers and were skipped; %(malformed)s rows "
                "have top-5 lists that could not be read."
            )
            % {"skipped": skipped, "malformed": malformed},
        )
    return redirect(back)


@brand_required(allow_preview=False)
@require_POST
def report_request(request: HttpRequest, package_id: str) -> HttpResponse:
    """Spec 创建人群营销报表: reached packages get reports by themselves; a package that
    was not reached needs `/report/create` (with our partner id) first."""
    instance = get_object_or_404(CrowdInstance, package_id=package_id)
    try:
        services.report_create(brand=request.brand, package_id=instance.package_id)
    except JDCloudError as exc:
        messages.error(
            request,
            _("JD Cloud did not create the report: %(error)s")
            % {"error": getattr(exc, "msg", "") or str(exc)},
        )
    else:
        messages.success(
            request, _("Report requested. JD Cloud's reports arrive from the next day.")
        )
    return redirect(reverse("reports:package", args=[instance.package_id]))


# --- One package ---------------------------------------------------------------------------


def _unreadable_top5(row: ReportRow) -> list[tuple[str, str, str]]:
    """(field, its label, the string as JD sent it) for each list of the row that does
    not parse; the store kept them raw (reports.parsing)."""
    raw = row.top5_raw or {}
    return [(name, str(TOP5_LABELS[name]), raw[name]) for name in TOP5_FIELDS if raw.get(name)]


def _top_lists(row: ReportRow | None, unreadable: dict[str, str]) -> list[dict]:
    by_metric: dict[str, list[TopEntry]] = {}
    if row is not None:
        by_metric = {name: top5_entries(text) for name, text in (row.top5 or {}).items()}
    return [
        {
            "field": name,
            "label": str(TOP5_LABELS[name]),
            "money": name in MONEY_TOP5,
            "entries": by_metric.get(name, []),
            "raw": unreadable.get(name, ""),
        }
        for name in TOP5_FIELDS
    ]


def _top_chart(top_lists: list[dict]) -> dict:
    return {
        "lists": {
            t["field"]: {
                "label": t["label"],
                "money": t["money"],
                "labels": [entry.sku_id for entry in t["entries"]],
                "data": [float(entry.value) for entry in t["entries"]],
            }
            for t in top_lists
            if t["entries"]
        },
        "value_label": {"money": _("Amount (¥)"), "count": _("Count")},
    }


def _package_charts(rows: list[ReportRow], *, with_page_views: bool) -> dict:
    trend_fields = ["cart_num", "ord_pins", "pay_pins"]
    funnel_fields = ["cart_num", "ord_pins", "pay_pins"]
    if with_page_views:
        trend_fields = ["pv", "uv", *trend_fields]
        funnel_fields = ["pv", "uv", *funnel_fields]
    return {
        "trend": {
            "labels": [row.report_date.isoformat() for row in rows],
            "series": [
                {"label": _label(name), "data": [getattr(row, name) for row in rows]}
                for name in trend_fields
            ],
        },
        "funnel": {
            "labels": [_label(name) for name in funnel_fields],
            "data": [sum(getattr(row, name) for row in rows) for name in funnel_fields],
            "step_label": _("of the step before"),
        },
    }


def _sms_result(request: HttpRequest, instance: CrowdInstance | None):
    """Spec 统计人群包短信发送结果, only for a package that was reached. Returns (result,
    the error to show)."""
    if instance is None or not instance.reached:
        return None, ""
    try:
        return jdcloud_client(brand_id=request.brand.pk).sms_result(
            package_id=instance.package_id
        ), ""
    except JDCloudError as exc:
        return None, getattr(exc, "msg", "") or str(exc)


def _package_csv(package_id: str, rows: list[ReportRow], period: Period) -> HttpResponse:
    metrics = [*COUNT_METRICS, *AMOUNT_METRICS]
    return csv_response(
        filename=csv_filename("report", package_id, period.report_type, period.start, period.end),
        header=[
            _label("report_date"),
            _label("report_type"),
            _label("reach_type"),
            *[_label(name) for name in metrics],
            _label("top5_malformed"),
        ],
        rows=(
            [
                row.report_date.isoformat(),
                row.report_type,
                row.reach_type,
                *[getattr(row, name) for name in metrics],
                row.top5_malformed,
            ]
            for row in rows
        ),
    )


def _package_instance(package_id: str) -> CrowdInstance | None:
    """The portal's package of that ID, with whether it was reached (a reach JD accepted)
    and, for a part of a split, the package that was split."""
    parents = CrowdInstance.parents.through.objects.filter(from_crowdinstance=OuterRef("pk"))
    return (
        CrowdInstance.objects.filter(package_id=package_id)
        .annotate(
            reached=Exists(Reach.objects.filter(instance=OuterRef("pk"), status=Reach.Status.SENT)),
            split_parent_id=Case(
                When(
                    origin=InstanceOrigin.SPLIT,
                    then=Subquery(parents.values("to_crowdinstance_id")[:1]),
                ),
                default=None,
            ),
        )
        .first()
    )


@brand_required
def package_report(request: HttpRequest, package_id: str) -> HttpResponse:
    coverage = {
        c["report_type"]: c
        for c in ReportRow.objects.filter(package_id=package_id)
        .values("report_type")
        .annotate(first=Min("report_date"), last=Max("report_date"))
        .order_by()
    }
    instance = _package_instance(package_id)
    if not coverage and instance is None:
        # Another brand's package is as unknown here as a package that does not exist.
        raise Http404
    default_type = (
        ReportType.EXPOSURE if ReportType.EXPOSURE in coverage or not coverage else ReportType.CLICK
    )
    requested_type = request.GET.get("report_type")
    report_type = requested_type if requested_type in ReportType.values else default_type
    known = coverage.get(report_type)
    default_range = (known["first"], known["last"]) if known else _last_days()
    period = _period(request, default_range=default_range, default_type=default_type)
    rows = list(
        ReportRow.objects.filter(
            package_id=package_id,
            report_type=period.report_type,
            report_date__range=(period.start, period.end),
        ).order_by("report_date")
    )
    if _wants_csv(request):
        return _package_csv(package_id, rows, period)
    latest = rows[-1] if rows else None
    malformed = [(row, _unreadable_top5(row)) for row in rows if row.top5_malformed]
    latest_unreadable = {
        name: text for row, fields in malformed if row is latest for name, _l, text in fields
    }
    split_parent_id = instance.split_parent_id if instance is not None else None
    sms_result, sms_error = _sms_result(request, instance)
    with_page_views = period.report_type != ReportType.CLICK
    totals = {
        name: sum((getattr(row, name) for row in rows), start=0)
        for name in (*COUNT_METRICS, *AMOUNT_METRICS)
    }
    top_lists = _top_lists(latest, latest_unreadable)
    totals["delivered_num"] = max((row.delivered_num for row in rows), default=0)
    totals["people_sent_num"] = max((row.people_sent_num for row in rows), default=0)
    return render(
        request,
        "reports/package_report.html",
        {
            "package_id": package_id,
            "instance": instance,
            "period": period,
            "report_types": ReportType.choices,
            "available_types": sorted(coverage),
            "rows": rows,
            # The charts and totals cover the whole period; the table of days is paged.
            "page_obj": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "latest": latest,
            "totals": totals,
            "conversion_percent": _percent(_ratio(totals["pay_pins"], totals["delivered_num"])),
            "reach_type_label": _reach_type_label(latest.reach_type) if latest else "",
            "coupons": [(name, _label(name), totals[name]) for name in COUPON_METRICS],
            "charts": _package_charts(rows, with_page_views=with_page_views) if rows else {},
            "with_page_views": with_page_views,
            "top_lists": top_lists,
            "top_chart": _top_chart(top_lists),
            "malformed": malformed,
            "sms_result": sms_result,
            "sms_error": sms_error,
            "split_parent_id": split_parent_id,
        },
    )


# --- A/B uplift of a split -------------------------------------------------------------


def _arm_view(arm) -> dict:
    return {
        "package_id": arm.package_id,
        "name": arm.name,
        "reached": arm.reached,
        "people": arm.people,
        "converted": arm.converted,
        "conversion_percent": arm.conversion * 100,
        "ord_amount_per_person": arm.ord_amount_per_person,
        "pay_amount_per_person": arm.pay_amount_per_person,
    }


def _comparison_view(c: Comparison) -> dict:
    control, treatment = _arm_view(c.control), _arm_view(c.treatment)
    return {
        "control": control,
        "treatment": treatment,
        "arms": [("control", control), ("treatment", treatment)],
        # Differences of conversion rates are percentage points, the relative one percent.
        "absolute_points": c.absolute * 100,
        "relative_percent": _percent(c.relative),
        "ci_low_points": c.ci_low * 100,
        "ci_high_points": c.ci_high * 100,
        "significant": c.significant,
        "too_small": c.too_small,
        "ord_amount_per_person_diff": c.ord_amount_per_person_diff,
        "pay_amount_per_person_diff": c.pay_amount_per_person_diff,
    }


UPLIFT_CSV_HEADER = (
    gettext_lazy("Control package ID"),
    gettext_lazy("Control"),
    gettext_lazy("Control people"),
    gettext_lazy("Control paying people"),
    gettext_lazy("Control conversion (%)"),
    gettext_lazy("Control order amount per person"),
    gettext_lazy("Control paid amount per person"),
    gettext_lazy("Treatment package ID"),
    gettext_lazy("Treatment"),
    gettext_lazy("Treatment people"),
    gettext_lazy("Treatment paying people"),
    gettext_lazy("Treatment conversion (%)"),
    gettext_lazy("Treatment order amount per person"),
    gettext_lazy("Treatment paid amount per person"),
    gettext_lazy("Absolute uplift (percentage points)"),
    gettext_lazy("Relative uplift (%)"),
    gettext_lazy("95% CI low (percentage points)"),
    gettext_lazy("95% CI high (percentage points)"),
    gettext_lazy("Significant"),
    gettext_lazy("Sample too small"),
)


def _uplift_csv(parent: CrowdInstance, comparisons: list[dict], report_type: str):
    def arm(a):
        return [
            a["package_id"],
            a["name"],
            a["people"],
            a["converted"],
            a["conversion_percent"],
            a["ord_amount_per_person"],
            a["pay_amount_per_person"],
        ]

    return csv_response(
        filename=csv_filename("uplift", parent.pk, report_type),
        header=UPLIFT_CSV_HEADER,
        rows=(
            [
                *arm(c["control"]),
                *arm(c["treatment"]),
                c["absolute_points"],
                c["relative_percent"],
                c["ci_low_points"],
                c["ci_high_points"],
                c["significant"],
                c["too_small"],
            ]
            for c in comparisons
        ),
    )


@brand_required
def split_uplift_report(request: HttpRequest, instance_id: int) -> HttpResponse:
    parent = get_object_or_404(CrowdInstance, pk=instance_id)
    requested_type = request.GET.get("report_type")
    report_type = (
        requested_type if requested_type in ReportType.values else str(ReportType.EXPOSURE)
    )
    comparisons = [_comparison_view(c) for c in split_uplift(parent, report_type=report_type)]
    if _wants_csv(request):
        return _uplift_csv(parent, comparisons, report_type)
    return render(
        request,
        "reports/split_uplift.html",
        {
            "parent": parent,
            "report_type": report_type,
            "report_types": ReportType.choices,
            "comparisons": comparisons,
        },
    )
