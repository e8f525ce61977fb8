"""One line of figures from a pytest JUnit XML report, for `make verify`'s summary.

    python scripts/junit_figures.py LABEL REPORT.xml [--only NODE_IDS_FILE]

Prints "LABEL: N tests, P passed, F failed, E errors, S skipped (T s)" and exits 1 when a
test failed or errored, or when the report holds no test at all (a run that tested
nothing proves nothing). --only counts just the tests whose pytest node ids are listed in
the file (one per line, as `pytest --collect-only -q` prints them), and fails when one of
them is missing from the report.
"""

from __future__ import annotations

import argparse
import sys

# The XML parsed is the report our own pytest run just wrote, not outside input.
import xml.etree.ElementTree as ET  # noqa: S405  # nosec B405
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Figures:
    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0
    missing: int = 0

    def line(self, label: str) -> str:
        text = (
            f"{label}: {self.tests} tests, {self.passed} passed, {self.failed} failed, "
            f"{self.errors} errors, {self.skipped} skipped ({self.seconds:.0f} s)"
        )
        if self.missing:
            text += f", {self.missing} expected but not run"
        return text

    @property
    def ok(self) -> bool:
        return self.tests > 0 and not (self.failed or self.errors or self.missing)


def junit_key(node_id: str) -> tuple[str, str]:
    """pytest node id → (classname, name) as the JUnit report writes them:
    tests/a/test_b.py::TestC::test_d[x] → ("tests.a.test_b.TestC", "test_d[x]")."""
    path, *rest = node_id.split("::")
    module = path.removesuffix(".py").replace("/", ".")
    return ".".join([module, *rest[:-1]]), rest[-1] if rest else ""


def figures(report: Path, only: set[tuple[str, str]] | None = None) -> Figures:
    result = Figures()
    seen = set()
    for case in ET.parse(report).iter("testcase"):  # noqa: S314  # nosec B314
        key = (case.get("classname", ""), case.get("name", ""))
        if only is not None and key not in only:
            continue
        seen.add(key)
        result.tests += 1
        result.seconds += float(case.get("time", 0) or 0)
        if case.find("failure") is not None:
            result.failed += 1
        elif case.find("error") is not None:
            result.errors += 1
        elif case.find("skipped") is not None:
            result.skipped += 1
        else:
            result.passed += 1
    if only is not None:
        result.missing = len(only - seen)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("label")
    parser.add_argument("report", type=Path)
    parser.add_argument("--only", type=Path, help="file of pytest node ids to count")
    args = parser.parse_args()
    if not args.report.is_file():
        print(f"{args.label}: not run (no report at {args.report})")
        return 1
    only = None
    if args.only:
        ids = [line.strip() for line in args.only.read_text().splitlines()]
        only = {junit_key(node) for node in ids if "::" in node}
    result = figures(args.report, only)
    print(result.line(args.label))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
