"""How many people a package holds, and how packages overlap.

The model: JD's user base is a universe of `UNIVERSE` people. A crowd instantiated from
tags, and a calc result, is an independent random subset (a "root"), so two roots overlap
as independent events do: |A∩B| = |A||B|/N. A package derived from one root (save-as,
split, response filter) is a set of spans (fractions) of its root's ordering, so split
children of one parent are disjoint, a save-as copy equals its source, and A − A is empty.
That keeps every calc consistent with set algebra (spec "人群计算"): a union is at least
every part and at most their sum, an intersection at most the smallest part, a
difference at most its base.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce

UNIVERSE = 10_000_000
MIN_TAG_CROWD, MAX_TAG_CROWD = 1_000, 200_000

Spans = tuple[tuple[float, float], ...]
FULL: Spans = ((0.0, 1.0),)


@dataclass(frozen=True)
class Extent:
    """Which people a package holds: spans of a root set of `root_size` people."""

    root: str
    root_size: int
    spans: Spans = FULL

    def sub(self, low: float, high: float) -> Extent:
        """The part between fractions `low` and `high` of this extent's own measure."""
        total = _measure(self.spans)
        start, stop = low * total, high * total
        out, walked = [], 0.0
        for a, b in self.spans:
            width = b - a
            lo, hi = max(start - walked, 0.0), min(stop - walked, width)
            if hi > lo:
                out.append((a + lo, a + hi))
            walked += width
        return Extent(self.root, self.root_size, tuple(out))


@dataclass(frozen=True)
class Operand:
    extent: Extent
    size: int


def _digest_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def size_from_condition(condition: object) -> int:
    """A tag crowd's size: a pure function of its condition, so the same condition always
    yields the same size, whatever the seed."""
    canonical = json.dumps(condition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    span = MAX_TAG_CROWD - MIN_TAG_CROWD + 1
    return MIN_TAG_CROWD + _digest_int(canonical) % span


def _measure(spans: Iterable[tuple[float, float]]) -> float:
    return sum(b - a for a, b in spans)


def _union(spans: Iterable[tuple[float, float]]) -> Spans:
    merged: list[list[float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return tuple((a, b) for a, b in merged)


def _intersect(left: Spans, right: Spans) -> Spans:
    out = []
    for a, b in left:
        for c, d in right:
            lo, hi = max(a, c), min(b, d)
            if hi > lo:
                out.append((lo, hi))
    return _union(out)


def _subtract(left: Spans, right: Spans) -> Spans:
    out = list(left)
    for c, d in right:
        pieces = []
        for a, b in out:
            if d <= a or c >= b:
                pieces.append((a, b))
                continue
            if c > a:
                pieces.append((a, c))
            if d < b:
                pieces.append((d, b))
        out = pieces
    return tuple(out)


def _by_root(operands: Sequence[Operand]) -> dict[str, list[Operand]]:
    groups: dict[str, list[Operand]] = {}
    for operand in operands:
        groups.setdefault(operand.extent.root, []).append(operand)
    return groups


def _group_spans(group: Sequence[Operand], op: str) -> Spans:
    spans = [operand.extent.spans for operand in group]
    if op == "must":
        return reduce(_intersect, spans)
    return _union(s for each in spans for s in each)


def _people(spans: Spans, root_size: int) -> float:
    return _measure(spans) * root_size


def combine(op: str, operands: Sequence[Operand]) -> int:
    """Size of the intersection (`must`) or union (`should`) of the operands."""
    if not operands:
        return 0
    sizes = [operand.size for operand in operands]
    groups = _by_root(operands)
    if len(groups) == 1:
        (group,) = groups.values()
        size = round(_people(_group_spans(group, op), group[0].extent.root_size))
    else:
        shares = [
            _people(_group_spans(group, op), group[0].extent.root_size) / UNIVERSE
            for group in groups.values()
        ]
        if op == "must":
            size = math.floor(UNIVERSE * math.prod(shares))
        else:
            size = math.floor(UNIVERSE * (1 - math.prod(1 - share for share in shares)))
    if op == "must":
        return max(0, min(size, *sizes))
    return min(max(size, *sizes), sum(sizes))


def difference(op: str, base: Sequence[Operand], minus: Sequence[Operand]) -> int:
    """Size of (the `op` combination of `base`) minus (the union of `minus`)."""
    base_size = combine(op, base)
    base_groups = _by_root(base)
    minus_groups = _by_root(minus)
    keep = 1.0
    if len(base_groups) == 1:
        ((root, group),) = base_groups.items()
        spans = _group_spans(group, op)
        if root in minus_groups:
            spans = _subtract(spans, _group_spans(minus_groups.pop(root), "should"))
        size = _people(spans, group[0].extent.root_size)
    else:
        size = float(base_size)
    for group in minus_groups.values():
        keep *= 1 - _people(_group_spans(group, "should"), group[0].extent.root_size) / UNIVERSE
    return max(0, min(base_size, math.floor(size * keep + 1e-6)))


# Spec "统计人群包短信发送结果": success / failed / restrict / unknown sum to the package.
SMS_OUTCOMES = ("success", "failed", "restrict", "unknown")


def sms_outcome(package_id: str, size: int) -> dict[str, int]:
    """About 92 / 4 / 2 / 2 %, nudged per package so that packages differ."""
    nudge = _digest_int(package_id)
    failed = math.floor(size * (0.03 + (nudge % 21) / 1000))
    restrict = math.floor(size * (0.015 + (nudge // 21 % 11) / 1000))
    unknown = math.floor(size * (0.015 + (nudge // 231 % 11) / 1000))
    return {
        "success": size - failed - restrict - unknown,
        "failed": failed,
        "restrict": restrict,
        "unknown": unknown,
    }


def outcome_extents(extent: Extent, outcome: dict[str, int]) -> dict[str, Extent]:
    """Disjoint sub-extents for each outcome, in SMS_OUTCOMES order."""
    total = sum(outcome.values()) or 1
    out, cursor = {}, 0.0
    for name in SMS_OUTCOMES:
        share = outcome[name] / total
        out[name] = extent.sub(cursor, min(cursor + share, 1.0))
        cursor += share
    return out
