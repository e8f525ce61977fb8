"""A brand user opens a Linkflow report: the page says Linkflow is computing it, a real
Celery worker polls the sandbox until the report is ready, and the page, polling the REST
API, draws it with Chart.js and fills its data table. Then every chart type is drawn."""

from __future__ import annotations

import re

import httpx
import pytest
from django.utils import translation
from playwright.sync_api import expect

from reports.cdp.charts import CHART_TYPE_LABELS
from tests.conftest import SANDBOX_LINKFLOW_KEY, SANDBOX_LINKFLOW_SECRET
from tests.processes import empty_broker, start_process, worker_database_url

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# The sandbox computes a report for this many (real) seconds before answering status 1.
REPORT_SECONDS = 2.0
# Seeded in the sandbox's first workspace (sandbox/linkflow/reports.py).
ALL_REPORTS_DASHBOARD = 23
TWO_YAXIS_REPORT = "订单数与支付金额"


@pytest.fixture
def worker(sandbox_url, settings):
    """A real `celery -A portal worker` on the test database, polling the sandbox."""
    database_url = worker_database_url()
    settings.LINKFLOW_API_BASE_URL = f"{sandbox_url}/linkflow"
    control = httpx.Client(base_url=f"{sandbox_url}/_control", timeout=10)
    control.post("/reset", json={"seed": 7, "clock": "real"}).raise_for_status()
    control.post("/linkflow", json={"report_seconds": REPORT_SECONDS}).raise_for_status()
    empty_broker()
    process = start_process(
        ["-m", "celery", "-A", "portal", "worker", "--pool=solo", "--loglevel=INFO"],
        name="celery-worker-linkflow-reports",
        env={
            "DATABASE_URL": database_url,
            "LINKFLOW_API_BASE_URL": f"{sandbox_url}/linkflow",
            "LINKFLOW_REPORT_POLL_SECONDS": "0.5",
        },
    )
    yield control
    process.terminate()
    process.wait(timeout=20)
    control.close()


