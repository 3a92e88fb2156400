"""Bounds on the durations and numbers a playbook may write, and the times its steps can run at.

A journey lives at most `MAX_DAYS` (five years): a longer wait, time limit, due date, window,
reentry delay or step is refused at check time, since at run time it would only hang a
simulation or schedule a timer nobody will see fire.

`30m` is 30 million (an amount, like `25k`): written where a count is expected (compared with a
number field, given to a number parameter) it is most likely meant as 30 minutes, so it is a
warning that says both readings.

Steps after entry run at their day or, when a wait in the steps before holds the journey past
it, later: `day 7:` after `wait 14 days` runs on day 14. `earliest_days` says how many days the
statements of a block hold the journey at least, so that the checker can warn about a step that
can only run later than written.
"""

from __future__ import annotations

from collections.abc import Iterable

from dsl import ast
from dsl.diagnostics import Span
from dsl.reporter import Reporter

__all__ = ["MAX_DAYS", "HeldBy", "check_duration", "earliest_days", "millions_for_a_count"]

MAX_DAYS = 1826  # five years
_DAYS_PER_UNIT = {"minutes": 1 / 1440, "hours": 1 / 24, "days": 1.0, "weeks": 7.0, "business_days": 1.0}


def duration_days(duration: ast.Duration) -> float:
    """At least how many days a duration lasts (a business day lasts at least one day)."""
    return duration.amount * _DAYS_PER_UNIT[duration.unit]


def check_duration(duration: ast.Duration, report: Reporter, what: str) -> None:
    """Report a duration over `MAX_DAYS`; `what` names it as written (`'wait 90 weeks'`)."""
    if duration_days(duration) > MAX_DAYS:
        report.error(duration.pos, f"{what} is longer than 5 years: a journey lasts at most {MAX_DAYS} days; "
                                   "use a date step (e.g. '30 days before renewal_date') for a far date",
                                   code="out-of-range")


def check_day(day: int, where: ast.Pos | Span, report: Reporter) -> None:
    if day > MAX_DAYS:
        report.error(where, f"'day {day}' is more than 5 years after entry: a journey lasts at most {MAX_DAYS} days",
                     code="out-of-range")


def millions_for_a_count(value: ast.MoneyLit, report: Reporter, where: str) -> None:
    """Warn about `30m` (30 million) written where a count is expected."""
    if not value.text.endswith("m"):
        return
    amount = value.text[:-1]
    report.warning(value.pos, f"'{value.text}' is {amount} million ({value.value:,.0f}) {where}: "
                              f"write {value.value:.0f} if you mean millions, or a duration "
                              f"('{amount} minutes') if you mean minutes", code="out-of-range")


HeldBy = tuple[float, ast.Duration | None]  # days a block holds the journey at least, and the wait that holds it most


def earliest_days(statements: Iterable[ast.Statement]) -> HeldBy:
    """How many days these statements hold the journey at least, run in order, and the longest
    of the waits that all their paths go through (for the message)."""
    total, longest = 0.0, None
    for statement in statements:
        days, wait = _held(statement)
        total += days
        if wait is not None and (longest is None or duration_days(wait) > duration_days(longest)):
            longest = wait
    return total, longest


def _held(statement: ast.Statement) -> HeldBy:
    if isinstance(statement, ast.Wait):
        return duration_days(statement.duration), statement.duration
    if isinstance(statement, ast.If):
        return min(earliest_days(statement.then), earliest_days(statement.otherwise), key=_days)
    if isinstance(statement, ast.Split):
        if not statement.arms:
            return 0.0, None
        return min((earliest_days(arm.body) for arm in statement.arms), key=_days)
    return 0.0, None  # `wait until` may end at once; other statements take no time


def _days(held: HeldBy) -> float:
    return held[0]
