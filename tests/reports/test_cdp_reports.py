"""Linkflow reports and dashboards: the chart normalization of every chart type, the poll
(status 0 then 1, refusals, outages, give-up, duplicates), the REST API and the pages, and
tenancy. Linkflow is faked at the transport level (respx); `test_*_sandbox` go over real
HTTP to the sandbox's Linkflow side."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
import respx
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from drf_spectacular.generators import SchemaGenerator

from brands.middleware import PREVIEW_SESSION_KEY
from portal.integrations.linkflow.auth import tokens
from reports.cdp import services, tasks
from reports.cdp.charts import chart_of
from reports.cdp.models import LinkflowDashboard, LinkflowReport, LinkflowReportStatus
from tests.processes import ROOT

pytestmark = pytest.mark.django_db

BASE = "https://linkflow.respx.test"
DATES = [f"2024-05-{day}" for day in range(20, 27)]

# The spec's sample answer of 获取报表结果, as printed (two measures, rows of one value).
SPEC_SAMPLE = {
    "status": 1,
    "reportName": "test",
    "chartType": "TWO_YAXIS",
    "chart": {
        "type": "TWO_YAXIS",
        "display": "双轴图",
        "yaxisChartTypeSetting": {
            "left": "BAR",
            "right": "LINE",
            "leftDisplay": "时间柱状图",
            "rightDisplay": "折线",
        },
    },
    "measures": ["任意事件的总次数", "创建订单的总次数"],
    "dimensions": [{"field": "#{contact.gender}", "fieldType": "text", "fieldLabel": "性别"}],
    "result": [
        {"dateList": DATES, "dimRsList": [{"dim": ["总体"], "rs": [["0"]] * 7, "summary": ["0"]}]}
    ],
}


def over_time(chart_type: str, dims: list[str], measures: list[str]) -> dict:
    """A ready report over the seven dates, one entry per dimension value."""
    entries = [
        {
            "dim": [dim],
            "rs": [
                [str((d + 1) * (i + 1) * (m + 1)) for m in range(len(measures))] for d in range(7)
            ],
            "summary": [str(28 * (i + 1) * (m + 1)) for m in range(len(measures))],
        }
        for i, dim in enumerate(dims)
    ]
    return {
        "status": 1,
        "reportName": f"{chart_type} 报表",
        "chartType": chart_type,
        "chart": {"type": chart_type, "display": chart_type},
        "measures": measures,
        "dimensions": [{"field": "#{contact.gender}", "fieldType": "text", "fieldLabel": "性别"}],
        "result": [{"dateList": DATES, "dimRsList": entries}],
    }


def without_dates(chart_type: str, slices: dict[str, str], measures: list[str]) -> dict:
    return {
        "status": 1,
        "reportName": f"{chart_type} 报表",
        "chartType": chart_type,
        "chart": {"type": chart_type, "display": chart_type},
        "measures": measures,
        "dimensions": [{"field": "#{contact.city}", "fieldType": "text", "fieldLabel": "城市"}],
        "result": [
            {"dimRsList": [{"dim": [k], "rs": [], "summary": [v]} for k, v in slices.items()]}
        ],
    }


COMPUTING = {"status": 0, "reportName": "618 复购"}
READY = over_time("LINE", ["总体"], ["下单次数"])


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def linkflow(settings):
    """Linkflow at the transport level: a token, and whatever routes a test adds."""
    settings.LINKFLOW_API_BASE_URL = BASE
    tokens._tokens.clear()
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/token").mock(
            return_value=httpx.Response(
                200, json={"token": "tok-1", "expiration": "2099-01-01 00:00:00"}
            )
        )
        yield router
    tokens._tokens.clear()


@pytest.fixture
def connected(brand):
    brand.linkflow_app_key = "respx-key"
    brand.linkflow_app_secret = "respx-secret"
    brand.save()
    return brand


@pytest.fixture
def enqueued(monkeypatch):
    """Poll tasks sent to the broker, recorded instead (the test runs them itself)."""
    sent = []
    poll = tasks.poll_linkflow_report
    monkeypatch.setattr(poll, "delay", lambda **kwargs: sent.append(("now", kwargs)))
    monkeypatch.setattr(
        poll,
        "apply_async",
        lambda kwargs=None, countdown=None, **_: sent.append((countdown, kwargs)),
    )
    return sent


@pytest.fixture
def poll_now(settings):
    """The next poll is due at once (the sandbox-free tests do not wait)."""
    settings.LINKFLOW_REPORT_POLL_SECONDS = 0
    return settings


def report_route(router, report_id: int, *answers):
    return router.get(f"/open/report/{report_id}").mock(
        side_effect=[
            a if isinstance(a, httpx.Response) else httpx.Response(200, json=a) for a in answers
        ]
    )


def opened(brand, report_id: int, django_capture_on_commit_callbacks) -> LinkflowReport:
    with scope(brand=brand), django_capture_on_commit_callbacks(execute=True):
        return services.linkflow_report_open(brand=brand, report_id=report_id)


def run_poll(report: LinkflowReport) -> str:
    result = tasks.poll_linkflow_report.apply(
        kwargs={"report_pk": report.pk, "brand_id": report.brand_id}
    )
    return result.get()


def fresh(report: LinkflowReport) -> LinkflowReport:
    with scopes_disabled():
        return LinkflowReport.objects.get(pk=report.pk)


# --- charts: every chart type --------------------------------------------------------------


def test_number_shows_each_measure_summary_as_a_big_number():
    body = without_dates("NUMBER", {"总体": "1,024"}, ["访问人数"])
    chart = chart_of(body)
    assert chart["kind"] == "numbers"
    assert chart["numbers"] == [{"label": "访问人数", "value": 1024.0, "text": "1,024"}]
    assert chart["table"]["columns"] == ["城市", "访问人数"]
    assert chart["table"]["rows"] == [["总体", "1,024"]]


def test_pie_has_one_slice_per_dimension_value():
    chart = chart_of(without_dates("PIE", {"北京": "30", "上海": "12.5", "其他": "-"}, ["人数"]))
    assert chart["kind"] == "pie"
    assert chart["labels"] == ["北京", "上海", "其他"]
    assert chart["series"] == [{"label": "人数", "data": [30.0, 12.5, None]}]
    assert chart["table"]["rows"][2] == ["其他", "-"]


@pytest.mark.parametrize("chart_type, render", [("LINE", "line"), ("BAR", "bar")])
def test_line_and_bar_draw_each_measure_over_the_dates(chart_type, render):
    chart = chart_of(over_time(chart_type, ["总体"], ["下单次数", "支付次数"]))
    assert chart["kind"] == "series" and not chart["stacked"]
    assert chart["labels"] == DATES
    assert [s["label"] for s in chart["series"]] == ["下单次数", "支付次数"]
    assert chart["series"][1]["data"] == [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]
    assert {s["render"] for s in chart["series"]} == {render}
    table = chart["table"]
    assert table["columns"][1:] == ["性别", "下单次数", "支付次数"]  # after the date column
    assert table["label_columns"] == 2
    assert len(table["rows"]) == 7 + 1  # a row per date, then the summary
    assert table["rows"][-1][1:] == ["总体", "28", "56"]


def test_stack_bar_stacks_dimension_values_of_the_same_measure():
    chart = chart_of(over_time("STACK_BAR", ["男", "女"], ["人数"]))
    assert chart["stacked"] is True
    assert [s["label"] for s in chart["series"]] == ["男", "女"]
    assert {s["stack"] for s in chart["series"]} == {"m0"}
    assert {s["render"] for s in chart["series"]} == {"bar"}
    assert chart["series"][1]["data"][0] == 2.0


def test_stack_bar_without_dates_stacks_a_bar_per_measure():
    chart = chart_of(without_dates("STACK_BAR", {"男": "3", "女": "5"}, ["人数"]))
    assert chart["labels"] == ["人数"]
    assert [(s["label"], s["data"]) for s in chart["series"]] == [("男", [3.0]), ("女", [5.0])]


def test_two_y_axes_follow_the_axis_setting_of_the_spec_sample():
    chart = chart_of(SPEC_SAMPLE)
    assert chart["type"] == "TWO_YAXIS"
    left, right = chart["series"]
    assert (left["label"], left["axis"], left["render"]) == ("任意事件的总次数", "left", "bar")
    assert (right["label"], right["axis"], right["render"]) == ("创建订单的总次数", "right", "line")
    assert left["data"] == [0.0] * 7
    assert right["data"] == [None] * 7  # the sample's rows carry only the first measure
    assert chart["table"]["columns"][1] == "性别"


def test_line_area_is_stacked_and_filled():
    chart = chart_of(over_time("LINE_AREA", ["新客", "老客"], ["访问次数"]))
    assert chart["stacked"] is True
    assert {s["render"] for s in chart["series"]} == {"area"}
    assert len(chart["series"]) == 2


def test_table_and_unknown_types_are_shown_as_a_table():
    table = chart_of(over_time("TABLE", ["男", "女"], ["人数", "金额"]))
    assert table["kind"] == "table" and table["known_type"]
    assert len(table["table"]["rows"]) == 2 * (7 + 1)
    unknown = chart_of({**over_time("LINE", ["总体"], ["人数"]), "chartType": "FUNNEL"})
    assert unknown["kind"] == "table" and not unknown["known_type"]
    assert unknown["type_label"] == "FUNNEL"


def test_a_body_without_result_draws_nothing_but_says_so():
    chart = chart_of({"status": 1, "chartType": "LINE", "measures": [], "result": []})
    assert chart["series"] == [] and chart["table"]["rows"] == []
    assert chart_of(None) is None


# --- opening and polling (services and task, respx) --------------------------------------


def test_opening_a_report_keeps_a_pending_snapshot_and_polls_once(
    connected, enqueued, django_capture_on_commit_callbacks
):
    report = opened(connected, 101, django_capture_on_commit_callbacks)
    assert report.status == LinkflowReportStatus.PENDING and report.requested_at
    assert enqueued == [("now", {"report_pk": report.pk, "brand_id": connected.pk})]

    again = opened(connected, 101, django_capture_on_commit_callbacks)
    assert again.pk == report.pk
    assert len(enqueued) == 1  # already being fetched: no second poll chain


def test_the_poll_stores_computing_then_the_body_when_ready(
    connected, linkflow, enqueued, poll_now, django_capture_on_commit_callbacks
):
    route = report_route(linkflow, 202, COMPUTING, READY)
    report = opened(connected, 202, django_capture_on_commit_callbacks)

    assert run_poll(report) == "computing"
    row = fresh(report)
    assert (row.status, row.name, row.poll_count, row.body) == ("computing", "618 复购", 1, None)
    assert enqueued[-1] == (0, {"report_pk": report.pk, "brand_id": connected.pk})

    assert run_poll(report) == "ready"
    row = fresh(report)
    assert row.status == "ready" and row.body == READY and row.chart_type == "LINE"
    assert row.name == "LINE 报表" and row.ready_at and row.next_poll_at is None
    assert route.call_count == 2
    assert route.calls.last.request.headers["X-OpenApi-Token"] == "tok-1"
    assert len(enqueued) == 2  # no poll after ready

    assert run_poll(report) == "ready"  # a late duplicate does nothing
    assert route.call_count == 2


def test_a_duplicate_poll_that_is_not_due_asks_nothing(
    connected, linkflow, enqueued, settings, django_capture_on_commit_callbacks
):
    settings.LINKFLOW_REPORT_POLL_SECONDS = 30
    route = report_route(linkflow, 303, COMPUTING, COMPUTING)
    report = opened(connected, 303, django_capture_on_commit_callbacks)
    run_poll(report)
    run_poll(report)
    assert route.call_count == 1
    assert [countdown for countdown, _ in enqueued] == ["now", 30]


def test_of_two_concurrent_polls_only_one_books_the_next(
    connected, linkflow, enqueued, poll_now, django_capture_on_commit_callbacks
):
    report = opened(connected, 404, django_capture_on_commit_callbacks)
    inner = []

    def answer(request):
        if not inner:  # a second poll runs while the first waits for Linkflow
            inner.append(None)
            inner[0] = services.linkflow_report_poll(report_pk=report.pk)
        return httpx.Response(200, json=COMPUTING)

    linkflow.get("/open/report/404").mock(side_effect=answer)
    with scope(brand=connected):
        outer = services.linkflow_report_poll(report_pk=report.pk)
    assert inner[0].booked_next is True
    assert outer.booked_next is False
    assert fresh(report).poll_count == 1


def test_a_refusal_fails_the_report_with_linkflows_code(
    connected, linkflow, enqueued, django_capture_on_commit_callbacks
):
    refusal = httpx.Response(404, json={"code": "B00008", "message": "报表不存在"})
    report_route(linkflow, 505, refusal)
    report = opened(connected, 505, django_capture_on_commit_callbacks)
    assert run_poll(report) == "failed"
    row = fresh(report)
    assert row.error == "B00008: 报表不存在" and row.next_poll_at is None
    assert len(enqueued) == 1


def test_an_answer_without_status_fails_as_unexpected(
    connected, linkflow, enqueued, django_capture_on_commit_callbacks
):
    report_route(linkflow, 606, {"reportName": "x"})
    report = opened(connected, 606, django_capture_on_commit_callbacks)
    assert run_poll(report) == "failed"
    assert fresh(report).error
    assert fresh(report).next_poll_at is None and len(enqueued) == 1


def test_outages_are_retried_with_backoff_then_fail_and_can_be_refreshed(
    connected, linkflow, enqueued, django_capture_on_commit_callbacks
):
    route = linkflow.get("/open/report/707").mock(return_value=httpx.Response(503))
    report = opened(connected, 707, django_capture_on_commit_callbacks)

    assert run_poll(report) == "failed"  # eager retries run at once
    # Each task run is one read, which the client itself tries 3 times (stamina's test mode).
    assert route.call_count == (1 + tasks.TRANSPORT_RETRIES) * 3
    row = fresh(report)
    assert row.status == "failed" and "503" in row.error
    assert str(tasks.TRANSPORT_RETRIES + 1) in row.error  # how many attempts were made

    route.mock(return_value=httpx.Response(200, json=READY))
    with scope(brand=connected), django_capture_on_commit_callbacks(execute=True):
        again = services.linkflow_report_open(brand=connected, report_id=707, refresh=True)
    assert again.status == "pending" and again.error == ""
    assert run_poll(again) == "ready"


def test_polling_gives_up_after_the_configured_time(
    connected, linkflow, enqueued, settings, django_capture_on_commit_callbacks
):
    settings.LINKFLOW_REPORT_POLL_GIVE_UP_SECONDS = 10
    route = report_route(linkflow, 808, COMPUTING)
    report = opened(connected, 808, django_capture_on_commit_callbacks)
    with scopes_disabled():
        LinkflowReport.objects.filter(pk=report.pk).update(
            requested_at=timezone.now() - timedelta(seconds=11)
        )
    assert run_poll(report) == "failed"
    assert route.call_count == 0
    assert "10" in fresh(report).error


def test_a_refresh_keeps_the_body_until_the_new_one_and_starts_one_chain(
    connected, linkflow, enqueued, poll_now, django_capture_on_commit_callbacks
):
    newer = copy.deepcopy(READY)
    newer["result"][0]["dimRsList"][0]["summary"] = ["99"]
    report_route(linkflow, 909, READY, COMPUTING, newer)
    report = opened(connected, 909, django_capture_on_commit_callbacks)
    run_poll(report)

    with scope(brand=connected), django_capture_on_commit_callbacks(execute=True):
        first = services.linkflow_report_open(brand=connected, report_id=909, refresh=True)
        second = services.linkflow_report_open(brand=connected, report_id=909, refresh=True)
    assert first.status == second.status == "pending"
    assert second.body == READY  # the previous result stays visible meanwhile
    assert [c for c, _ in enqueued].count("now") == 2  # the first open and one refresh

    assert run_poll(report) == "computing"
    assert fresh(report).body == READY
    assert run_poll(report) == "ready"
    assert fresh(report).body["result"][0]["dimRsList"][0]["summary"] == ["99"]


def test_a_lost_poll_chain_is_resumed(connected, enqueued, django_capture_on_commit_callbacks):
    report = opened(connected, 111, django_capture_on_commit_callbacks)
    assert tasks.resume_overdue_report_polls() == 0
    with scopes_disabled():
        LinkflowReport.objects.filter(pk=report.pk).update(
            next_poll_at=timezone.now() - timedelta(seconds=services.POLL_OVERDUE_SECONDS + 5)
        )
    assert tasks.resume_overdue_report_polls() == 1
    assert enqueued[-1] == ("now", {"report_pk": report.pk, "brand_id": connected.pk})


def test_opening_without_linkflow_is_refused(brand):
    from brands.linkflow import LinkflowNotConnected

    with scope(brand=brand), pytest.raises(LinkflowNotConnected):
        services.linkflow_report_open(brand=brand, report_id=1)


def test_a_worker_discovers_the_poll_tasks():
    """In a fresh process, as `celery -A portal worker` starts: this test module imports the
    tasks itself, so only another process can tell whether autodiscovery finds them."""
    code = (
        "import django; django.setup(); from portal.celery import app; "
        "app.loader.import_default_modules(); "
        "print(sorted(n for n in app.tasks if n.startswith('reports.cdp.')))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == str(
        sorted([tasks.poll_linkflow_report.name, tasks.resume_overdue_report_polls.name])
    )


# --- REST API ------------------------------------------------------------------------------


def report_url(report_id: int) -> str:
    return reverse("v1:cdp-report", args=[report_id])


def dashboard_url(dashboard_id: int) -> str:
    return reverse("v1:cdp-dashboard", args=[dashboard_id])


def test_api_get_starts_fetching_and_answers_the_snapshot(
    connected, brand_client, linkflow, enqueued, poll_now, django_capture_on_commit_callbacks
):
    report_route(linkflow, 42, READY)
    with django_capture_on_commit_callbacks(execute=True):
        first = brand_client.get(report_url(42))
    assert first.status_code == 200
    assert first.json()["status"] == "pending" and first.json()["body"] is None
    assert len(enqueued) == 1

    with scopes_disabled():
        run_poll(LinkflowReport.objects.get(report_id=42))
    ready = brand_client.get(report_url(42)).json()
    assert ready["status"] == "ready" and ready["body"] == READY
    assert ready["chart"]["kind"] == "series" and ready["chart"]["labels"] == DATES
    assert ready["name"] == "LINE 报表" and ready["chart_type"] == "LINE"
    assert len(enqueued) == 1


def test_api_post_refreshes(connected, brand_client, enqueued, django_capture_on_commit_callbacks):
    with scope(brand=connected):
        LinkflowReport.objects.create(
            brand=connected, report_id=43, status="ready", body=READY, ready_at=timezone.now()
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = brand_client.post(report_url(43))
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert response.json()["body"] == READY
    assert len(enqueued) == 1


def test_api_not_connected_is_409(brand_client):
    response = brand_client.get(report_url(44))
    assert response.status_code == 409
    assert response.json()["code"] == "linkflow_not_connected"
    assert response.json()["detail"]
    assert brand_client.get(dashboard_url(1)).status_code == 409


def test_api_ids_beyond_linkflows_range_are_404(connected, brand_client):
    assert brand_client.get(report_url(2**63)).status_code == 404
    assert brand_client.get(dashboard_url(0)).status_code == 404


def test_api_dashboard_lists_its_reports_with_the_snapshot_status(
    connected, brand_client, linkflow
):
    linkflow.get("/open/dashboard/7/summary").mock(
        return_value=httpx.Response(
            200,
            json={
                "kanBanName": "y01",
                "reports": [{"id": 404, "reportName": "归因无"}, {"id": 410, "reportName": "统计"}],
            },
        )
    )
    with scope(brand=connected):
        LinkflowReport.objects.create(brand=connected, report_id=410, status="ready")
    response = brand_client.get(dashboard_url(7))
    assert response.status_code == 200
    assert response.json() == {
        "dashboard_id": 7,
        "name": "y01",
        "reports": [
            {"id": 404, "name": "归因无", "status": None},
            {"id": 410, "name": "统计", "status": "ready"},
        ],
    }
    with scope(brand=connected):
        assert LinkflowDashboard.objects.get(dashboard_id=7).name == "y01"


def test_api_dashboard_linkflow_errors_are_502_with_code_and_message(
    connected, brand_client, linkflow
):
    route = linkflow.get("/open/dashboard/8/summary")
    route.mock(return_value=httpx.Response(500, json={"code": "B00010", "message": "参数不合法"}))
    refused = brand_client.get(dashboard_url(8))
    assert refused.status_code == 502
    assert refused.json() == {
        "detail": "B00010: 参数不合法",
        "code": "B00010",
        "message": "参数不合法",
    }
    route.mock(side_effect=httpx.ConnectError("down"))
    down = brand_client.get(dashboard_url(8))
    assert down.status_code == 502 and down.json()["code"] == "linkflow_error"


def test_api_an_unknown_dashboard_is_404_not_502(connected, brand_client, linkflow):
    linkflow.get("/open/dashboard/9/summary").mock(
        return_value=httpx.Response(404, json={"code": "B00008", "message": "仪表盘不存在"})
    )
    assert brand_client.get(dashboard_url(9)).status_code == 404


def test_api_needs_a_brand(client, db):
    staff = get_user_model().objects.create_user(username="staff", password="pw-Secret-123")
    client.force_login(staff)
    assert client.get(report_url(1)).status_code == 403
    client.logout()
    assert client.get(report_url(1)).status_code == 403


def test_schema_names_the_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {"cdp_report_retrieve", "cdp_report_refresh", "cdp_dashboard_retrieve"} <= operations


# --- tenancy -------------------------------------------------------------------------------


def test_another_brands_snapshot_is_never_visible(
    connected, other_brand, brand_client, enqueued, django_capture_on_commit_callbacks
):
    with scope(brand=other_brand):
        LinkflowReport.objects.create(
            brand=other_brand, report_id=77, name="别家的报表", status="ready", body=READY
        )
        LinkflowDashboard.objects.create(
            brand=other_brand, dashboard_id=5, name="别家看板", opened_at=timezone.now()
        )
    with django_capture_on_commit_callbacks(execute=True):
        mine = brand_client.get(report_url(77)).json()
    assert mine["status"] == "pending" and mine["body"] is None and mine["name"] == ""
    with scopes_disabled():
        assert LinkflowReport.objects.filter(report_id=77).count() == 2
    index = brand_client.get(reverse("cdp_reports:dashboards")).content.decode()
    assert "别家看板" not in index and "别家的报表" not in index


def test_snapshots_cannot_be_read_outside_a_scope(connected):
    from django_scopes.exceptions import ScopeError

    with pytest.raises(ScopeError):
        list(LinkflowReport.objects.all())


# --- pages ---------------------------------------------------------------------------------


def test_index_explains_there_is_no_listing_and_opens_by_id(connected, brand_client):
    page = brand_client.get(reverse("cdp_reports:dashboards"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="open-dashboard"' in html and 'data-testid="open-report"' in html

    go = brand_client.get(reverse("cdp_reports:dashboards"), {"dashboard_id": "12"})
    assert go.status_code == 302 and go.url == reverse("cdp_reports:dashboard", args=[12])
    go = brand_client.get(reverse("cdp_reports:dashboards"), {"report_id": "34"})
    assert go.url == reverse("cdp_reports:report", args=[34])
    bad = brand_client.get(reverse("cdp_reports:dashboards"), {"report_id": "abc"})
    assert bad.status_code == 200 and 'id="report-errors"' in bad.content.decode()


def test_pages_without_linkflow_link_to_settings(brand_client):
    settings_url = reverse("brands:settings")
    for url in (
        reverse("cdp_reports:dashboards"),
        reverse("cdp_reports:dashboard", args=[1]),
        reverse("cdp_reports:report", args=[1]),
    ):
        page = brand_client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "linkflow-not-connected" in html and settings_url in html


def test_dashboard_page_links_its_reports_and_is_remembered(connected, brand_client, linkflow):
    linkflow.get("/open/dashboard/9/summary").mock(
        return_value=httpx.Response(
            200, json={"kanBanName": "大促看板", "reports": [{"id": 655, "reportName": "生日"}]}
        )
    )
    page = brand_client.get(reverse("cdp_reports:dashboard", args=[9]))
    html = page.content.decode()
    assert page.status_code == 200 and "大促看板" in html
    assert reverse("cdp_reports:report", args=[655]) + "?dashboard=9" in html
    index = brand_client.get(reverse("cdp_reports:dashboards")).content.decode()
    assert "大促看板" in index


def test_dashboard_page_shows_linkflows_refusal(connected, brand_client, linkflow):
    linkflow.get("/open/dashboard/10/summary").mock(
        return_value=httpx.Response(404, json={"code": "B00008", "message": "仪表盘不存在"})
    )
    page = brand_client.get(reverse("cdp_reports:dashboard", args=[10]))
    html = page.content.decode()
    assert "linkflow-error" in html and "B00008" in html and "仪表盘不存在" in html


def test_report_page_while_computing_then_ready(
    connected, brand_client, linkflow, enqueued, poll_now, django_capture_on_commit_callbacks
):
    report_route(linkflow, 55, COMPUTING, over_time("TWO_YAXIS", ["总体"], ["访问", "下单"]))
    with django_capture_on_commit_callbacks(execute=True):
        page = brand_client.get(reverse("cdp_reports:report", args=[55]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="report-computing"' in html and 'id="report-progress" ' in html
    assert 'data-api="' + report_url(55) + '"' in html
    assert 'id="report-state"' in html

    with scopes_disabled():
        report = LinkflowReport.objects.get(report_id=55)
    run_poll(report)
    run_poll(report)
    html = brand_client.get(reverse("cdp_reports:report", args=[55])).content.decode()
    assert "TWO_YAXIS 报表" in html
    assert '<th scope="row">2024-05-26</th>' in html  # the data table, rendered on the server
    assert (
        'id="report-progress" role="status" aria-live="polite" class="notice cdp-progress" hidden'
        in html
    )


def test_report_page_shows_the_failure_and_refreshes_on_post(
    connected, brand_client, enqueued, django_capture_on_commit_callbacks
):
    with scope(brand=connected):
        LinkflowReport.objects.create(
            brand=connected, report_id=66, status="failed", error="B00008: 报表不存在"
        )
    html = brand_client.get(reverse("cdp_reports:report", args=[66])).content.decode()
    assert "B00008: 报表不存在" in html and 'id="refresh-report"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = brand_client.post(reverse("cdp_reports:refresh", args=[66]))
    assert response.status_code == 302
    assert response.url == reverse("cdp_reports:report", args=[66])
    assert len(enqueued) == 1
    with scope(brand=connected):
        assert LinkflowReport.objects.get(report_id=66).status == "pending"


def test_a_preview_session_reads_but_cannot_refresh(client, connected, enqueued):
    session = client.session
    session[PREVIEW_SESSION_KEY] = {"brand_id": connected.pk, "expires_at": 4_000_000_000}
    session.save()
    with scope(brand=connected):
        LinkflowReport.objects.create(brand=connected, report_id=67, status="ready", body=READY)
    page = client.get(reverse("cdp_reports:report", args=[67]))
    assert page.status_code == 200 and 'id="refresh-report"' not in page.content.decode()
    assert client.get(report_url(67)).status_code == 200
    assert client.post(reverse("cdp_reports:refresh", args=[67])).status_code == 403
    assert client.post(report_url(67)).status_code == 403
    assert enqueued == []


# --- against the sandbox's Linkflow side (real HTTP) --------------------------------------

# sandbox/linkflow/reports.py: the seeded reports of the first workspace.
SEEDED = {
    404: ("NUMBER", "numbers"),
    410: ("PIE", "pie"),
    411: ("LINE", "series"),
    412: ("BAR", "series"),
    413: ("TWO_YAXIS", "series"),
    597: ("STACK_BAR", "series"),
    655: ("LINE_AREA", "series"),
    656: ("TABLE", "table"),
}


def test_every_seeded_report_computes_then_is_ready_sandbox(
    linkflow_brand, control, enqueued, poll_now, django_capture_on_commit_callbacks
):
    control.post("/linkflow", json={"report_seconds": 6}).raise_for_status()
    reports = {
        report_id: opened(linkflow_brand, report_id, django_capture_on_commit_callbacks)
        for report_id in SEEDED
    }
    for report in reports.values():
        outcome = services.linkflow_report_poll(report_pk=report.pk)
        assert outcome.report.status == "computing" and outcome.booked_next
        assert outcome.report.name  # Linkflow names it while computing

    control.post("/clock/advance", json={"seconds": 7}).raise_for_status()
    for report_id, (chart_type, kind) in SEEDED.items():
        outcome = services.linkflow_report_poll(report_pk=reports[report_id].pk)
        report = outcome.report
        assert report.status == "ready" and not outcome.booked_next, report.error
        assert report.chart_type == chart_type
        chart = chart_of(report.body)
        assert chart["kind"] == kind and chart["table"]["rows"], chart_type
        if kind == "series":
            assert len(chart["labels"]) == 7
            assert all(v is not None for s in chart["series"] for v in s["data"])
    stacked = chart_of(fresh(reports[597]).body)
    assert stacked["stacked"] and len(stacked["series"]) >= 2


def test_an_unknown_report_fails_with_linkflows_code_sandbox(
    linkflow_brand, control, enqueued, django_capture_on_commit_callbacks
):
    report = opened(linkflow_brand, 999_999, django_capture_on_commit_callbacks)
    assert services.linkflow_report_poll(report_pk=report.pk).report.status == "failed"
    assert fresh(report).error.startswith("B00008: ")


def test_dashboards_over_the_api_sandbox(linkflow_brand, brand_client):
    board = brand_client.get(dashboard_url(23))
    assert board.status_code == 200, board.content
    assert [r["id"] for r in board.json()["reports"]] == list(SEEDED)
    assert board.json()["name"] == "y01"
    missing = brand_client.get(dashboard_url(999))
    assert missing.status_code == 404  # Linkflow has no such dashboard


# --- admin ---------------------------------------------------------------------------------


def test_admin_fetches_finished_reports_again(
    connected, other_brand, rf, enqueued, django_capture_on_commit_callbacks
):
    from django.contrib import admin
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    from reports.cdp.admin import LinkflowReportAdmin

    with scopes_disabled():
        LinkflowReport.objects.create(brand=connected, report_id=1, status="failed", error="x")
        LinkflowReport.objects.create(brand=other_brand, report_id=2, status="ready")
        request = rf.post("/admin/")
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        model_admin = LinkflowReportAdmin(LinkflowReport, admin.site)
        with django_capture_on_commit_callbacks(execute=True):
            model_admin.fetch_again(request, LinkflowReport.objects.all())
        statuses = dict(LinkflowReport.objects.values_list("report_id", "status"))
    assert statuses == {1: "pending", 2: "ready"}  # the other brand has no Linkflow
    assert len(enqueued) == 1
    shown = [str(m) for m in request._messages]
    assert len(shown) == 2 and any(m.startswith(f"{other_brand}: ") for m in shown)
