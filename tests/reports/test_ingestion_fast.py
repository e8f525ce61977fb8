"""Storing a pull fast (issue 10, benchmark 3): a re-pull writes only what changed, and
`read_row`'s fast paths give what reading value by value gives."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.db.models.expressions import RawSQL
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports import parsing, services
from reports.management.commands.bench_reports import day_rows
from reports.models import AMOUNT_METRICS, COUNT_METRICS, TOP5_FIELDS, ReportRow
from reports.parsing import COLUMNS, read_row, top5_canonical
from tests.reports.test_reports import DAY, SPEC_ROW

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the COPY and merge path exists only on PostgreSQL (SQLite stores through the ORM, "
    "tested above); runs in make verify's PostgreSQL suite",
)


def store(brand, rows, report_date=DAY):
    return services.report_rows_store(
        brand=brand, report_date=report_date, report_type="click", raw_rows=rows
    )


def package(name, **values):
    return {**SPEC_ROW, "package_id": name, **values}


def stored(brand) -> dict[str, ReportRow]:
    return {row.package_id: row for row in ReportRow.objects.filter(brand=brand)}


# --- a re-pull --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_repull_updates_changed_rows_adds_new_ones_and_drops_the_unlisted(brand):
    with scope(brand=brand):
        store(brand, [package("same"), package("changed"), package("dropped")])
        before = stored(brand)

        result = store(
            brand,
            [
                package("same"),
                package("changed", pv=99, ord_qtty_top5="1_4070763_7*2_4838712_3"),
                package("new"),
            ],
        )

        after = stored(brand)
    assert result == {"stored": 3, "skipped": 0, "malformed_top5": 0}
    assert sorted(after) == ["changed", "new", "same"]
    # The row that did not change was not written again.
    assert after["same"].pk == before["same"].pk
    assert after["same"].pulled_at == before["same"].pulled_at
    # The changed row was updated in place, its lists with it.
    changed = after["changed"]
    assert changed.pk == before["changed"].pk and changed.pv == 99
    assert changed.top5["ord_qtty_top5"] == "1_4070763_7*2_4838712_3"
    assert changed.pulled_at > before["changed"].pulled_at
    # The other days and types are not the re-pull's.
    with scope(brand=brand):
        store(brand, [package("other day")], report_date=DAY + timedelta(days=1))
        services.report_rows_store(
            brand=brand,
            report_date=DAY,
            report_type="exposure",
            raw_rows=[package("exposure", report_type="exposure")],
        )
        store(brand, [package("same")])
        assert sorted(stored(brand)) == ["exposure", "other day", "same"]


@pytest.mark.django_db
def test_a_second_identical_pull_changes_no_row(brand):
    rows = [package(f"p{n}", pv=n, pay_amount=n + 0.5) for n in range(20)]
    rows.append(package("broken top5", browse_sku_top5="不是榜单"))
    with scope(brand=brand):
        first = store(brand, rows)
        before = {name: (row.pk, row.pulled_at) for name, row in stored(brand).items()}

        again = store(brand, rows)

        after = {name: (row.pk, row.pulled_at) for name, row in stored(brand).items()}
    assert first == again == {"stored": 21, "skipped": 0, "malformed_top5": 1}
    assert after == before


@pytest.mark.django_db
def test_a_package_listed_twice_in_a_repull_keeps_its_last_row(brand):
    with scope(brand=brand):
        store(brand, [package("p", pv=1)])
        (first,) = ReportRow.objects.all()

        result = store(brand, [package("p", pv=5, browse_sku_top5="坏的"), package("p", pv=7)])

        (row,) = ReportRow.objects.all()
    assert result == {"stored": 1, "skipped": 0, "malformed_top5": 0}
    assert row.pk == first.pk and row.pv == 7 and not row.top5_malformed


@on_postgresql
@pytest.mark.django_db
def test_on_postgresql_an_identical_repull_leaves_every_row_version_as_it_was(brand):
    """The merge skips rows that do not differ: no new row version, nothing for VACUUM."""
    rows = [package(f"p{n}") for n in range(50)]

    def versions():
        rows = ReportRow.objects.annotate(version=RawSQL("xmin::text", []))
        return dict(rows.values_list("package_id", "version"))

    with scope(brand=brand):
        store(brand, rows)
        before = versions()
        store(brand, rows)
        store(brand, [*rows[:-1], package("p49", pv=2)])
        after = versions()
    assert len(before) == 50
    assert {name for name in before if after[name] != before[name]} == {"p49"}


@on_postgresql
@pytest.mark.django_db
def test_on_postgresql_a_new_day_is_copied_in_and_a_day_stored_before_is_merged(brand):
    def statements(rows) -> list[str]:
        seen = []

        def note(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(note):
            store(brand, rows)
        return seen

    with scope(brand=brand):
        new_day = statements([package("p")])
        stored_before = statements([package("p")])
    assert not any("report_rows_incoming" in sql for sql in new_day)
    assert any(sql.startswith("CREATE TEMPORARY TABLE") for sql in stored_before)
    assert any("ON CONFLICT" in sql for sql in stored_before)


# --- the fast paths of read_row ---------------------------------------------------------


def test_usual_rows_take_the_fast_paths(monkeypatch):
    """The bench's rows (numbers now and then as text, top-5 lists out of rank order) are
    read without the value-by-value paths."""

    def slow_path(*args):
        raise AssertionError("a usual row took the value-by-value path")

    for name in ("_top5_columns_one_by_one", "_amount", "_count", "_text"):
        monkeypatch.setattr(parsing, name, slow_path)
    rows = day_rows(seed=3, day_index=0, count=300)

    records = [read_row(raw, report_type="exposure") for raw in rows]

    assert len(records) == 300
    assert any(type(raw["pv"]) is str for raw in rows)  # JD's numbers as text


def expected_record(raw: dict) -> dict:
    """What `read_row` gives, column by column, from the spec's rules alone."""
    values = {"package_id": raw["package_id"], "report_type": "click"}
    for name, length in (("reach_type", 16), ("shop_id", 32), ("op_time", 32)):
        value = raw.get(name)
        values[name] = ("" if value is None else str(value)).replace("\x00", "")[:length]
    for name in COUNT_METRICS:
        value = raw.get(name)
        values[name] = 0 if value in (None, "") else int(Decimal(str(value)))
    for name in AMOUNT_METRICS:
        value = raw.get(name)
        amount = Decimal(0) if value in (None, "") else Decimal(str(value))
        values[name] = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    readable, unreadable = {}, {}
    for name in TOP5_FIELDS:
        text = raw.get(name)
        if not text:
            continue
        try:
            readable[name] = top5_canonical(str(text))
        except ValueError:
            unreadable[name] = str(text).replace("\x00", "")
    values.update(top5=readable, top5_raw=unreadable, top5_malformed=bool(unreadable))
    return values


