"""Linkflow reports and dashboards (spec "报表"): the seeded catalogue and the body of
`GET /open/report/{reportId}`.

Reports are asynchronous: the first request for a report starts its computation, and for
`report_seconds` of sandbox time (default 6) every request answers only
`{"status": 0, "reportName": ...}`; after that, `status` 1 with the whole body. Every
body has this shape (the spec's sample):

    {
      "status": 1,
      "reportName": "订单数与支付金额",
      "chartType": "TWO_YAXIS",
      "chart": {"type": "TWO_YAXIS", "display": "双轴图",
                "yaxisChartTypeSetting": {"left": "BAR", "right": "LINE",     # TWO_YAXIS only
                                          "leftDisplay": "时间柱状图", "rightDisplay": "折线"}},
      "measures": ["任意事件的总次数", "创建订单的总次数"],
      "dimensions": [{"field": "#{contact.gender}", "fieldType": "text", "fieldLabel": "性别"}],
      "result": [{"dateList": [7 dates],
                  "dimRsList": [{"dim": [...], "rs": [...], "summary": [...]}]}]
    }

Values are numeric strings ("1234", or "1234.56" for amounts). By chart type:

- NUMBER: no `dateList`; one `dimRsList` entry, `dim` ["总体"], `rs` [], `summary` one
  value per measure.
- PIE: no `dateList`; one `dimRsList` entry per slice, `dim` [slice label], `rs` [],
  `summary` [value].
- LINE, BAR, TWO_YAXIS, STACK_BAR, LINE_AREA, TABLE (time series): `dateList` holds the
  7 days before the sandbox's today ("yyyy-MM-dd"); each `dimRsList` entry has `rs` with
  one row per date and one value per measure in each row, and `summary` the total per
  measure. LINE, BAR and TWO_YAXIS have one entry, `dim` ["总体"]; STACK_BAR, LINE_AREA
  and TABLE one entry per value of their dimension (at least two).

Seeded reports (ids in the first workspace; another App Key's workspace adds 1000 per
workspace): 404 NUMBER, 410 PIE, 411 LINE, 412 BAR, 413 TWO_YAXIS, 597 STACK_BAR,
655 LINE_AREA, 656 TABLE. Dashboards 21, 22 and 23 list them
(`{"kanBanName": ..., "reports": [{"id", "reportName"}]}`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

DISPLAY = {
    "NUMBER": "数字",
    "PIE": "饼图",
    "STACK_BAR": "堆叠柱状图",
    "LINE": "折线",
    "BAR": "时间柱状图",
    "TWO_YAXIS": "双轴图",
    "LINE_AREA": "堆叠面积图",
    "TABLE": "表格",
}
UNTIMED = ("NUMBER", "PIE")
OVERALL = "总体"


@dataclass(frozen=True)
class Measure:
    label: str
    low: int
    high: int
    decimals: int = 0


@dataclass(frozen=True)
class ReportDefinition:
    id: int
    name: str
    chart_type: str
    measures: tuple[Measure, ...]
    dimension: dict | None = None
    slices: tuple[str, ...] = (OVERALL,)


GENDER = {"field": "#{contact.gender}", "fieldType": "text", "fieldLabel": "性别"}
SOURCE = {"field": "#{contact.utm.source}", "fieldType": "text", "fieldLabel": "来源"}
CHANNEL = {"field": "#{event.channelType}", "fieldType": "text", "fieldLabel": "渠道"}
CITY = {"field": "#{contact.city}", "fieldType": "text", "fieldLabel": "城市"}

REPORTS = (
    ReportDefinition(404, "会员总数", "NUMBER", (Measure("联系人总数", 0, 0),)),
    ReportDefinition(
        410, "会员性别分布", "PIE", (Measure("联系人数", 0, 0),), GENDER, ("男", "女", "未知")
    ),
    ReportDefinition(
        411,
        "近7天活跃用户",
        "LINE",
        (Measure("任意事件的触发用户数", 800, 1600), Measure("任意事件的总次数", 3000, 9000)),
    ),
    ReportDefinition(412, "每日新增会员", "BAR", (Measure("新增联系人数", 20, 120),)),
    ReportDefinition(
        413,
        "订单数与支付金额",
        "TWO_YAXIS",
        (Measure("任意事件的总次数", 3000, 9000), Measure("创建订单的总次数", 50, 300)),
        GENDER,
    ),
    ReportDefinition(
        597,
        "各来源每日新增",
        "STACK_BAR",
        (Measure("新增联系人数", 5, 60),),
        SOURCE,
        ("京东", "微信", "抖音"),
    ),
    ReportDefinition(
        655,
        "各渠道活跃用户",
        "LINE_AREA",
        (Measure("任意事件的触发用户数", 100, 900),),
        CHANNEL,
        ("公众号", "小程序", "企业微信"),
    ),
    ReportDefinition(
        656,
        "城市消费明细",
        "TABLE",
        (Measure("支付订单的总次数", 10, 90), Measure("支付订单的总金额", 2000, 30000, 2)),
        CITY,
        ("上海", "北京", "深圳", "杭州"),
    ),
)
DASHBOARDS = (
    (21, "会员运营看板", (404, 410, 412, 597)),
    (22, "交易看板", (413, 656, 411, 655)),
    (23, "y01", tuple(report.id for report in REPORTS)),
)
WORKSPACE_ID_STEP = 1000
GENDER_SHARES = {"男": 0.45, "女": 0.45, "未知": 0.10}


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


class ReportBuilder:
    """Bodies of one workspace's reports; values are pure functions of (salt, report, day,
    slice, measure), so a report reads the same every time on the same sandbox day."""

    def __init__(self, salt: str) -> None:
        self.salt = salt

    def _value(self, report: ReportDefinition, key: str, measure: Measure) -> float:
        digest = hashlib.blake2b(
            f"{self.salt}/{report.id}/{key}/{measure.label}".encode(), digest_size=8
        ).digest()
        fraction = int.from_bytes(digest, "big") / 2**64
        value = measure.low + (measure.high - measure.low) * fraction
        return round(value, measure.decimals) if measure.decimals else int(value)

    def body(self, report: ReportDefinition, *, today: date, contacts: int) -> dict:
        chart: dict = {"type": report.chart_type, "display": DISPLAY[report.chart_type]}
        if report.chart_type == "TWO_YAXIS":
            chart["yaxisChartTypeSetting"] = {
                "left": "BAR",
                "right": "LINE",
                "leftDisplay": DISPLAY["BAR"],
                "rightDisplay": DISPLAY["LINE"],
            }
        if report.chart_type in UNTIMED:
            result = {"dimRsList": self._untimed(report, contacts)}
        else:
            dates = [today - timedelta(days=7 - k) for k in range(7)]
            result = {
                "dateList": [f"{day:%Y-%m-%d}" for day in dates],
                "dimRsList": [self._series(report, label, dates) for label in report.slices],
            }
        return {
            "status": 1,
            "reportName": report.name,
            "chartType": report.chart_type,
            "chart": chart,
            "measures": [m.label for m in report.measures],
            "dimensions": [dict(report.dimension)] if report.dimension else [],
            "result": [result],
        }

    def _untimed(self, report: ReportDefinition, contacts: int) -> list[dict]:
        if report.chart_type == "NUMBER":
            return [{"dim": [OVERALL], "rs": [], "summary": [str(contacts)]}]
        counts = {label: int(contacts * GENDER_SHARES.get(label, 0)) for label in report.slices}
        counts[report.slices[0]] += contacts - sum(counts.values())  # slices add up
        return [
            {"dim": [label], "rs": [], "summary": [str(count)]} for label, count in counts.items()
        ]

    def _series(self, report: ReportDefinition, label: str, dates: list[date]) -> dict:
        rows = [
            [self._value(report, f"{label}/{day}", m) for m in report.measures] for day in dates
        ]
        totals = [sum(row[k] for row in rows) for k in range(len(report.measures))]
        return {
            "dim": [label],
            "rs": [
                [_number(v, m.decimals) for v, m in zip(row, report.measures, strict=True)]
                for row in rows
            ],
            "summary": [
                _number(t, m.decimals) for t, m in zip(totals, report.measures, strict=True)
            ],
        }
