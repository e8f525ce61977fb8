"""Linkflow reports (computed for a while, then answered in the spec's shape for every
chart type) and dashboards."""

from __future__ import annotations

import pytest

from tests.sandbox.linkflow_client import Linkflow, assert_error

REPORT_IDS = {
    "NUMBER": 404,
    "PIE": 410,
    "LINE": 411,
    "BAR": 412,
    "TWO_YAXIS": 413,
    "STACK_BAR": 597,
    "LINE_AREA": 655,
    "TABLE": 656,
}
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
DATES = [
    "2025-12-29",
    "2025-12-30",
    "2025-12-31",
    "2026-01-01",
    "2026-01-02",
    "2026-01-03",
    "2026-01-04",
]


@pytest.fixture
def lf(client) -> Linkflow:
    return Linkflow.connect(client)


@pytest.fixture
def ready(client):
    client.post("/_control/linkflow", json={"report_seconds": 0})


def is_number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return isinstance(text, str)


def test_a_report_is_computed_for_six_seconds_after_the_first_ask(lf, advance):
    first = lf.ok("GET", "/open/report/413")
    advance(5)
    still = lf.ok("GET", "/open/report/413")
    advance(1)
    done = lf.ok("GET", "/open/report/413")
    other = lf.ok("GET", "/open/report/404")  # its own clock starts now

    assert first == still == {"status": 0, "reportName": "订单数与支付金额"}
    assert done["status"] == 1 and done["chartType"] == "TWO_YAXIS"
    assert other == {"status": 0, "reportName": "会员总数"}


@pytest.mark.parametrize("chart_type", list(REPORT_IDS))
def test_every_chart_type_answers_the_spec_shape(lf, ready, chart_type):
    body = lf.ok("GET", f"/open/report/{REPORT_IDS[chart_type]}")

    assert list(body) == [
        "status",
        "reportName",
        "chartType",
        "chart",
        "measures",
        "dimensions",
        "result",
    ]
    assert body["status"] == 1 and body["chartType"] == chart_type
    assert body["chart"]["type"] == chart_type and body["chart"]["display"] == DISPLAY[chart_type]
    assert ("yaxisChartTypeSetting" in body["chart"]) == (chart_type == "TWO_YAXIS")
    assert all(set(d) == {"field", "fieldType", "fieldLabel"} for d in body["dimensions"])
    (result,) = body["result"]
    entries = result["dimRsList"]
    measures = len(body["measures"])
    for entry in entries:
        assert len(entry["summary"]) == measures and all(map(is_number, entry["summary"]))
        assert isinstance(entry["dim"], list) and len(entry["dim"]) == 1
    if chart_type in ("NUMBER", "PIE"):
        assert "dateList" not in result
        assert all(entry["rs"] == [] for entry in entries)
    else:
        assert result["dateList"] == DATES  # the 7 days before the sandbox's today
        for entry in entries:
            assert len(entry["rs"]) == 7
            assert all(len(row) == measures and all(map(is_number, row)) for row in entry["rs"])
            for k in range(measures):
                total = sum(float(row[k]) for row in entry["rs"])
                assert float(entry["summary"][k]) == pytest.approx(total)
    if chart_type in ("STACK_BAR", "LINE_AREA", "TABLE", "PIE"):
        assert len(entries) >= 2 and len({e["dim"][0] for e in entries}) == len(entries)
    else:
        assert [e["dim"] for e in entries] == [["总体"]]


def test_two_yaxis_follows_the_spec_sample(lf, ready):
    body = lf.ok("GET", "/open/report/413")
    assert body["chart"]["yaxisChartTypeSetting"] == {
        "left": "BAR",
        "right": "LINE",
        "leftDisplay": "时间柱状图",
        "rightDisplay": "折线",
    }
    assert body["measures"] == ["任意事件的总次数", "创建订单的总次数"]
    assert body["dimensions"] == [
        {"field": "#{contact.gender}", "fieldType": "text", "fieldLabel": "性别"}
    ]


def test_number_and_pie_count_the_workspace(client, lf, ready):
    client.post("/_control/linkflow", json={"contacts": 2345})
    number = lf.ok("GET", "/open/report/404")["result"][0]["dimRsList"]
    pie = lf.ok("GET", "/open/report/410")["result"][0]["dimRsList"]
    assert number == [{"dim": ["总体"], "rs": [], "summary": ["2345"]}]
    assert [e["dim"][0] for e in pie] == ["男", "女", "未知"]
    assert sum(int(e["summary"][0]) for e in pie) == 2345


def test_values_are_stable_within_a_day(lf, ready, advance):
    first = lf.ok("GET", "/open/report/656")
    advance(3600)
    assert lf.ok("GET", "/open/report/656") == first


def test_unknown_reports_and_dashboards(lf):
    assert_error(lf.call("GET", "/open/report/1"), 404, "B00008")
    assert_error(lf.call("GET", "/open/dashboard/1/summary"), 404, "B00008")
    assert_error(lf.call("GET", "/open/report/abc"), 500, "B00010")


def test_dashboards_list_every_chart_type(lf, ready):
    listed = {}
    for dashboard_id in (21, 22, 23):
        summary = lf.ok("GET", f"/open/dashboard/{dashboard_id}/summary")
        assert set(summary) == {"kanBanName", "reports"} and summary["kanBanName"]
        for report in summary["reports"]:
            assert set(report) == {"id", "reportName"}
            listed[report["id"]] = report["reportName"]
    assert set(listed) == set(REPORT_IDS.values())
    for report_id, name in listed.items():
        assert lf.ok("GET", f"/open/report/{report_id}")["reportName"] == name


def test_another_workspace_has_its_own_report_ids(client, lf, ready):
    client.post("/_control/linkflow/apps", json={"key": "k2", "secret": "s2"})
    other = Linkflow.connect(client, "k2", "s2")
    ids = [r["id"] for r in other.ok("GET", "/open/dashboard/1023/summary")["reports"]]
    assert ids == [r + 1000 for r in REPORT_IDS.values()]
    assert_error(lf.call("GET", "/open/report/1404"), 404, "B00008")
    assert other.ok("GET", "/open/report/1404")["chartType"] == "NUMBER"
