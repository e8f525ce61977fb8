"""Pulling JD's reports into the portal: bulk, idempotent (a re-pull replaces a day).

Issue 10 asks a pull to store 100,000 rows at ≥ 0.5× the rate of a raw COPY of them
(`manage.py bench_reports`): rows are read straight into column values
(`reports.parsing.read_row`), the top-5 lists kept on the row as JSON, and on PostgreSQL
COPYed while they are read: straight into the table for a day stored for the first time
(the daily pull), into a temporary table merged in one statement for a day stored before
(a re-pull, a retried task), so that rows that did not change are not written again."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from brands.models import Brand
from portal.integrations.jdcloud.factory import jdcloud_client
from reports.models import AMOUNT_METRICS, ReportRow, ReportType
from reports.parsing import COLUMNS, read_row

logger = logging.getLogger(__name__)

BATCH = 2000
_TABLE = ReportRow._meta.db_table
_COMMON = ("brand_id", "report_date", "pulled_at")  # the same for every row of a store
_KEY = ("brand_id", "package_id", "report_date", "report_type")  # report_row_unique
# The columns a re-pull compares (pulled_at says when the values were pulled: it changes
# with them) and the columns it sets.
_VALUES = tuple(name for name in COLUMNS if name not in _KEY)
_SET = (*_VALUES, "pulled_at")


def report_rows_store(
    *, brand: Brand, report_date: date, report_type: str, raw_rows: list[dict]
) -> dict:
    """Make the brand's rows of that day and type `raw_rows`, in one transaction: new
    packages added, changed rows updated, packages no longer listed removed; a row that did
    not change is left as it was (its id and `pulled_at` too). Returns counts: stored,
    skipped (unreadable metrics), malformed top-5 rows.

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
        self.pulled_at = timezone.now()
        self.skipped = 0
        self.seen: dict[str, bool] = {}  # package → its top-5 is malformed
        self.later: dict[str, tuple] = {}

    @property
    def malformed(self) -> int:
        return sum(self.seen.values())

    @property
    def day(self) -> list:
        """The parameters that select the store's day (brand, day, type)."""
        return [self.brand.pk, self.report_date, self.report_type]

    def __iter__(self) -> Iterator[tuple]:
        """The records in order, each with the columns common to the store after it (as
        text: written as they are, where a date or a timestamp would be formatted anew for
        every row)."""
        seen, later, report_type = self.seen, self.later, self.report_type
        common = (str(self.brand.pk), self.report_date.isoformat(), self.pulled_at.isoformat())
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
    """PostgreSQL: the rows COPYed as they are read (the database takes each batch while
    the next is being read). A day stored before is merged: its rows go to a temporary
    table first, then one INSERT … ON CONFLICT DO UPDATE writes only the rows that differ."""
    sql = _copy_sql()
    with connection.cursor() as cursor:
        # Two stores of one brand-day-type (the daily pull, a re-pull on demand) take turns.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"reports:{rows.brand.pk}:{rows.report_date}:{rows.report_type}"],
        )
        cursor.execute(sql.stored, rows.day)
        stored = {package_id for (package_id,) in cursor.fetchall()}
        if stored:
            cursor.execute(sql.create_incoming)
        target = sql.incoming if stored else sql.table
        with cursor.copy(target.copy) as copy:
            write = copy.write_row
            for record in rows:
                write(record)
        if rows.later:  # a package listed twice: its last row replaces the first
            cursor.execute(target.delete, [*rows.day, list(rows.later)])
            with cursor.copy(target.copy) as copy:
                for record in rows.later.values():
                    copy.write_row(record)
        if not stored:
            return
        # The packages no longer listed: found here rather than by an anti-join with the
        # temporary table, which has no statistics (the planner may loop over it per row).
        if gone := list(stored.difference(rows.seen)):
            cursor.execute(sql.table.delete, [*rows.day, gone])
        cursor.execute(sql.merge)
        # Dropped now, not at the commit: a caller's transaction may hold several stores.
        cursor.execute(sql.drop_incoming)


