"""A Linkflow report's answer turned into what a chart and its data table need.

Spec 报表 / 获取报表结果: `result` is a list of `{dateList, dimRsList: [{dim, rs, summary}]}`
whose shape "differs by report type". What every type shares: `measures` names the values
of each `rs` row and of `summary` (in order), `dim` holds one label per dimension, `rs`
holds one row per date of `dateList` (none for NUMBER and PIE, which carry only `summary`).
Values are numeric strings. This module reads that generically, so a type drawn wrongly
still shows its numbers in the table, and an unknown type is shown as a table.

The same normalized form goes to the page (the table is rendered on the server), to the
REST API and to `static/reports/cdp/report.js`, which draws it with Chart.js.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

# Spec 报表: the chart styles ("图标样式") and their names (数字, 饼图, 堆叠柱状图, 折线,
# 时间柱状图, 双轴图, 堆叠面积图, 表格).
CHART_TYPE_LABELS = {
    "NUMBER": pgettext_lazy("Linkflow chart type", "Number"),
    "PIE": pgettext_lazy("Linkflow chart type", "Pie chart"),
    "STACK_BAR": pgettext_lazy("Linkflow chart type", "Stacked bar chart"),
    "LINE": pgettext_lazy("Linkflow chart type", "Line chart"),
    "BAR": pgettext_lazy("Linkflow chart type", "Bar chart over time"),
    "TWO_YAXIS": pgettext_lazy("Linkflow chart type", "Dual-axis chart"),
    "LINE_AREA": pgettext_lazy("Linkflow chart type", "Stacked area chart"),
    "TABLE": pgettext_lazy("Linkflow chart type", "Table"),
}
CHART_TYPES = tuple(CHART_TYPE_LABELS)
# How TWO_YAXIS's `yaxisChartTypeSetting.left` / `.right` types are drawn on their axis.
AXIS_RENDER = {"BAR": "bar", "STACK_BAR": "bar", "LINE": "line", "LINE_AREA": "area"}
# A report of many dimension values over many days is still a readable page.
MAX_TABLE_ROWS = 2000


def number(value: Any) -> float | None:
    """A value of `rs` / `summary` ("12", "3.5", "1,024") as a number; None when it is not
    one (Linkflow sends "-" or null for "no data")."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        result = float(value)
    else:
        try:
            result = float(str(value).replace(",", "").strip())
        except ValueError:
            return None
    return result if math.isfinite(result) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class _Entry:
    """One `dimRsList` item: its dimension labels, values per date, and summary."""

    def __init__(self, raw: dict, dates: list[str]) -> None:
        dim = raw.get("dim")
        self.dims = [_text(d) for d in dim] if isinstance(dim, list) else [_text(dim)]
        rows = raw.get("rs") if isinstance(raw.get("rs"), list) else []
        # A row missing at the end is a date without data, not an error.
        self.by_date = {
            date: (row if isinstance(row, list) else [row])
            for date, row in zip(dates, rows, strict=False)
        }
        summary = raw.get("summary")
        self.summary = summary if isinstance(summary, list) else []

    @property
    def label(self) -> str:
        return " / ".join(d for d in self.dims if d) or "—"


def _entries(body: dict) -> tuple[list[str], list[_Entry]]:
    """All dates (in order of appearance) and all entries of every `result` item."""
    dates: list[str] = []
    entries: list[_Entry] = []
    results = body.get("result")
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, dict):
            continue
        own_dates = [_text(d) for d in result.get("dateList") or [] if d is not None]
        dates.extend(d for d in own_dates if d not in dates)
        for raw in result.get("dimRsList") or []:
            if isinstance(raw, dict):
                entries.append(_Entry(raw, own_dates))
    return dates, entries


def _measures(body: dict, entries: list[_Entry]) -> list[str]:
    measures = [_text(m) for m in body.get("measures") or []]
    widest = max(
        [len(e.summary) for e in entries] + [len(r) for e in entries for r in e.by_date.values()],
        default=0,
    )
    for n in range(len(measures), widest):
        measures.append(_("Measure %(n)s") % {"n": n + 1})
    return measures or [_("Value")]


def _at(values: list, index: int) -> Any:
    return values[index] if index < len(values) else None


def chart_type_of(body: dict) -> str:
    chart = body.get("chart") if isinstance(body.get("chart"), dict) else {}
    return _text(body.get("chartType") or chart.get("type")).upper()


