"""Reading JD's report rows (spec: 获取人群营销报表): numbers that may arrive as text, and
the top-5 strings `rank_skuId_value*rank_skuId_value*…` (entries may be out of rank
order). A malformed string is kept raw and flagged; it never fails a pull."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from reports.models import AMOUNT_METRICS, COUNT_METRICS, TOP5_FIELDS


@dataclass(frozen=True)
class TopEntry:
    rank: int
    sku_id: str
    value: Decimal


@dataclass
class ParsedRow:
    package_id: str
    report_date: date
    report_type: str
    values: dict[str, Any]
    top: dict[str, list[TopEntry]] = field(default_factory=dict)
    top_raw: dict[str, str] = field(default_factory=dict)
    malformed: list[str] = field(default_factory=list)


def parse_top5(text: str) -> list[TopEntry]:
    """'1_100003730605_918*2_100004121021_26*…' → entries sorted by rank. Raises
    ValueError when an entry is not rank_sku_value or a rank repeats."""
    entries = []
    for part in (text or "").strip().strip("*").split("*"):
        if not part.strip():
            continue
        pieces = part.strip().split("_")
        if len(pieces) != 3:
            raise ValueError(f"entry {part!r} is not rank_skuId_value")
        rank_text, sku_id, value_text = pieces
        try:
            rank, value = int(rank_text), Decimal(value_text)
        except (ValueError, InvalidOperation) as exc:
            raise ValueError(f"entry {part!r} has a non-numeric rank or value") from exc
        if rank < 1 or not sku_id or not value.is_finite():
            raise ValueError(f"entry {part!r} is out of range")
        entries.append(TopEntry(rank, sku_id, value))
    ranks = [entry.rank for entry in entries]
    if len(ranks) != len(set(ranks)):
        raise ValueError("a rank appears twice")
    return sorted(entries, key=lambda entry: entry.rank)


def _count(value: Any) -> int:
    if value in (None, ""):
        return 0
    return int(Decimal(str(value)))


def _amount(value: Any) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    return Decimal(str(value)).quantize(Decimal("0.01"))


def parse_row(raw: dict, *, report_date: date, report_type: str) -> ParsedRow:
    """One row of `report_data`. Metrics that are not numbers raise ValueError (the caller
    skips the row and says so); top-5 strings never do."""
    package_id = str(raw.get("package_id") or "").strip()
    if not package_id:
        raise ValueError("row without package_id")
    values: dict[str, Any] = {
        "reach_type": str(raw.get("reach_type") or "")[:16],
        "shop_id": str(raw.get("shop_id") or "")[:32],
        "op_time": str(raw.get("op_time") or "")[:32],
    }
    for name in COUNT_METRICS:
        values[name] = _count(raw.get(name))
    for name in AMOUNT_METRICS:
        values[name] = _amount(raw.get(name))
    row = ParsedRow(
        package_id=package_id,
        report_date=report_date,
        report_type=str(raw.get("report_type") or report_type),
        values=values,
    )
    for name in TOP5_FIELDS:
        text = raw.get(name)
        if text in (None, ""):
            continue
        row.top_raw[name] = str(text)
        try:
            row.top[name] = parse_top5(str(text))
        except ValueError:
            row.malformed.append(name)
    return row