def entry(rank: int, sku: str, value: str) -> str:
    return f"{rank}_{sku}_{value}"


skus = st.sampled_from(["100003730605", "4070763", "SKU-9", "a", "x_y", "", "品", "s\x00"])
values = st.sampled_from(["918", "26.5", "0", "163860.0", "1e3", "-4", "x", "007", "2.50"])
ranks = st.integers(min_value=0, max_value=12)
entries = st.builds(entry, ranks, skus, values)
well_formed_lists = st.integers(min_value=1, max_value=10).flatmap(
    lambda size: st.permutations(range(1, size + 1)).map(
        lambda order: "*".join(f"{rank}_{4070763 + rank}_{rank * 3}" for rank in order)
    )
)
top5_values = st.one_of(
    well_formed_lists,
    st.lists(entries, max_size=6).map("*".join),
    well_formed_lists.map(lambda text: f" {text} *"),
    st.sampled_from([None, "", 12, "1_a_1*1_b_2"]),
)
counts = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**6).map(str),
    st.sampled_from([None, "", "12.0", "1e3", " 7 ", "0012", -3, 2.0]),
)
amounts = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(lambda cents: cents / 100),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from([None, "", "2.675", "100.50", "1e2", 2.675, 0.1 + 0.2]),
)
texts = st.one_of(st.text(max_size=40), st.sampled_from([None, 1000003263, "", "x" * 40]))


@st.composite
def report_rows(draw) -> dict:
    row = {"package_id": "p", "report_type": "click"}
    for name in ("reach_type", "shop_id", "op_time"):
        if draw(st.integers(0, 4)):  # now and then missing
            row[name] = draw(texts)
    for name in COUNT_METRICS:
        row[name] = draw(counts)
    for name in AMOUNT_METRICS:
        row[name] = draw(amounts)
    for name in TOP5_FIELDS:
        if draw(st.integers(0, 9)):  # a list now and then missing
            row[name] = draw(top5_values)
    return row


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report_rows())
def test_read_row_gives_what_reading_value_by_value_gives(raw):
    record = dict(zip(COLUMNS, read_row(raw, report_type="click"), strict=True))

    for name in AMOUNT_METRICS:  # the text may differ ("5.0", "5.00"), not the amount
        record[name] = Decimal(record[name])
    record["top5"], record["top5_raw"] = json.loads(record["top5"]), json.loads(record["top5_raw"])
    assert record == expected_record(raw)


@pytest.mark.parametrize(
    "texts",
    [
        {"reach_type": "R" * 20, "shop_id": "S" * 40, "op_time": "2019-03-20"},
        {"reach_type": "SMS\x00PUBLIC", "shop_id": "1000003263", "op_time": "2019-03-20"},
        {"reach_type": "SMSPUBLIC", "shop_id": 1000003263, "op_time": None},
    ],
)
def test_texts_are_cut_to_their_columns_and_lose_nul_characters(texts):
    raw = {**SPEC_ROW, **texts}

    record = dict(zip(COLUMNS, read_row(raw, report_type="click"), strict=True))

    expected = expected_record(raw)
    assert [record[name] for name in texts] == [expected[name] for name in texts]


@pytest.mark.parametrize(
    "text",
    [
        "1_a_1*2_b_2*3_c_3*4_d_4*5_e_5*6_f_6*7_g_7*8_h_8*9_i_9*10_j_10",  # ten in order
        "10_j_10*1_a_1*2_b_2*3_c_3*4_d_4*5_e_5*6_f_6*7_g_7*8_h_8*9_i_9",  # ten, not in order
        "2_b_2*1_a_1*2_c_3",  # a rank twice
        "1_a_1*3_c_3",  # a rank missing
    ],
)
def test_a_row_with_a_list_the_fast_path_cannot_read_gets_the_same_columns(text):
    raw = {**SPEC_ROW, "ord_qtty_top5": text}

    record = dict(zip(COLUMNS, read_row(raw, report_type="click"), strict=True))

    assert json.loads(record["top5"]) == expected_record(raw)["top5"]
    assert json.loads(record["top5_raw"]) == expected_record(raw)["top5_raw"]
