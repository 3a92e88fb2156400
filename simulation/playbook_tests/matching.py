"""An expectation checked against a test's actions: what matched, and when too few did, the closest.

An action matches when it has every key the expectation names with the value it names, and
happens within its window. `title`, `reason`, `detail` and `error` match as case-insensitive
parts of the text (`task: Onboarding rescue` matches "Onboarding rescue: TechCorp"); times
(`due`, `until`) as instants; numbers as numbers; anything else as equal text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulation.playbook_tests.moments import day_number, parse_moment
from simulation.playbook_tests.test_file import Expectation

__all__ = ["Difference", "Near", "Verdict", "check", "moment_text"]

PART_OF_TEXT = frozenset({"title", "reason", "detail", "error"})
INSTANTS = frozenset({"due", "until"})
CLOSEST = 3  # the nearest actions shown when an expected one is missing
LISTED = 5  # the actions shown when there are too many


@dataclass(frozen=True)
class Difference:
    key: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.key}: expected {self.expected}, got {self.got}"


@dataclass(frozen=True)
class Near:
    """An action that is not what was expected, and how it differs."""

    action: dict[str, Any]
    differences: list[Difference]


@dataclass
class Verdict:
    expectation: Expectation
    matched: list[dict[str, Any]]
    closest: list[Near] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.expectation.count.holds(len(self.matched))


def moment_text(at: datetime, start: datetime) -> str:
    """`2026-01-05 09:00 UTC (day 0)`."""
    return f"{at.strftime('%Y-%m-%d %H:%M')} UTC ({day_number(at, start)})"


def _text(value: Any) -> str:
    return "nothing" if value is None else str(value)


def _same(key: str, want: Any, got: Any, start: datetime) -> bool:
    if got is None:
        return want is None
    if key in PART_OF_TEXT:
        return str(want).lower() in str(got).lower()
    if key in INSTANTS:
        try:
            return parse_moment(want).resolve(start) == parse_moment(got).resolve(start)
        except ValueError:
            return False
    if isinstance(want, int | float) and not isinstance(want, bool) and isinstance(got, int | float):
        return float(want) == float(got)
    if isinstance(want, bool) or isinstance(got, bool):
        return want is got
    return str(want) == str(got)


def _shown(key: str, value: Any, start: datetime) -> str:
    """A value for a difference; an instant also says which day of the test it is."""
    if key in INSTANTS and value is not None:
        try:
            return moment_text(parse_moment(value).resolve(start), start)
        except ValueError:
            pass
    return _text(value)


def _differences(expectation: Expectation, action: dict[str, Any], start: datetime) -> list[Difference]:
    found = [Difference(key, _shown(key, want, start), _shown(key, action.get(key), start))
             for key, want in expectation.fields.items() if not _same(key, want, action.get(key), start)]
    window = expectation.window
    if window is not None:
        at = datetime.fromisoformat(action["at"])
        if not window.holds(at):
            found.append(Difference("at", window.text, moment_text(at, start)))
    return found


def _distance(expectation: Expectation, action: dict[str, Any], differences: list[Difference]) -> tuple[int, ...]:
    """Nearest first: the same kind, then fewest differences, then the nearest in time."""
    window = expectation.window
    seconds = 0
    if window is not None:
        at = datetime.fromisoformat(action["at"])
        seconds = int(min(abs((at - window.first).total_seconds()), abs((at - window.last).total_seconds())))
    kind = expectation.fields.get("kind")
    return (int(kind is not None and action.get("kind") != kind), len(differences), seconds)


def check(expectation: Expectation, actions: list[dict[str, Any]], start: datetime) -> Verdict:
    """Which actions match; when fewer than wanted, the nearest others and how each differs."""
    matched, others = [], []
    for action in actions:
        differences = _differences(expectation, action, start)
        if differences:
            others.append(Near(action, differences))
        else:
            matched.append(action)
    verdict = Verdict(expectation, matched)
    if len(matched) < expectation.count.low:
        kind = expectation.fields.get("kind")
        pool = [near for near in others if near.action.get("kind") != "decided" or kind == "decided"]
        same_kind = [near for near in pool if kind is None or near.action.get("kind") == kind]
        pool = same_kind or pool
        pool.sort(key=lambda near: _distance(expectation, near.action, near.differences))
        # only the nearest: those as few differences away as the nearest one
        fewest = len(pool[0].differences) if pool else 0
        verdict.closest = [near for near in pool if len(near.differences) == fewest][:CLOSEST]
    return verdict
