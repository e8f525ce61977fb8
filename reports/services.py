"""Pulling JD's reports into the portal: bulk, idempotent (a re-pull replaces a day)."""

from __future__ import annotations

import logging
from datetime import date

from django.db import transaction

from brands.models import Brand
from portal.integrations.jdcloud.factory import jdcloud_client
from reports.models import ReportRow, ReportType, TopSku
from reports.parsing import parse_row

logger = logging.getLogger(__name__)

BATCH = 2000


def report_rows_store(
    *, brand: Brand, report_date: date, report_type: str, raw_rows: list[dict]
) -> dict:
    """Replace the brand's rows of that day and type with `raw_rows` in one transaction.
    Returns counts: stored, skipped (unreadable metrics), malformed top-5 rows."""
    parsed, skipped = [], 0
    for raw in raw_rows:
        try:
            parsed.append(parse_row(raw, report_date=report_date, report_type=report_type))
        except (ValueError, ArithmeticError, TypeError) as exc:
            skipped += 1
            logger.warning("report row of %s %s skipped: %s", brand.master_id, report_date, exc)
    # One row per package, day and type; a duplicated package in JD's answer keeps the last.
    unique = {(row.package_id, row.report_type): row for row in parsed}
    with transaction.atomic():
        ReportRow.objects.filter(
            brand=brand, report_date=report_date, report_type=report_type
        ).delete()
        rows = ReportRow.objects.bulk_create(
            [
                ReportRow(
                    brand=brand,
                    package_id=row.package_id,
                    report_date=report_date,
                    report_type=row.report_type,
                    top5_raw=row.top_raw,
                    top5_malformed=bool(row.malformed),
                    **row.values,
                )
                for row in unique.values()
            ],
            batch_size=BATCH,
        )
        TopSku.objects.bulk_create(
            [
                TopSku(
                    row=stored,
                    brand=brand,
                    metric=metric,
                    rank=e.rank,
                    sku_id=e.sku_id,
                    value=e.value,
                )
                for stored, row in zip(rows, unique.values(), strict=True)
                for metric, entries in row.top.items()
                for e in entries
            ],
            batch_size=BATCH,
        )
    return {
        "stored": len(rows),
        "skipped": skipped,
        "malformed_top5": sum(1 for row in unique.values() if row.malformed),
    }


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