def chart_of(body: dict | None) -> dict | None:
    """What the page draws for a ready report `body`; None without one.

    `kind` is how it is drawn: "numbers" (NUMBER), "pie" (PIE), "series" (the chart types
    over dates, or over categories when a report has no dates) or "table" (TABLE, and any
    type this portal does not know)."""
    if not isinstance(body, dict):
        return None
    chart_type = chart_type_of(body)
    dates, entries = _entries(body)
    measures = _measures(body, entries)
    several = len(entries) > 1

    def series_label(entry: _Entry, measure: str) -> str:
        if not several:
            return measure
        return entry.label if len(measures) == 1 else f"{entry.label} · {measure}"

    chart: dict[str, Any] = {
        "type": chart_type,
        "type_label": str(CHART_TYPE_LABELS.get(chart_type, chart_type)),
        "known_type": chart_type in CHART_TYPES,
        "kind": "series",
        "labels": [],
        "series": [],
        "numbers": [],
        "stacked": chart_type in ("STACK_BAR", "LINE_AREA"),
        "table": _table(body, dates, entries, measures),
    }
    if chart_type == "NUMBER":
        chart["kind"] = "numbers"
        chart["numbers"] = [
            {
                "label": series_label(entry, measure),
                "value": number(_at(entry.summary, m)),
                "text": _text(_at(entry.summary, m)),
            }
            for entry in entries
            for m, measure in enumerate(measures)
        ]
    elif chart_type == "PIE":
        chart["kind"] = "pie"
        chart["labels"] = [entry.label for entry in entries]
        chart["series"] = [
            {"label": measure, "data": [number(_at(e.summary, m)) for e in entries]}
            for m, measure in enumerate(measures)
        ]
    elif chart_type not in CHART_TYPES or chart_type == "TABLE":
        chart["kind"] = "table"
    elif not entries:
        pass  # nothing to draw: the table says the report has no data
    elif dates:
        chart["labels"] = dates
        chart["series"] = [
            {
                "label": series_label(entry, measure),
                "data": [number(_at(entry.by_date.get(d) or [], m)) for d in dates],
                "stack": f"m{m}",
                **_drawn_as(body, chart_type, m),
            }
            for entry in entries
            for m, measure in enumerate(measures)
        ]
    elif chart_type == "STACK_BAR":
        # People reports have no dates: a stacked bar per measure, a segment per dimension value.
        chart["labels"] = measures
        chart["series"] = [
            {
                "label": entry.label,
                "data": [number(_at(entry.summary, m)) for m in range(len(measures))],
                "stack": "all",
                "render": "bar",
                "axis": "left",
            }
            for entry in entries
        ]
    else:
        chart["labels"] = [entry.label for entry in entries]
        chart["series"] = [
            {
                "label": measure,
                "data": [number(_at(e.summary, m)) for e in entries],
                "stack": f"m{m}",
                **_drawn_as(body, chart_type, m),
            }
            for m, measure in enumerate(measures)
        ]
    return chart


def _drawn_as(body: dict, chart_type: str, measure_index: int) -> dict[str, str]:
    """Axis and mark of one measure. TWO_YAXIS puts the first measure on the left axis and
    the others on the right, each drawn as `yaxisChartTypeSetting` says (spec: "只有双轴图有
    这个属性"); the spec does not say which measure goes where, Linkflow's editor puts the
    first one left."""
    if chart_type == "TWO_YAXIS":
        chart = body.get("chart") if isinstance(body.get("chart"), dict) else {}
        setting = chart.get("yaxisChartTypeSetting")
        setting = setting if isinstance(setting, dict) else {}
        side = "left" if measure_index == 0 else "right"
        default = "BAR" if side == "left" else "LINE"
        kind = _text(setting.get(side) or default).upper()
        return {"axis": side, "render": AXIS_RENDER.get(kind, "line")}
    render = {"BAR": "bar", "STACK_BAR": "bar", "LINE_AREA": "area"}.get(chart_type, "line")
    return {"axis": "left", "render": render}


def _table(body: dict, dates: list[str], entries: list[_Entry], measures: list[str]) -> dict:
    """Every value of the report as rows: per dimension value and date, then its summary."""
    dimensions = [
        _text(d.get("fieldLabel") or d.get("field"))
        for d in body.get("dimensions") or []
        if isinstance(d, dict)
    ]
    width = max([len(e.dims) for e in entries], default=1) or 1
    dim_columns = [
        _at(dimensions, n)
        or (_("Dimension") if width == 1 else _("Dimension %(n)s") % {"n": n + 1})
        for n in range(width)
    ]
    columns = ([_("Date")] if dates else []) + dim_columns + measures

    def values(raw: list) -> list[str]:
        return [_text(_at(raw, m)) for m in range(len(measures))]

    rows: list[list[str]] = []
    for entry in entries:
        dims = entry.dims + [""] * (width - len(entry.dims))
        if dates:
            rows += [[date, *dims, *values(entry.by_date[date])] for date in entry.by_date]
            if entry.summary:
                rows.append(
                    [pgettext("Linkflow report table", "Summary"), *dims, *values(entry.summary)]
                )
        else:
            rows.append([*dims, *values(entry.summary)])
    return {
        "columns": columns,
        "label_columns": len(columns) - len(measures),
        "rows": rows[:MAX_TABLE_ROWS],
        "truncated": len(rows) > MAX_TABLE_ROWS,
    }
