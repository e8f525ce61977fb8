"""Reading JD's report rows (spec: 获取人群营销报表): numbers that may arrive as text, and
the top-5 strings `rank_skuId_value*rank_skuId_value*…` (entries may be out of rank
order). A malformed top-5 string is kept raw and flagged; it never fails a pull.

A pull stores tens of thousands of rows at once (issue 10: 100,000 rows at ≥ 0.5× the
rate of a raw COPY), so `read_row` turns a row straight into the values of the stored
columns and takes fast paths for the usual shapes, a row at a time rather than a value at
a time: counts that are integers or the text of integers, amounts with at most two
decimals, and seven top-5 lists of at most nine entries, which are put in rank order by
sorting their entries as text and then checked whole, as the stored JSON, by one regular
expression (ranks in order, SKU ids, values), without an object per entry. Each readable
list is stored in the spec's own notation put in rank order (`top5_canonical`), which
readers split in a step (`top5_entries`): cheaper to write, in Python and in the database,
than JSON arrays of entries. Anything unusual takes the general path, with the same result
(tests/reports/test_ingestion_fast.py holds the two to each other). `parse_row` gives the
same row as named values.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from reports.models import AMOUNT_METRICS, COUNT_METRICS, TOP5_FIELDS

# The stored columns `read_row` gives values for, in its order.
COLUMNS = (
    "package_id",
    "report_type",
    "reach_type",
    "shop_id",
    "op_time",
    *COUNT_METRICS,
    *AMOUNT_METRICS,
    "top5",
    "top5_raw",
    "top5_malformed",
)
_TOP5_AT = COLUMNS.index("top5")
# The columns are bigint and numeric(16, 2): a value outside fails its row, not the pull.
_BIGINT = 2**63
_MAX_AMOUNT = Decimal("1e14")
_CENT = Decimal("0.01")
_INTS_ONLY = {int}
_INTS_OR_TEXT = {int, str}
_counts_of = operator.itemgetter(*COUNT_METRICS)
_amounts_of = operator.itemgetter(*AMOUNT_METRICS)
_top5_of = operator.itemgetter(*TOP5_FIELDS)
_TEXTS = (("reach_type", 16), ("shop_id", 32), ("op_time", 32))
_texts_of = operator.itemgetter(*(name for name, _length in _TEXTS))
_TEXT_CUTS = tuple(slice(length) for _name, length in _TEXTS)


class TopEntry(NamedTuple):
    rank: int
    sku_id: str
    value: Decimal


@dataclass
class ParsedRow:
    package_id: str
    report_date: date
    report_type: str
    values: dict[str, Any]  # reach_type, shop_id, op_time and the metrics
    top: dict[str, list[TopEntry]]  # the readable lists, entries in rank order
    top5_raw: dict[str, str]  # the lists that could not be read, as sent

    @property
    def malformed(self) -> list[str]:
        return list(self.top5_raw)


# --- top-5 lists ------------------------------------------------------------------------

# The common shape: ranks, SKU ids of letters and digits, plain decimal values. Nothing in
# such a string needs escaping in JSON. Possessive quantifiers (`++`, `?+`): an entry reads
# only one way, and not keeping the ways back makes the match a third faster.
_SKU_VALUE = r"[0-9A-Za-z-]++_[0-9]++(?:\.[0-9]++)?+"
# Ranks 1, 2, 3 … in order, as JD usually sends them.
_IN_ORDER_PATTERN = (
    "1_" + _SKU_VALUE + "".join(rf"(?:\*{rank}_{_SKU_VALUE}" for rank in range(2, 11)) + ")?+" * 9
)
_IN_ORDER = re.compile(_IN_ORDER_PATTERN)


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


def top5_canonical(text: str) -> str:
    """A list as stored: the spec's own notation `1_sku_918*2_sku_26*…`, entries in rank
    order, each part as JD wrote it when it was plain. Raises ValueError exactly when
    `parse_top5` does."""
    return _canonical(text)[0]


def _canonical(text: str) -> tuple[str, bool]:
    """The canonical list, and whether it is plain (nothing in it to escape in JSON)."""
    if _IN_ORDER.fullmatch(text):
        return text, True
    return _reordered(text)


def _reordered(text: str) -> tuple[str, bool]:
    """`_canonical` of a list that is not plain and in order as it stands."""
    # Out of order (the spec's example has such lists): with ranks of one digit, sorting
    # the entries as text sorts them by rank, and the same check follows.
    entries = text.split("*")
    if len(entries) < 10:
        ordered = "*".join(sorted(entries))
        if _IN_ORDER.fullmatch(ordered):
            return ordered, True
    entries = parse_top5(text)  # any other shape, or the error
    if any("\x00" in entry.sku_id for entry in entries):
        raise ValueError("a SKU id holds a NUL character")  # no database stores it as text
    return "*".join(f"{e.rank}_{e.sku_id}_{e.value}" for e in entries), False


def top5_entries(stored: str) -> list[TopEntry]:
    """A stored list (`top5_canonical`) as entries."""
    entries = []
    for part in stored.split("*") if stored else ():
        rank, sku_id, value = part.split("_")
        entries.append(TopEntry(int(rank), sku_id, Decimal(value)))
    return entries


_JSON_KEYS = {name: f'"{name}":' for name in TOP5_FIELDS}
_in_order = _IN_ORDER.fullmatch
# The `top5` column of a row whose seven lists are all plain, and the same JSON checked
# whole: one format and one match for the row instead of seven of each.
_TOP5_JSON = "{" + ",".join(f'"{name}":"%s"' for name in TOP5_FIELDS) + "}"
_all_plain_in_order = re.compile(
    re.escape("{")
    + ",".join(re.escape(f'"{name}":"') + _IN_ORDER_PATTERN + '"' for name in TOP5_FIELDS)
    + re.escape("}")
).fullmatch


def _top5_columns(raw: dict) -> tuple[str, str, bool]:
    """The `top5` and `top5_raw` columns (JSON text) and `top5_malformed`."""
    try:
        # With ranks of one digit, entries sorted as text are in rank order (a list in
        # order stays as it is); the match then checks ranks, SKU ids and values.
        lists = ["*".join(sorted(text.split("*"))) for text in _top5_of(raw)]
    except (KeyError, AttributeError):  # a list missing, or not text
        pass
    else:
        top5 = _TOP5_JSON % (*lists,)
        if _all_plain_in_order(top5):
            return top5, "{}", False
    return _top5_columns_one_by_one(raw.get)


def _top5_columns_one_by_one(get) -> tuple[str, str, bool]:
    """`_top5_columns` of any row: lists missing, empty, not text or not plain."""
    readable, unreadable = [], {}
    for name, key in _JSON_KEYS.items():
        text = get(name)
        if not text:
            continue
        if type(text) is str and _in_order(text):  # the usual list: stored as sent
            readable.append(f'{key}"{text}"')
            continue
        try:
            canonical, plain = _reordered(text) if type(text) is str else _canonical(str(text))
        except ValueError:
            unreadable[name] = str(text).replace("\x00", "")
            continue
        quoted = f'"{canonical}"' if plain else json.dumps(canonical, ensure_ascii=False)
        readable.append(key + quoted)
    raw = json.dumps(unreadable, ensure_ascii=False) if unreadable else "{}"
    return "{" + ",".join(readable) + "}", raw, bool(unreadable)


# --- metrics ----------------------------------------------------------------------------


def _count(value: Any) -> int:
    """A count that is not an int (read_row checks the range of them all)."""
    if value is None or value == "":
        return 0
    if type(value) is str and value.isdigit():
        return int(value)
    return int(Decimal(str(value)))  # "12.0", "1e3"; not "many" (InvalidOperation)


def _as_ints(counts) -> list[int]:
    """The counts, some of them not ints, as `_count` reads them."""
    if _INTS_OR_TEXT.issuperset(map(type, counts)):
        try:
            return [*map(int, counts)]  # where int() reads a text, _count reads the same
        except ValueError:
            pass
    return [value if type(value) is int else _count(value) for value in counts]


# Amounts JD sends as numbers with at most two decimals and below 10^14, as their repr()s:
# stored as they are, nothing to round. (A float's repr has no exponent in that range.)
_PLAIN_AMOUNT = r"-?[0-9]{1,14}(?:\.[0-9]{1,2})?"
_plain_amounts = re.compile(r"\|".join([_PLAIN_AMOUNT] * len(AMOUNT_METRICS))).fullmatch


def _amounts(raw: dict) -> list[str]:
    """The amounts as `_amount` gives them; checked for the usual shape all at once."""
    try:
        amounts = _amounts_of(raw)
    except KeyError:
        return [_amount(raw.get(name)) for name in AMOUNT_METRICS]
    # Only ints' and floats' reprs match: those of text have quotes, of a bool letters.
    texts = [*map(repr, amounts)]
    if _plain_amounts("|".join(texts)):
        return texts
    return [*map(_amount, amounts)]


def _amount(value: Any) -> str:
    """An amount as the text of at most two decimals (rounded half away from zero, as the
    database would): both databases store exactly this."""
    if type(value) is float:
        text = repr(value)  # always holds a "." or an "e"
        if -1e14 < value < 1e14 and "e" not in text and len(text) - text.find(".") <= 3:
            return text  # JD's usual yuan and fen: nothing to round
    elif type(value) is int and -(10**14) < value < 10**14:
        return str(value)
    elif value is None or value == "":
        return "0"
    else:
        text = str(value).strip()
    amount = Decimal(text).quantize(_CENT, rounding=ROUND_HALF_UP)
    if not abs(amount) < _MAX_AMOUNT:  # also refuses NaN and infinities
        raise ValueError(f"{value!r} is out of range")
    return str(amount)


def _texts(raw: dict) -> Iterable[str]:
    """The text columns, as `_text` gives them, cut to their lengths."""
    try:
        texts = _texts_of(raw)
        if "\x00" not in "".join(texts):  # TypeError unless all are text
            return map(operator.getitem, texts, _TEXT_CUTS)
    except (KeyError, TypeError):
        pass
    return [_text(raw.get(name))[:length] for name, length in _TEXTS]


def _text(value: Any) -> str:
    """A text column's value: NUL characters dropped (PostgreSQL stores none)."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    return text.replace("\x00", "") if "\x00" in text else text