@pytest.fixture
def logged_in(live_server, page, client, brand, make_brand_user, worker):
    brand.linkflow_app_key = SANDBOX_LINKFLOW_KEY
    brand.linkflow_app_secret = SANDBOX_LINKFLOW_SECRET
    brand.save()
    client.force_login(make_brand_user(brand).user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.emulate_media(reduced_motion="reduce")  # no animation: what is drawn is final
    return brand


CHART = "Chart.getChart(document.getElementById('report-chart'))"


def wait_ready(page, timeout: float = 45_000) -> None:
    expect(page.locator("#linkflow-report")).to_have_attribute(
        "data-status", "ready", timeout=timeout
    )


def test_open_a_report_and_see_it_drawn_after_polling(live_server, page, screenshot, logged_in):
    page.goto(f"{live_server.url}/cdp/reports/")
    page.get_by_test_id("open-dashboard").locator("input").fill(str(ALL_REPORTS_DASHBOARD))
    page.get_by_test_id("open-dashboard").get_by_role("button").click()
    reports = page.get_by_test_id("dashboard-reports")
    expect(reports.locator("tbody tr")).to_have_count(8)

    reports.get_by_role("link", name=TWO_YAXIS_REPORT).click()
    expect(page.get_by_test_id("report-computing")).to_be_visible()
    expect(page.locator("#report-status")).to_have_attribute(
        "data-status", re.compile("pending|computing")
    )
    expect(page.locator("#refresh-report")).to_be_disabled()
    screenshot("linkflow-report-computing")

    wait_ready(page)
    expect(page.get_by_test_id("report-computing")).to_be_hidden()
    expect(page.locator("#report-name")).to_have_text(TWO_YAXIS_REPORT)
    with translation.override("zh-hans"):  # the page's language
        expect(page.locator("#report-chart-type")).to_have_text(str(CHART_TYPE_LABELS["TWO_YAXIS"]))
    page.wait_for_function(f"{CHART} !== undefined")
    drawn = page.evaluate(
        f"""() => {{
          const chart = {CHART};
          return {{
            labels: chart.data.labels.length,
            types: chart.data.datasets.map((d) => d.type),
            axes: chart.data.datasets.map((d) => d.yAxisID),
            bars: chart.getDatasetMeta(0).data.length,
            first: chart.data.datasets[0].data[0],
          }};
        }}"""
    )
    assert drawn["labels"] == 7 and drawn["bars"] == 7
    assert drawn["types"] == ["bar", "line"] and drawn["axes"] == ["left", "right"]
    assert 3000 <= drawn["first"] <= 9000

    table = page.locator("#report-table")
    expect(table.locator("thead th")).to_have_text(
        [re.compile(".+"), "性别", "任意事件的总次数", "创建订单的总次数"]
    )
    expect(table.locator("tbody tr")).to_have_count(7 + 1)  # seven days, then the summary
    expect(page.locator("#refresh-report")).to_be_enabled()
    screenshot("linkflow-report-two-yaxis")

    # Opened again: drawn at once from the snapshot, no waiting.
    page.reload()
    expect(page.get_by_test_id("report-computing")).to_be_hidden()
    page.wait_for_function(f"{CHART} !== undefined")


def test_every_chart_type_is_drawn(live_server, page, screenshot, logged_in):
    page.goto(f"{live_server.url}/cdp/reports/dashboards/{ALL_REPORTS_DASHBOARD}/")
    links = page.get_by_test_id("dashboard-reports").locator("tbody a")
    expect(links).to_have_count(8)
    hrefs = links.evaluate_all("(links) => links.map((a) => a.href)")
    for href in hrefs:  # all asked at once: Linkflow computes them side by side
        report_id = re.search(r"/cdp/reports/(\d+)/", href).group(1)
        assert page.request.get(f"{live_server.url}/api/v1/cdp/reports/{report_id}/").ok

    seen = {}
    for href in hrefs:
        page.goto(href)
        wait_ready(page)
        kind = page.locator("#report-chart").get_attribute("data-kind")
        chart_type = page.locator("#linkflow-report").get_attribute("data-chart-type")
        if kind == "series" or kind == "pie":
            page.wait_for_function(f"{CHART} !== undefined")
            seen[chart_type] = page.evaluate(
                f"""() => {{
                  const chart = {CHART};
                  return {{
                    type: chart.config.type,
                    stacked: Boolean(chart.options.scales.x && chart.options.scales.x.stacked),
                    filled: chart.data.datasets.map((d) => d.fill),
                    datasets: chart.data.datasets.length,
                  }};
                }}"""
            )
        elif kind == "numbers":
            expect(page.locator("#report-numbers dd")).to_have_count(1)
            seen[chart_type] = {"number": page.locator("#report-numbers dd").inner_text()}
        else:
            expect(page.locator("#report-chart-panel")).to_be_hidden()
            seen[chart_type] = {"table": True}
        expect(page.locator("#report-table tbody tr").first).to_be_visible()
        screenshot(f"linkflow-report-{chart_type.lower()}")

    assert set(seen) == {
        "NUMBER", "PIE", "LINE", "BAR", "TWO_YAXIS", "STACK_BAR", "LINE_AREA", "TABLE"
    }  # fmt: skip
    assert re.fullmatch(r"[\d,]+", seen["NUMBER"]["number"])
    assert seen["PIE"]["type"] == "pie" and seen["PIE"]["datasets"] == 1
    assert seen["LINE"]["type"] == "line" and seen["LINE"]["datasets"] == 2
    assert seen["BAR"]["type"] == "bar" and not seen["BAR"]["stacked"]
    assert seen["STACK_BAR"]["stacked"] and seen["STACK_BAR"]["datasets"] == 3
    assert seen["LINE_AREA"]["stacked"] and set(seen["LINE_AREA"]["filled"]) == {"stack"}
    assert seen["TABLE"] == {"table": True}
