"""The figures each security suite prints at the end of its run (issue 9: "each suite's
figures printed"): what was tried, and how much of it got through."""

from __future__ import annotations

from collections import Counter, defaultdict

# suite → figure → count, filled by the tests as they run.
FIGURES: dict[str, Counter] = defaultdict(Counter)

# The order the figures are printed in; any other figure follows.
ORDER = ("tried", "accepted", "5xx", "written", "left", "leaked", "lost")


def count(suite: str, **figures: int) -> None:
    for name, value in figures.items():
        FIGURES[suite][name] += int(value)


def lines() -> list[str]:
    out = []
    for suite in sorted(FIGURES):
        numbers = FIGURES[suite]
        names = [n for n in ORDER if n in numbers] + sorted(set(numbers) - set(ORDER))
        out.append(f"{suite}: " + " / ".join(f"{name} {numbers[name]}" for name in names))
    return out
