"""A brand user opens the reports in a real browser and sees Chart.js draw them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from crowds.models import CrowdInstance, InstanceOrigin
from reports import services
from tests.reports.test_reports import SPEC_ROW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_day(package_id: str, n: int) -> dict:
    """A plausible exposure row, fading after the send like a real campaign."""
    uv = 4000 // (n + 1)
    return {
        **SPEC_ROW,
        "package_id": package_id,
        "report_type": "exposure",
        "delivered_num": 48_000,
        "people_sent_num": 50_000,
        "pv": uv * 2 + 37,
        "uv": uv,
        "cart_num": uv // 4,
        "ord_pins": uv // 9,
        "ord_num": uv // 8,
        "pay_pins": uv // 11,
        "ord_amount": uv * 31.5,
        "pay_amount": uv * 27.2,
        "coupon_pins": uv // 3,
        "coupon_use_pins": uv // 12,
        "coupon_orders": uv // 13,
        "coupon_amount": uv * 3.1,
    }


@pytest.fixture
def stored_days(brand):
    """Six days of one package; the oldest day has an unreadable top-5 list."""
    yesterday = timezone.localdate() - timedelta(days=1)
    with scope(brand=brand):
        CrowdInstance.objects.create(
            brand=brand, package_id="pkg-618", name="618 老客召回", origin=InstanceOrigin.INIT
        )
        for n in range(6):
            row = a_day("pkg-618", n)
            if n == 0:
                row["browse_sku_top5"] = "1_100003730605*2_坏的_3"
            services.report_rows_store(
                brand=brand,
                report_date=yesterday - timedelta(days=5 - n),
                report_type="exposure",
                raw_rows=[row, {**a_day("pkg-other", n + 2), "reach_type": "COUPONPUBLIC"}],
            )
    return "pkg-618"


@pytest.fixture
def logged_in(live_server, page, client, brand, make_brand_user):
    client.force_login(make_brand_user(brand).user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return brand


def test_a_package_report_draws_its_charts(live_server, page, screenshot, logged_in, stored_days):
    page.emulate_media(reduced_motion="reduce")  # no animation: the screenshot is final
    page.goto(f"{live_server.url}/reports/packages/{stored_days}/")

    page.wait_for_selector("canvas#package-trend")
    page.wait_for_function("typeof Chart !== 'undefined'")
    assert page.evaluate("Chart.getChart(document.querySelector('canvas')) !== undefined")
    trend = page.evaluate(
        "(() => { const c = Chart.getChart('package-trend');"
        " return {labels: c.data.labels.length, series: c.data.datasets.length}; })()"
    )
    assert trend == {"labels": 6, "series": 5}
    funnel = page.evaluate("Chart.getChart('package-funnel').data.datasets[0].data")
    assert funnel[0] > funnel[1] > funnel[2] > funnel[3] > funnel[4] > 0
    top = page.evaluate("Chart.getChart('top-sku-chart').data.labels")
    assert len(top) == 5

    # Choosing another list redraws the top-product chart with it.
    page.select_option("#top-list-select", "pay_amount_top5")
    assert page.evaluate("Chart.getChart('top-sku-chart').data.labels[0]") == "4070763"
    expect(page.locator("#top5-malformed")).to_contain_text("1_100003730605*2_坏的_3")
    screenshot("package-report")


def test_the_overview_draws_the_trend_of_all_packages(
    live_server, page, screenshot, logged_in, stored_days
):
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server.url}/reports/")

    page.wait_for_function("typeof Chart !== 'undefined' && Chart.getChart('overview-trend')")
    datasets = page.evaluate("Chart.getChart('overview-trend').data.datasets.length")
    assert datasets == 2
    expect(page.locator("#package-table tbody tr")).to_have_count(2)
    screenshot("reports-overview")
