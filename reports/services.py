"""Pulling JD's reports into the portal: bulk, idempotent (a re-pull replaces a day).

Issue 10 asks a pull to store 100,000 rows at ≥ 0.5× the rate of a raw COPY of them
(`manage.py bench_reports`): rows are read straight into column values
(`reports.parsing.read_row`), the top-5 lists kept on the row as JSON, and on PostgreSQL
COPYed into the table while they are read."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from brands.models import Brand
from portal.integrations.jdcloud.factory import jdcloud_client
from reports.models import ReportRow, ReportType
from reports.parsing import COLUMNS, read_row

logger = logging.getLogger(__name__)

BATCH = 2000
_TABLE = ReportRow._meta.db_table
_COMMON = ("brand_id", "report_date", "pulled_at")  # the same for every row of a store


def report_rows_store(
    *, brand: Brand, report_date: date, report_type: str, raw_rows: list[dict]
) -> dict:
    """Replace the brand's rows of that day and type with `raw_rows` in one transaction.
    Returns counts: stored, skipped (unreadable metrics), malformed top-5 rows.

    One row per package and type; a package JD lists twice keeps its last row. Stores of
    one brand-day-type wait for each other, so two pulls of a day never collide."""
    if report_type not in ReportType.values:
        raise ValueError(f"unknown report type {report_type!r}")
    rows = _Rows(brand, report_date, report_type, raw_rows)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _store_by_copy(rows)
        else:
            _store_by_orm(rows)
    return {"stored": len(rows.seen), "skipped": rows.skipped, "malformed_top5": rows.malformed}


class _Rows:
    """JD's rows read one by one as they are stored (`parsing.read_row`): the unreadable
    ones counted and skipped, repeated packages set aside (`later`) for the last to win."""

    def __init__(self, brand: Brand, report_date: date, report_type: str, raw_rows) -> None:
        self.brand, self.report_date, self.report_type = brand, report_date, report_type
        self.raw_rows = raw_rows
        self.skipped = 0
        self.seen: dict[str, bool] = {}  # package → its top-5 is malformed
        self.later: dict[str, tuple] = {}

    @property
    def malformed(self) -> int:
        return sum(self.seen.values())

    def __iter__(self) -> Iterator[tuple]:
        """The records in order, each with the columns common to the store after it (as
        text: written as they are, where a date or a timestamp would be formatted anew for
        every row)."""
        seen, later, report_type = self.seen, self.later, self.report_type
        common = (str(self.brand.pk), self.report_date.isoformat(), timezone.now().isoformat())
        for raw in self.raw_rows:
            try:
                record = read_row(raw, report_type=report_type)
            except (ValueError, ArithmeticError, TypeError) as exc:
                self.skipped += 1
                logger.warning(
                    "report row of %s %s skipped: %s", self.brand.master_id, self.report_date, exc
                )
                continue
            package_id = record[0]  # the row's type is the store's: the package is the key
            if package_id in seen:
                later[package_id] = record + common
            else:
                yield record + common
            seen[package_id] = record[-1]


def _store_by_copy(rows: _Rows) -> None:
    """PostgreSQL: the day's rows deleted, then COPYed in as they are read; the database
    takes each batch while the next is being read."""
    columns = ", ".join(connection.ops.quote_name(name) for name in (*COLUMNS, *_COMMON))
    with connection.cursor() as cursor:
        # Two stores of one brand-day-type (the daily pull, a re-pull on demand) take turns.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"reports:{rows.brand.pk}:{rows.report_date}:{rows.report_type}"],
        )
        # _TABLE is the model's own table name, quoted; every value is a parameter.
        cursor.execute(
            f"DELETE FROM {_TABLE} WHERE brand_id = %s AND report_date = %s"  # noqa: S608  # nosec B608
            " AND report_type = %s",
            [rows.brand.pk, rows.report_date, rows.report_type],
        )
        copy_sql = f"COPY {_TABLE} ({columns}) FROM STDIN"
        with cursor.copy(copy_sql) as copy:
            write = copy.write_row
            for record in rows:
                write(record)
        if rows.later:  # a package listed twice: its last row replaces the first
            for package_id in rows.later:
                # As above: the model's own table name; every value is a parameter.
                cursor.execute(
                    f"DELETE FROM {_TABLE} WHERE brand_id = %s AND report_date = %s"  # noqa: S608  # nosec B608
                    " AND package_id = %s AND report_type = %s",
                    [rows.brand.pk, rows.report_date, package_id, rows.report_type],
                )
            with cursor.copy(copy_sql) as copy:
                for record in rows.later.values():
                    copy.write_row(record)


def _store_by_orm(rows: _Rows) -> None:
    """Other databases (SQLite in development and tests): the same rows, by bulk_create."""
    records = {record[0]: record for record in rows}
    records.update(rows.later)
    ReportRow.objects.filter(
        brand=rows.brand, report_date=rows.report_date, report_type=rows.report_type
    ).delete()
    objects = []
    for record in records.values():
        values = dict(zip(COLUMNS, record[: len(COLUMNS)], strict=True))
        values["top5"], values["top5_raw"] = (
            json.loads(values["top5"]),
            json.loads(values["top5_raw"]),
        )
        objects.append(ReportRow(brand=rows.brand, report_date=rows.report_date, **values))
    ReportRow.objects.bulk_create(objects, batch_size=BATCH)


def report_pull(
    *, brand: Brand, report_date: date, report_types=(ReportType.CLICK, ReportType.EXPOSURE)
) -> dict:
    """`/report` for one day, each type, stored (replacing what we had for that day)."""
    client = jdcloud_client(brand_id=brand.pk)
    result = {}
    for report_type in report_types:
        batch = client.report(
            master_id=brand.master_id, report_date=report_date, report_type=str(report_type)
        )
        result[str(report_type)] = report_rows_store(
            brand=brand,
            report_date=report_date,
            report_type=str(report_type),
            raw_rows=batch.report_data,
        )
    return result


def report_repull(*, brand: Brand, report_date: date) -> dict:
    """On demand: ask JD to regenerate the day (`/report/pull`), then pull it again."""
    jdcloud_client(brand_id=brand.pk).report_pull(report_date=report_date)
    return report_pull(brand=brand, report_date=report_date)


def report_create(*, brand: Brand, package_id: str, report_date=None) -> None:
    """`/report/create` for a package that was not reached (reached ones get reports
    automatically), with the ISV's partner id."""
    jdcloud_client(brand_id=brand.pk).report_create(
        package_id=package_id, master_id=brand.master_id, report_date=report_date
    )
