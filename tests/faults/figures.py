"""What the fault suite counts, printed at the end of its run (issue 9: "each suite's figures
printed at the end of its run"): per part of the suite, the user actions tried and how each
ended, and what the remote systems were made to suffer.

An action is something a brand user does (create a crowd, send a reach, open a report) or
something the portal does on its own that the user watches (an instance polled to its end,
an openId package built, a write-back). Each ends in one of:

- done: it did what was asked, at the first try or after the worker's own retries;
- failed with reason: it stopped and says why (a row's error, or the refusal the API shows);
  the suite then retries it by hand with the faults lifted and expects it done
  ("retried to done" counts those);
- lost: neither, or a retry that could not succeed; the suite fails on any;
- known weakness: one of `KNOWN`, met but not failed on (each is pinned by an xfail test).

tried = done + failed with reason + lost + known weakness. "duplicated" counts local rows
made twice for one thing, "remote orphans" objects JD Cloud holds that the portal does not
know (a write carried out whose answer was lost), "calls" the integration call log.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

# part of the suite → figure → count
FIGURES: dict[str, Counter] = defaultdict(Counter)

ORDER = (
    "tried",
    "done",
    "failed with reason",
    "retried to done",
    "lost",
    "duplicated",
    "known weakness",
    "remote orphans",
    "calls",
    "failed calls",
)

# Weaknesses the suite meets but does not fail on: each has an xfail(strict=True) test that
# fails until it is fixed, and an entry in the report of issue 9.
KNOWN: dict[str, str] = {}


def count(part: str, **figures: int) -> None:
    for name, value in figures.items():
        FIGURES[part][name.replace("_", " ")] += int(value)


# part of the suite → the actions that did not simply end done, with what happened
LEDGERS: dict[str, Ledger] = {}


def lines(*, details: bool = False) -> list[str]:
    out = []
    for part in sorted(FIGURES):
        numbers = FIGURES[part]
        names = [n for n in ORDER if n in numbers] + sorted(set(numbers) - set(ORDER))
        out.append(f"{part}: " + " / ".join(f"{name} {numbers[name]}" for name in names))
        ledger = LEDGERS.get(part)
        if details and ledger is not None:
            for action, state in ledger.state.items():
                if state != "done":
                    out.append(f"    {action}: {state} ({ledger.reasons[action][:160]})")
    return out


@dataclass
class Ledger:
    """The user actions of one part of the suite and how each ended: `done`, `failed` (with
    its reason, waiting for the retry by hand), `retried` (failed, then done when retried),
    `lost`, or `known` (a weakness of `KNOWN`)."""

    part: str
    state: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        LEDGERS[self.part] = self
        count(self.part, tried=0, done=0, failed_with_reason=0, retried_to_done=0, lost=0)
        count(self.part, duplicated=0)

    def _end(self, action: str, state: str, reason: str = "") -> None:
        if action in self.state:
            raise AssertionError(f"{action} was recorded twice")
        self.state[action], self.reasons[action] = state, reason
        figure = {"failed": "failed_with_reason", "known": "known_weakness"}.get(state, state)
        count(self.part, tried=1, **{figure: 1})

    def done(self, action: str) -> None:
        self._end(action, "done")

    def failed(self, action: str, reason: str) -> None:
        """Failed, saying why; a failure without a reason is as good as lost."""
        if reason.strip():
            self._end(action, "failed", reason)
        else:
            self._end(action, "lost", "failed without a reason")

    def lost(self, action: str, why: str) -> None:
        self._end(action, "lost", why)

    def known(self, action: str, weakness: str, detail: str) -> None:
        assert weakness in KNOWN, weakness
        self._end(action, "known", f"{weakness}: {detail}")

    def retried(self, action: str, *, done: bool = True, why: str = "") -> None:
        """The retry by hand, with the faults lifted, of a failed action."""
        assert self.state.get(action) == "failed", f"{action} did not fail"
        if done:
            self.state[action] = "retried"
            count(self.part, retried_to_done=1)
        else:
            self.state[action] = "lost"
            self.reasons[action] += f"; the retry failed too: {why}"
            count(self.part, lost=1)

    def retried_into_known(self, action: str, weakness: str, detail: str) -> None:
        assert self.state.get(action) == "failed", f"{action} did not fail"
        assert weakness in KNOWN, weakness
        self.state[action] = "known"
        self.reasons[action] += f"; {weakness}: {detail}"
        count(self.part, known_weakness=1)

    def pending(self) -> list[str]:
        return [action for action, state in self.state.items() if state == "failed"]

    def unresolved(self) -> dict[str, str]:
        """Actions lost, or failed and never retried: what the suite fails on."""
        return {
            action: f"{state}: {self.reasons[action]}"
            for action, state in self.state.items()
            if state in ("lost", "failed")
        }
