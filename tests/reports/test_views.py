"""The report pages: overview, one package, the uplift of a split, their CSV exports and
the on-demand re-pull. Labels are not translated yet, so the assertions read structure
(ids, data attributes) and numbers, not words."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from brands.middleware import PREVIEW_SESSION_KEY
from campaigns.models import Reach
from crowds.models import CrowdInstance, InstanceOrigin, InstanceStatus
from reports import services
from reports.csv_export import BOM
from reports.models import ReportRow
from reports.views import OVERVIEW_CSV_COLUMNS, UPLIFT_CSV_HEADER, _column_label
from tests.reports.test_reports import SPEC_ROW

pytestmark = pytest.mark.django_db
YESTERDAY = timezone.localdate() - timedelta(days=1)


def store(brand, day: date, *rows: dict, report_type: str = "exposure") -> dict:
    raw_rows = [{**SPEC_ROW, "report_type": report_type, **row} for row in rows]
    with scope(brand=brand):
        return services.report_rows_store(
            brand=brand, report_date=day, report_type=report_type, raw_rows=raw_rows
        )


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith(BOM), "Excel needs the BOM to read UTF-8"
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(text.removeprefix(BOM))))


def page_json(response, element_id: str):
    """The payload of a `json_script` element of the page."""
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture
def three_days(brand):
    """Two packages over the last three days; p1 reached 1 000 people, p2 held out."""
    for offset in range(3):
        day = YESTERDAY - timedelta(days=offset)
        store(
            brand,
            day,
            {
                "package_id": "p1",
                "delivered_num": 1000,
                "pv": 50 + offset,
                "uv": 40,
                "cart_num": 10,
                "ord_num": 5,
                "pay_pins": 4,
                "pay_amount": "100.50",
            },
            {"package_id": "p2", "reach_type": "NULL", "delivered_num": 0, "pay_pins": 1},
        )
    with scope(brand=brand):
        CrowdInstance.objects.create(
            brand=brand, package_id="p1", name="高价值会员", origin=InstanceOrigin.INIT
        )


def test_the_overview_shows_totals_trend_and_a_row_per_package(brand_client, three_days):
    response = brand_client.get(reverse("reports:overview"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-package-id="p1"' in html and 'data-package-id="p2"' in html
    assert "高价值会员" in html
    assert reverse("reports:package", args=["p1"]) in html
    totals = response.context["totals"]
    # delivered is a running total: the largest figure per package, not a sum of days
    assert totals["delivered"] == 1000
    assert totals["pay_pins"] == 3 * 4 + 3 * 1
    assert str(totals["pay_amount"]) == "304.50"
    p1 = next(p for p in response.context["page_obj"].object_list if p.package_id == "p1")
    assert p1.conversion == pytest.approx(12 / 1000) and p1.ord_num == 15 and p1.name
    trend = page_json(response, "overview-trend-data")
    assert trend["labels"][-1] == YESTERDAY.isoformat() and len(trend["labels"]) == 3
    assert [series["axis"] for series in trend["series"]] == ["money", "count"]
    assert trend["series"][0]["data"] == [101.5, 101.5, 101.5]
    assert 'id="repull-form"' in html


def test_the_overview_filters_by_period_and_type(brand_client, three_days):
    response = brand_client.get(
        reverse("reports:overview"),
        {"date_from": YESTERDAY.isoformat(), "date_to": YESTERDAY.isoformat()},
    )
    assert response.context["totals"]["pay_pins"] == 5

    clicks = brand_client.get(reverse("reports:overview"), {"report_type": "click"})
    assert clicks.context["package_count"] == 0 and 'id="no-reports"' in clicks.content.decode()

    backwards = brand_client.get(
        reverse("reports:overview"), {"date_from": "2026-02-01", "date_to": "2026-01-01"}
    )
    assert backwards.status_code == 200 and backwards.context["period"].errors


def test_the_overview_csv_has_the_header_a_bom_and_a_row_per_package(brand_client, three_days):
    response = brand_client.get(reverse("reports:overview"), {"format": "csv"})

    rows = read_csv(response)
    assert rows[0] == [_column_label(name, label) for name, label in OVERVIEW_CSV_COLUMNS]
    by_package = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_package) == {"p1", "p2"}
    assert by_package["p1"][rows[0][1]] == "高价值会员"
    assert by_package["p1"][_column_label("pay_amount", None)] == "301.50"
    conversion = _column_label(
        "conversion_percent", dict(OVERVIEW_CSV_COLUMNS)["conversion_percent"]
    )
    assert by_package["p1"][conversion] == "1.2" and by_package["p2"][conversion] == ""


def test_a_formula_in_a_package_name_is_not_run_by_excel(brand, brand_client):
    store(brand, YESTERDAY, {"package_id": "p9"})
    with scope(brand=brand):
        CrowdInstance.objects.create(
            brand=brand, package_id="p9", name="=HYPERLINK(1)", origin=InstanceOrigin.INIT
        )
    rows = read_csv(brand_client.get(reverse("reports:overview"), {"format": "csv"}))
    assert rows[1][1] == "'=HYPERLINK(1)"


def test_the_package_page_has_trend_funnel_coupons_and_top_products(brand_client, three_days):
    response = brand_client.get(reverse("reports:package", args=["p1"]))

    assert response.status_code == 200
    html = response.content.decode()
    trend = page_json(response, "package-trend-data")
    assert len(trend["series"]) == 5 and trend["series"][0]["data"] == [52, 51, 50]
    funnel = page_json(response, "package-funnel-data")
    assert funnel["data"] == [153, 120, 30, 3, 12]
    top = page_json(response, "top-sku-data")["lists"]
    assert len(top) == 7
    # The spec's list arrives as ranks 1, 2, 4, 5, 3 and is shown in rank order.
    assert top["ord_qtty_top5"]["labels"][2] == "100003498910"
    assert top["ord_qtty_top5"]["data"] == [145, 84, 81, 54, 24]
    assert 'id="coupon-metrics"' in html and 'data-metric="coupon_amount"' in html
    assert response.context["latest"].report_date == YESTERDAY
    assert 'id="top5-malformed"' not in html and 'id="sms-result"' not in html
    assert 'id="uplift-link"' not in html


def test_a_click_report_leaves_out_page_views(brand, brand_client):
    store(brand, YESTERDAY, {"package_id": "p1"}, report_type="click")
    response = brand_client.get(reverse("reports:package", args=["p1"]))
    assert response.context["period"].report_type == "click"
    assert len(page_json(response, "package-funnel-data")["data"]) == 3


def test_the_package_csv_has_every_daily_row(brand_client, three_days):
    response = brand_client.get(reverse("reports:package", args=["p1"]), {"format": "csv"})

    rows = read_csv(response)
    assert len(rows[0]) == 3 + 23 + 1
    assert [row[0] for row in rows[1:]] == [
        (YESTERDAY - timedelta(days=n)).isoformat() for n in (2, 1, 0)
    ]
    assert all(row[1] == "exposure" for row in rows[1:])


def test_a_malformed_top5_row_shows_its_raw_string_and_a_warning(brand, brand_client):
    store(brand, YESTERDAY, {"package_id": "p1", "browse_sku_top5": "1_坏的*2"})

    response = brand_client.get(reverse("reports:package", args=["p1"]))

    html = response.content.decode()
    assert 'id="top5-malformed"' in html and 'data-field="browse_sku_top5"' in html
    assert "1_坏的*2" in html and 'class="flagged"' in html
    # The readable lists of that day are still shown.
    assert "browse_sku_top5" not in page_json(response, "top-sku-data")["lists"]
    assert len(page_json(response, "top-sku-data")["lists"]) == 6


def test_another_brands_package_is_not_found(brand, other_brand, client, make_brand_user):
    store(other_brand, YESTERDAY, {"package_id": "theirs"})
    with scope(brand=other_brand):
        theirs = CrowdInstance.objects.create(
            brand=other_brand, package_id="theirs", name="别家", origin=InstanceOrigin.INIT
        )
    client.force_login(make_brand_user(brand).user)

    assert client.get(reverse("reports:package", args=["theirs"])).status_code == 404
    assert client.get(reverse("reports:package", args=["nothing"])).status_code == 404
    assert client.get(reverse("reports:uplift", args=[theirs.pk])).status_code == 404
    overview = client.get(reverse("reports:overview"))
    assert overview.context["package_count"] == 0 and "theirs" not in overview.content.decode()
    assert len(read_csv(client.get(reverse("reports:overview"), {"format": "csv"}))) == 1


def test_the_pages_need_a_login(client):
    response = client.get(reverse("reports:overview"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_pages_stay_within_ten_queries(
    brand, brand_client, three_days, django_assert_max_num_queries
):
    for n in range(30):
        store(brand, YESTERDAY - timedelta(days=5 + n), {"package_id": f"extra-{n}"})
    with django_assert_max_num_queries(10):
        brand_client.get(reverse("reports:overview"))
    with django_assert_max_num_queries(10):
        brand_client.get(reverse("reports:overview"), {"format": "csv"})
    with django_assert_max_num_queries(10):
        brand_client.get(reverse("reports:package", args=["p1"]))


def split_with_reports(brand, *, people: int, converted: tuple[int, int]):
    """A split by hand: the parent, a reached part and a held-out part, with one day each."""
    with scope(brand=brand):
        parent = CrowdInstance.objects.create(
            brand=brand,
            package_id="parent",
            name="全部",
            origin=InstanceOrigin.INIT,
            status=InstanceStatus.GENERATED,
        )
        arms = []
        for name, package_id in (("触达组", "arm-a"), ("对照组", "arm-b")):
            child = CrowdInstance.objects.create(
                brand=brand,
                package_id=package_id,
                name=name,
                origin=InstanceOrigin.SPLIT,
                status=InstanceStatus.GENERATED,
                package_size=people,
            )
            child.parents.add(parent)
            arms.append(child)
        Reach.objects.create(
            brand=brand,
            instance=arms[0],
            reach_type="SMSPUBLIC",
            template_id="1",
            status=Reach.Status.SENT,
        )
    store(
        brand,
        YESTERDAY,
        {"package_id": "arm-a", "delivered_num": people, "pay_pins": converted[0]},
        {"package_id": "arm-b", "reach_type": "NULL", "delivered_num": 0, "pay_pins": converted[1]},
    )
    return parent, arms


def test_the_uplift_page_compares_the_arms_of_a_split(brand, brand_client):
    parent, (reached, held_out) = split_with_reports(brand, people=10_000, converted=(260, 200))

    response = brand_client.get(reverse("reports:uplift", args=[parent.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    (comparison,) = response.context["comparisons"]
    assert comparison["control"]["package_id"] == "arm-b"
    assert comparison["treatment"]["package_id"] == "arm-a"
    assert comparison["absolute_points"] == pytest.approx(0.6)
    assert comparison["relative_percent"] == pytest.approx(30.0)
    assert comparison["ci_low_points"] == pytest.approx(0.18458, abs=1e-4)
    assert 'data-significant="true"' in html and "too-small" not in html
    assert 'data-role="control" data-package-id="arm-b"' in html

    rows = read_csv(
        brand_client.get(reverse("reports:uplift", args=[parent.pk]), {"format": "csv"})
    )
    assert rows[0] == [str(label) for label in UPLIFT_CSV_HEADER]
    assert rows[1][0] == "arm-b" and rows[1][7] == "arm-a" and rows[1][18] == "1"

    # Each part's report links back to the uplift of its split.
    child_page = brand_client.get(reverse("reports:package", args=["arm-b"]))
    assert reverse("reports:uplift", args=[parent.pk]) in child_page.content.decode()


def test_the_split_pages_stay_within_ten_queries(
    brand, brand_client, django_assert_max_num_queries
):
    parent, _arms = split_with_reports(brand, people=10_000, converted=(260, 200))
    with django_assert_max_num_queries(10):
        brand_client.get(reverse("reports:uplift", args=[parent.pk]))
    with django_assert_max_num_queries(10):
        page = brand_client.get(reverse("reports:package", args=["arm-b"]))
    assert page.context["split_parent_id"] == parent.pk


def test_a_small_sample_says_so_plainly(brand, brand_client):
    parent, _arms = split_with_reports(brand, people=50, converted=(2, 1))

    response = brand_client.get(reverse("reports:uplift", args=[parent.pk]))

    html = response.content.decode()
    assert 'class="notice too-small"' in html and "只有 50 人" in html
    assert 'data-significant="false"' in html


def test_a_package_that_was_not_split_has_nothing_to_compare(brand, brand_client):
    with scope(brand=brand):
        alone = CrowdInstance.objects.create(
            brand=brand, package_id="alone", origin=InstanceOrigin.INIT
        )
    response = brand_client.get(reverse("reports:uplift", args=[alone.pk]))
    assert response.status_code == 200 and 'id="no-comparison"' in response.content.decode()


def test_a_preview_session_sees_the_reports_but_cannot_pull(brand, client, three_days):
    session = client.session
    session[PREVIEW_SESSION_KEY] = {"brand_id": brand.pk, "expires_at": time.time() + 600}
    session.save()

    page = client.get(reverse("reports:overview"))
    assert page.status_code == 200 and 'id="repull-form"' not in page.content.decode()
    assert client.post(reverse("reports:repull"), {"report_date": "2026-01-01"}).status_code == 403


# --- Against the sandbox ---------------------------------------------------------------


def sandbox_yesterday(control) -> date:
    return date.fromisoformat(control.get("/clock").json()["now"][:10]) - timedelta(days=1)


def test_pulling_a_day_again_stores_it_and_says_how_many_rows(
    jd_brand, control, client, make_brand_user
):
    client.force_login(make_brand_user(jd_brand).user)
    day = sandbox_yesterday(control)

    response = client.post(
        reverse("reports:repull"),
        {"report_date": day.isoformat(), "next": "/reports/?report_type=click"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/reports/?report_type=click"
    (message,) = list(response.context["messages"])
    assert message.level_tag == "success" and day.isoformat() in str(message)
    pulls = control.get("/requests", params={"path": "/report/pull"}).json()["requests"]
    assert len(pulls) == 1


def test_a_jd_failure_of_the_pull_is_a_message_not_an_error_page(
    jd_brand, control, client, make_brand_user
):
    client.force_login(make_brand_user(jd_brand).user)
    control.post("/faults", json={"path": "/report/pull", "kind": "code", "msg": "报表生成中"})

    response = client.post(
        reverse("reports:repull"),
        {"report_date": sandbox_yesterday(control).isoformat()},
        follow=True,
    )

    assert response.status_code == 200
    (message,) = list(response.context["messages"])
    assert message.level_tag == "error" and "报表生成中" in str(message)


def test_a_day_that_has_not_ended_cannot_be_pulled(jd_brand, control, client, make_brand_user):
    client.force_login(make_brand_user(jd_brand).user)
    response = client.post(
        reverse("reports:repull"), {"report_date": timezone.localdate().isoformat()}, follow=True
    )
    (message,) = list(response.context["messages"])
    assert message.level_tag == "error"
    assert control.get("/requests", params={"path": "/report/pull"}).json()["requests"] == []


def test_a_reached_package_shows_its_sms_results_and_links_to_the_uplift(
    jd_brand, control, client, make_brand_user, reached_split
):
    client.force_login(make_brand_user(jd_brand).user)
    instance, reached, held_out = (
        reached_split.parent,
        reached_split.reached,
        reached_split.held_out,
    )
    control.post("/clock/advance", json={"seconds": 3 * 86400})
    day = sandbox_yesterday(control)
    for offset in range(2):
        services.report_pull(brand=jd_brand, report_date=day - timedelta(days=offset))
    period = {"date_from": (day - timedelta(days=1)).isoformat(), "date_to": day.isoformat()}

    page = client.get(reverse("reports:package", args=[reached.package_id]), period)

    html = page.content.decode()
    assert page.status_code == 200 and 'id="sms-result"' in html
    assert page.context["sms_result"].success > 0
    assert reverse("reports:uplift", args=[instance.pk]) in html
    assert len(page.context["rows"]) == 2
    held_out_page = client.get(reverse("reports:package", args=[held_out.package_id]), period)
    assert 'id="sms-result"' not in held_out_page.content.decode()
    uplift = client.get(reverse("reports:uplift", args=[instance.pk]))
    assert len(uplift.context["comparisons"]) == 1
    assert ReportRow.objects.filter(package_id=reached.package_id).count() == 4

    control.post("/faults", json={"path": "/sms/result", "kind": "http_error", "status": 503})
    broken = client.get(reverse("reports:package", args=[reached.package_id]), period)
    assert broken.status_code == 200 and 'id="sms-error"' in broken.content.decode()
