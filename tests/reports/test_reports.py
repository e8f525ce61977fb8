# ruff: noqa: E501 - the spec's example strings are kept whole, as published
"""Report parsing, idempotent storage, uplift, and the pull against the sandbox."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from crowds import services as crowd_services
from reports import services
from reports.models import ReportRow
from reports.parsing import parse_row, parse_top5, read_row, top5_canonical, top5_entries
from reports.uplift import Arm, compare, split_uplift

# The spec's example row (获取人群营销报表), with its top-5 strings as published.
SPEC_ROW = {
    "pv": 1,
    "uv": 1,
    "package_id": "package_id",
    "shop_id": "1000003263",
    "reach_type": "SMSPRIVATE",
    "cart_num": 1,
    "sku_pv_num": 1,
    "sku_uv_num": 1,
    "shop_pv_num": 1,
    "shop_uv_num": 1,
    "follow_sku_num": 1,
    "follow_shop_num": 1,
    "ord_pins": 1,
    "ord_amount": 2,
    "ord_num": 1,
    "ord_qtty": 1,
    "pay_pins": 1,
    "pay_amount": 1,
    "pay_num": 1,
    "pay_qtty": 1,
    "people_sent_num": 1,
    "delivered_num": 1,
    "coupon_pins": 1,
    "coupon_use_pins": 1,
    "coupon_orders": 1,
    "coupon_amount": 1,
    "browse_sku_top5": "1_100003730605_918*2_100004121021_26*3_100006275844_22*4_100006275852_21*5_3368118_12",
    "cart_add_top5": "1_100003730605_522*2_100006275852_67*3_100006275844_52*4_100004121021_29*5_100003730609_25",
    "follow_product_top5": "1_100003730605_34*2_100006275844_2*3_100003730609_2*4_100002189622_2*5_4070763_1",
    "ord_qtty_top5": "1_4070763_145*2_4838712_84*4_100003730605_54*5_100006275852_24*3_100003498910_81",
    "ord_amount_top5": "1_4070763_419854.2*2_4838712_204361.6*3_100003730605_163860.0*4_100004325504_102530.0*5_100006275852_71760.0",
    "pay_qtty_top5": "1_4070763_114*2_4838712_63*4_100003730605_33*5_100006275852_13*3_100003498910_47",
    "pay_amount_top5": "1_4070763_324963.2*2_4838712_149071.6*3_100003730605_100170.0*4_100004325504_59700.0*5_100006275852_38870.0",
    "op_time": "2019-03-20",
    "report_type": "click",
}
DAY = date(2019, 3, 10)


def test_the_specs_example_row_is_read_with_ranked_top5():
    row = parse_row(SPEC_ROW, report_date=DAY, report_type="click")

    assert row.package_id == "package_id" and row.report_type == "click"
    assert row.values["ord_amount"] == Decimal("2.00") and row.values["delivered_num"] == 1
    assert row.values["shop_id"] == "1000003263" and row.values["op_time"] == "2019-03-20"
    assert row.malformed == [] and len(row.top) == 7
    ordered = row.top["ord_qtty_top5"]  # arrives as ranks 1, 2, 4, 5, 3
    assert [e.rank for e in ordered] == [1, 2, 3, 4, 5]
    assert ordered[2].sku_id == "100003498910" and ordered[2].value == 81
    assert row.top["pay_amount_top5"][0].value == Decimal("324963.2")


@pytest.mark.parametrize(
    "text", ["1_2", "a_b_c", "1_sku_x", "1_s_1*1_t_2", "0_s_1", "1__5"], ids=str
)
def test_malformed_top5_strings_raise(text):
    with pytest.raises(ValueError):
        parse_top5(text)
    with pytest.raises(ValueError):
        top5_canonical(text)


@pytest.mark.parametrize(
    "text",
    [
        SPEC_ROW["browse_sku_top5"],  # in order: the fast path keeps it as is
        SPEC_ROW["ord_qtty_top5"],  # out of order: sorted as text
        "3_c_3*1_a_1*2_b_2",
        "1_a_1*3_c_3",  # a rank missing: the general path
        "2_b_2.50*10_j_1*1_a_0",  # ranks of two digits
        " 1_a_1 * 2_b_2 *",  # blanks and a trailing separator
        "1_a_1e3*2_b_-4",  # values the fast path leaves to the general one
        "1_SKU-9_7",
    ],
    ids=str,
)
def test_canonical_lists_hold_the_entries_of_parse_top5_in_rank_order(text):
    canonical = top5_canonical(text)

    assert top5_entries(canonical) == parse_top5(text)
    assert top5_canonical(canonical) == canonical


def test_read_row_gives_column_values_and_refuses_what_no_column_holds():
    record = read_row({**SPEC_ROW, "pv": "12", "uv": 1.0, "ord_amount": 2.675}, report_type="click")
    values = dict(zip(("package_id", "report_type", "reach_type"), record, strict=False))
    assert values == {
        "package_id": "package_id",
        "report_type": "click",
        "reach_type": "SMSPRIVATE",
    }
    assert record[5:7] == (12, 1)  # pv, uv
    assert "2.68" in record  # ord_amount: rounded half away from zero, as PostgreSQL does
    for bad in ({"pv": 2**63}, {"ord_amount": "1e20"}, {"pv": "很多"}, {"report_type": "x"}):
        with pytest.raises((ValueError, ArithmeticError)):
            read_row({**SPEC_ROW, **bad}, report_type="click")
    with pytest.raises(ValueError):
        read_row({**SPEC_ROW, "package_id": "p" * 65}, report_type="click")


@pytest.mark.django_db
def test_storing_is_idempotent_and_a_malformed_row_never_breaks_the_pull(brand):
    from django_scopes import scope

    broken_top = {**SPEC_ROW, "package_id": "p2", "browse_sku_top5": "不是榜单"}
    broken_metric = {**SPEC_ROW, "package_id": "p3", "pv": "很多"}
    with scope(brand=brand):
        first = services.report_rows_store(
            brand=brand,
            report_date=DAY,
            report_type="click",
            raw_rows=[SPEC_ROW, broken_top, broken_metric],
        )
        again = services.report_rows_store(
            brand=brand,
            report_date=DAY,
            report_type="click",
            raw_rows=[SPEC_ROW, broken_top, broken_metric],
        )

        assert first == again == {"stored": 2, "skipped": 1, "malformed_top5": 1}
        assert ReportRow.objects.count() == 2
        flagged = ReportRow.objects.get(package_id="p2")
        assert flagged.top5_malformed and flagged.top5_raw == {"browse_sku_top5": "不是榜单"}
        assert "browse_sku_top5" not in flagged.top5 and len(flagged.top5) == 6
        whole = ReportRow.objects.get(package_id="package_id")
        assert whole.top5_raw == {} and not whole.top5_malformed
        assert sum(len(top5_entries(text)) for text in whole.top5.values()) == 35
        assert whole.top5["ord_qtty_top5"].startswith(
            "1_4070763_145*2_4838712_84*3_100003498910_81"
        )
        # A re-pull with fewer rows replaces the day.
        services.report_rows_store(
            brand=brand, report_date=DAY, report_type="click", raw_rows=[SPEC_ROW]
        )
        assert list(ReportRow.objects.values_list("package_id", flat=True)) == ["package_id"]


@pytest.mark.django_db
def test_a_package_listed_twice_keeps_its_last_row(brand):
    from django_scopes import scope

    first = {**SPEC_ROW, "pv": 1, "browse_sku_top5": "坏的"}
    last = {**SPEC_ROW, "pv": 7}
    with scope(brand=brand):
        result = services.report_rows_store(
            brand=brand, report_date=DAY, report_type="click", raw_rows=[first, SPEC_ROW, last]
        )

        assert result == {"stored": 1, "skipped": 0, "malformed_top5": 0}
        (row,) = ReportRow.objects.all()
        assert row.pv == 7 and not row.top5_malformed and len(row.top5) == 7


@pytest.mark.django_db(transaction=True)
def test_two_stores_of_one_day_at_once_both_complete(brand):
    """The daily pull and a re-pull on demand may store the same day together."""
    import threading

    from django.db import connection
    from django_scopes import scope

    rows = [{**SPEC_ROW, "package_id": f"p{n}"} for n in range(300)]
    start, errors = threading.Barrier(2), []

    def store():
        try:
            start.wait(timeout=10)
            with scope(brand=brand):
                services.report_rows_store(
                    brand=brand, report_date=DAY, report_type="click", raw_rows=rows
                )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=store) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    with scope(brand=brand):
        assert ReportRow.objects.count() == 300


def arm(name, people, converted, reached=True, ord_amount=0, pay_amount=0):
    return Arm(name, name, reached, people, converted, Decimal(ord_amount), Decimal(pay_amount))


def test_uplift_matches_a_hand_computation():
    # control 200 / 10000 = 2.0 %, treatment 260 / 10000 = 2.6 %
    # diff 0.006; se = sqrt(.026*.974/10000 + .02*.98/10000) = sqrt(4.4924e-6) = 0.00211953
    # 95 % CI = 0.006 ± 1.959964 * 0.00211953 = [0.0018458, 0.0101542]; relative 30 %
    result = compare(
        arm("对照组", 10000, 200, reached=False, pay_amount=20000),
        arm("触达组", 10000, 260, pay_amount=31200),
    )

    assert result.absolute == pytest.approx(0.006)
    assert result.relative == pytest.approx(0.30)
    assert result.ci_low == pytest.approx(0.0018458, abs=1e-6)
    assert result.ci_high == pytest.approx(0.0101542, abs=1e-6)
    assert result.significant and result.too_small == ""
    assert result.pay_amount_per_person_diff == pytest.approx(3.12 - 2.0)


def test_a_small_sample_is_stated_plainly():
    result = compare(arm("对照组", 50, 1, reached=False), arm("触达组", 5000, 3))
    assert not result.significant
    assert (
        "对照组 只有 50 人" in result.too_small and "触达组 的转化人数 3 太少" in result.too_small
    )


@pytest.mark.django_db
def test_pull_from_the_sandbox_and_split_uplift(jd_brand, control, reached_split):
    instance, held_out = reached_split.parent, reached_split.held_out
    control.post("/clock/advance", json={"seconds": 2 * 86400})
    clock = control.get("/clock").json()
    day = date.fromisoformat(clock["now"][:10]) - timedelta(days=1)

    result = services.report_pull(brand=jd_brand, report_date=day)
    again = services.report_pull(brand=jd_brand, report_date=day)

    assert result == again and result["exposure"]["stored"] >= 2
    assert (
        ReportRow.objects.filter(report_date=day).count()
        == result["click"]["stored"] + result["exposure"]["stored"]
    )
    comparisons = split_uplift(instance)
    assert len(comparisons) == 1
    assert comparisons[0].control.package_id == held_out.package_id
    assert comparisons[0].treatment.reached


@pytest.mark.django_db
def test_reports_api(jd_brand, control, client, make_brand_user):
    client.force_login(make_brand_user(jd_brand).user)
    services.report_rows_store(
        brand=jd_brand, report_date=DAY, report_type="click", raw_rows=[SPEC_ROW]
    )

    listed = client.get(
        "/api/v1/reports/", {"package_id": "package_id", "date_from": "2019-03-01"}
    ).json()
    assert listed["count"] == 1 and len(listed["results"][0]["top_skus"]) == 35
    assert client.get("/api/v1/reports/", {"date_from": "not-a-date"}).status_code == 400
    pulled = client.post(
        "/api/v1/reports/pull/", {"report_date": "2026-01-04"}, content_type="application/json"
    )
    assert pulled.status_code == 200 and set(pulled.json()["result"]) == {"click", "exposure"}
    assert client.get("/api/v1/reports/uplift/", {"split": "x"}).status_code == 400


@pytest.mark.django_db
def test_a_report_is_requested_for_a_package_that_was_not_reached(
    jd_brand, control, client, make_brand_user, other_brand
):
    from django_scopes import scope

    from crowds.models import CrowdInstance

    client.force_login(make_brand_user(jd_brand).user)
    crowd = crowd_services.crowd_create(
        brand=jd_brand,
        name="未触达",
        condition={
            "bool": {
                "must": [
                    {"bool": {"group": "001", "must": [{"term": {"TAG_020": {"value": "已婚"}}}]}}
                ]
            }
        },
    )
    instance = crowd_services.instance_create(crowd=crowd)
    control.post("/clock/advance", json={"seconds": 61})
    instance = crowd_services.instance_poll(instance_id=instance.pk)
    control.delete("/requests")

    page = client.post(f"/reports/packages/{instance.package_id}/request/")
    assert page.status_code == 302
    assert (
        client.post(
            "/api/v1/reports/create/", {"instance": instance.pk}, content_type="application/json"
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/api/v1/reports/create/", {"instance": "x"}, content_type="application/json"
        ).status_code
        == 400
    )
    created = control.get("/requests", params={"path": "/report/create"}).json()["requests"]
    assert len(created) == 2
    with scope(brand=other_brand):
        theirs = CrowdInstance.objects.create(
            brand=other_brand, origin="init", status="2", package_id="theirs"
        )
    assert client.post(f"/reports/packages/{theirs.package_id}/request/").status_code == 404
    assert (
        client.post(
            "/api/v1/reports/create/", {"instance": theirs.pk}, content_type="application/json"
        ).status_code
        == 404
    )