class _TableSQL(NamedTuple):
    copy: str  # the store's columns, from STDIN
    delete: str  # packages of a day: parameters brand, day, type, package ids


class _CopySQL(NamedTuple):
    table: _TableSQL
    incoming: _TableSQL
    stored: str  # the day's packages: parameters brand, day, type
    create_incoming: str
    merge: str
    drop_incoming: str


@functools.cache
def _copy_sql() -> _CopySQL:
    """The statements of `_store_by_copy`. Names are the model's, quoted, or constants;
    every value is a parameter."""
    quote = connection.ops.quote_name
    table, incoming = quote(_TABLE), quote("report_rows_incoming")
    columns = ", ".join(map(quote, (*COLUMNS, *_COMMON)))
    day = "brand_id = %s AND report_date = %s AND report_type = %s"

    def statements(name: str) -> _TableSQL:
        return _TableSQL(
            copy=f"COPY {name} ({columns}) FROM STDIN",
            delete=(
                f"DELETE FROM {name} WHERE {day}"  # noqa: S608  # nosec B608
                " AND package_id = ANY(%s)"
            ),
        )

    changed = " IS DISTINCT FROM ".join(
        "(" + ", ".join(f"{prefix}.{quote(name)}" for name in _VALUES) + ")"
        for prefix in (table, "EXCLUDED")
    )
    return _CopySQL(
        table=statements(table),
        incoming=statements(incoming),
        stored=f"SELECT package_id FROM {table} WHERE {day}",  # noqa: S608  # nosec B608
        create_incoming=(
            f"CREATE TEMPORARY TABLE {incoming} ON COMMIT DROP"  # noqa: S608  # nosec B608
            f" AS SELECT {columns} FROM {table} WITH NO DATA"
        ),
        merge=(
            f"INSERT INTO {table} ({columns})"  # noqa: S608  # nosec B608
            f" SELECT {columns} FROM {incoming}"
            f" ON CONFLICT ({', '.join(map(quote, _KEY))}) DO UPDATE SET "
            + ", ".join(f"{quote(name)} = EXCLUDED.{quote(name)}" for name in _SET)
            + f" WHERE {changed}"
        ),
        drop_incoming=f"DROP TABLE {incoming}",
    )


def _store_by_orm(rows: _Rows) -> None:
    """Other databases (SQLite in development and tests): the same outcome through the
    ORM, the day's stored rows compared in Python."""
    records = {record[0]: record for record in rows}
    records.update(rows.later)
    day = ReportRow.objects.filter(
        brand=rows.brand, report_date=rows.report_date, report_type=rows.report_type
    )
    stored = {row.package_id: row for row in day}
    new, changed = [], []
    for package_id, record in records.items():
        row = _report_row(rows, record)
        old = stored.pop(package_id, None)
        if old is None:
            new.append(row)
        elif any(getattr(old, name) != getattr(row, name) for name in _VALUES):
            row.pk = old.pk
            changed.append(row)
    gone = [row.pk for row in stored.values()]
    for start in range(0, len(gone), BATCH):
        day.filter(pk__in=gone[start : start + BATCH]).delete()
    ReportRow.objects.bulk_update(changed, _SET, batch_size=BATCH)
    ReportRow.objects.bulk_create(new, batch_size=BATCH)


def _report_row(rows: _Rows, record: tuple) -> ReportRow:
    values = dict(zip(COLUMNS, record[: len(COLUMNS)], strict=True))
    for name in AMOUNT_METRICS:
        values[name] = Decimal(values[name])
    values["top5"], values["top5_raw"] = json.loads(values["top5"]), json.loads(values["top5_raw"])
    return ReportRow(
        brand=rows.brand, report_date=rows.report_date, pulled_at=rows.pulled_at, **values
    )


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