# --- rows -------------------------------------------------------------------------------


def read_row(raw: dict, *, report_type: str) -> tuple:
    """One row of `report_data` as the values of COLUMNS. Metrics that are not numbers
    raise ValueError, ArithmeticError or TypeError (the caller skips the row and says so);
    top-5 strings never do."""
    get = raw.get
    package_id = get("package_id")
    package_id = (package_id if type(package_id) is str else _text(package_id)).strip()
    if not package_id:
        raise ValueError("row without package_id")
    if len(package_id) > 64:
        raise ValueError("package_id longer than 64 characters")
    row_type = get("report_type") or report_type
    if row_type != report_type:  # the day of the other type is not this store's to replace
        raise ValueError(f"report_type {row_type!r} in the {report_type!r} report")
    if "\x00" in package_id:
        raise ValueError("package_id holds a NUL character")
    try:
        counts = _counts_of(raw)  # in one call, when JD sent every one
    except KeyError:
        counts = [get(name) for name in COUNT_METRICS]
    if not _INTS_ONLY.issuperset(map(type, counts)):  # JD sends some as text
        counts = _as_ints(counts)
    if not (min(counts) >= -_BIGINT and max(counts) < _BIGINT):
        raise ValueError("a count is out of range")
    return (
        package_id,
        row_type,
        *_texts(raw),
        *counts,
        *_amounts(raw),
        *_top5_columns(raw),
    )


def parse_row(raw: dict, *, report_date: date, report_type: str) -> ParsedRow:
    """`read_row`, as named values: amounts as Decimal, top-5 lists as entries."""
    record = read_row(raw, report_type=report_type)
    values = dict(zip(COLUMNS[2:_TOP5_AT], record[2:_TOP5_AT], strict=True))
    for name in AMOUNT_METRICS:
        values[name] = Decimal(values[name]).quantize(_CENT)
    top5, top5_raw = json.loads(record[_TOP5_AT]), json.loads(record[_TOP5_AT + 1])
    return ParsedRow(
        package_id=record[0],
        report_date=report_date,
        report_type=record[1],
        values=values,
        top={name: top5_entries(entries) for name, entries in top5.items()},
        top5_raw=top5_raw,
    )
