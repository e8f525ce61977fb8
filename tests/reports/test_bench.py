"""The report storage benchmark runs end to end on a few rows (timings are not checked)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django_scopes import scopes_disabled

from brands.models import Brand
from reports.management.commands.bench_reports import MASTER_PREFIX, day_rows
from reports.models import ReportRow
from reports.parsing import parse_row


@pytest.mark.django_db
def test_bench_reports_times_the_store_and_a_second_run_changes_no_count():
    out = io.StringIO()

    call_command("bench_reports", rows=300, per_day=120, stdout=out)

    text = out.getvalue()
    assert "300 rows in 3 report day(s)" in text
    assert text.count("rows/s") >= 3
    assert "stored: 300 report rows, 10,500 top-5 entries" in text
    assert "300 report rows, 10,500 top-5 entries (unchanged)" in text
    if connection.vendor == "postgresql":
        assert text.count("× this COPY's rows/s (target ≥ 0.5×") == 2
        assert "(into a temporary table" in text and "(into the report table itself" in text
    else:
        assert "COPY: n/a (SQLite)" in text
    # The throwaway brand is gone, and with it every row it wrote.
    assert not Brand.objects.filter(master_id__startswith=MASTER_PREFIX).exists()
    with scopes_disabled():
        assert ReportRow.objects.count() == 0


def test_the_generated_rows_are_deterministic_and_readable():
    first, again = day_rows(seed=7, day_index=0, count=50), day_rows(seed=7, day_index=0, count=50)
    assert first == again
    parsed = [parse_row(raw, report_date=None, report_type="exposure") for raw in first]
    assert not any(row.malformed for row in parsed)
    assert all(len(entries) == 5 for row in parsed for entries in row.top.values())
    # Some lists arrive out of rank order, as in the spec's example.
    assert any(
        [int(entry.split("_")[0]) for entry in raw["ord_qtty_top5"].split("*")] != [1, 2, 3, 4, 5]
        for raw in first
    )
