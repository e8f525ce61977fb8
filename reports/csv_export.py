"""CSV downloads of the report pages, made for Excel: UTF-8 with a byte-order mark (without
it Excel on Windows reads the file as GBK and mangles Chinese package names), CRLF line
ends, and text cells that would start a formula neutralised."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

BOM = "\ufeff"
# A text cell starting with one of these is run as a formula by Excel (CSV injection):
# package names are typed by users, so they are prefixed with an apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") or "0"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_filename(*parts: object) -> str:
    """An ASCII file name from its parts (a package ID may hold anything)."""
    name = "-".join(_UNSAFE_FILENAME.sub("_", str(part)).strip("_") for part in parts if part)
    return f"{name or 'report'}.csv"


def csv_response(
    *, filename: str, header: Sequence[object], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write(BOM)
    writer = csv.writer(response)
    writer.writerow([str(label) for label in header])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return response
