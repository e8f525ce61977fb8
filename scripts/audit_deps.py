"""Gate: no locked dependency with a known vulnerability (pip-audit on uv.lock).

    python scripts/audit_deps.py [--strict]

Exports the locked requirements (`uv export --frozen`, every dependency group, exact pins)
and asks pip-audit about each pin, without installing anything (`--no-deps --disable-pip`).
pip-audit's default vulnerability service is PyPI's per-release JSON API, so no host other
than PyPI is needed.

Prints one line of figures: pinned / audited / vulnerable / not audited. Exits 1 when a pin
has a known vulnerability. A pin that could not be audited (the vulnerability service did
not answer for it) fails only with --strict (`make verify`); without it (`make test`, and
so CI) it prints a warning naming how many, because a network that cannot reach the
service would otherwise block every build while proving nothing about the code.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Audit:
    pinned: int = 0
    audited: int = 0
    vulnerable: dict[str, list[str]] = field(default_factory=dict)  # "name==version": ids
    unaudited: dict[str, str] = field(default_factory=dict)  # name: why
    error: str = ""  # pip-audit gave no report at all

    @property
    def figures(self) -> str:
        return (
            f"pip-audit: {self.pinned} pinned, {self.audited} audited, "
            f"{len(self.vulnerable)} vulnerable, {len(self.unaudited)} not audited"
        )

    def verdict(self, *, strict: bool) -> tuple[int, list[str]]:
        """(exit status, lines to print)."""
        lines = [self.figures]
        status = 0
        for pin, ids in sorted(self.vulnerable.items()):
            lines.append(f"  VULNERABLE {pin}: {', '.join(ids)}")
            status = 1
        if self.error or self.unaudited:
            why = self.error or next(iter(self.unaudited.values()))
            label = "FAILED" if strict else "WARNING"
            lines.append(
                f"  {label}: {self.pinned - self.audited} of {self.pinned} pins were NOT "
                f"audited: the vulnerability service did not answer (first reason: {why})"
            )
            if strict:
                status = 1
            else:
                lines.append("  (`make verify` fails on this; `make test` carries on)")
        return status, lines


def read_report(report: dict) -> Audit:
    """Figures from pip-audit's JSON report (`--format json`)."""
    audit = Audit()
    for dependency in report.get("dependencies", []):
        audit.pinned += 1
        name = dependency.get("name", "?")
        if "skip_reason" in dependency:
            audit.unaudited[name] = dependency["skip_reason"]
            continue
        audit.audited += 1
        ids = [vuln.get("id", "?") for vuln in dependency.get("vulns", [])]
        if ids:
            audit.vulnerable[f"{name}=={dependency.get('version', '?')}"] = ids
    return audit


def locked_requirements(path: Path) -> int:
    """Write the locked pins to `path`; returns how many there are."""
    uv = os.environ.get("UV", str(ROOT / ".tools" / "bin" / "uv"))
    subprocess.run(  # noqa: S603 - fixed arguments
        [uv, "export", "--frozen", "--all-groups", "--no-hashes", "--no-emit-project"]
        + ["--format", "requirements-txt", "--quiet", "-o", str(path)],
        cwd=ROOT,
        check=True,
    )
    return sum(1 for line in path.read_text().splitlines() if "==" in line)


def run_pip_audit(requirements: Path) -> Audit:
    pip_audit = ROOT / ".venv" / "bin" / "pip-audit"
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [str(pip_audit), "-r", str(requirements), "--no-deps", "--disable-pip"]
        + ["--format", "json", "--progress-spinner", "off", "--timeout", "30"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    try:
        return read_report(json.loads(result.stdout))
    except ValueError:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return Audit(error=f"pip-audit exited {result.returncode}: {tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="fail when a pin is not audited")
    args = parser.parse_args()
    requirements = ROOT / "var" / "verify" / "requirements-locked.txt"
    requirements.parent.mkdir(parents=True, exist_ok=True)
    pinned = locked_requirements(requirements)
    audit = run_pip_audit(requirements)
    audit.pinned = audit.pinned or pinned
    status, lines = audit.verdict(strict=args.strict)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
