"""Revenue retention of a window and a cohort: `playbook outcomes`, `GET /v1/outcomes`, `/outcomes`.

The cohort is the accounts present at the window's start: ARR above zero and not churned (a
`churned` event not followed by a `signed` one). Over the window `(since, until]` each of them is
either churned (a `churned` event inside the window: its ARR at the start is churned ARR) or not
(its ARR at the end minus its ARR at the start is expansion when positive, contraction when
negative). Then, with S the starting ARR:

    NRR = (S + expansion - contraction - churned) / S
    GRR = (S - contraction - churned) / S
    logo churn = churned accounts / accounts at the start

Accounts that arrive during the window are not in it (new business is not retention). The curves
are the same figures from the window's start to itself (100%), to each month's start inside it and
to its end.
docs/outcomes.md has the definitions with a worked example.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import add
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from dsl import ir
from engine.insight.outcomes_cache import figures, ledger
from engine.insight.outcomes_ledger import AccountHistory, Ledger, moment, seconds
from engine.read_model.scores import primary_score

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["GROUPINGS", "CurvePoint", "CurveSums", "Grouping", "Outcomes", "Retention", "RetentionCurve", "Tally",
           "WindowError", "outcomes", "retention_of", "score_bands", "window"]

Grouping = Literal["segment", "csm", "band", "playbook", "version", "arm"]
GROUPINGS: tuple[str, ...] = ("segment", "csm", "band", "playbook", "version", "arm")
DEFAULT_DAYS = 365
MAX_WINDOW_DAYS = 3660  # ten years
FIRST_YEAR, LAST_YEAR = 1900, 2200
NONE = "none"


class Retention(BaseModel):
    """The retention of one cohort over the window, with the counts behind it."""

    group: str  # "all", or the cohort's value (`smb`, `sam@vendor.example`, `red`, `renewal` …)
    accounts: int  # present at the window's start
    starting_arr: float
    expansion: float
    contraction: float
    churned_arr: float
    ending_arr: float  # starting + expansion - contraction - churned
    expanded_accounts: int
    contracted_accounts: int
    churned_accounts: int
    nrr: float | None  # None when the cohort is empty (no starting ARR)
    grr: float | None
    logo_churn: float | None


class CurvePoint(BaseModel):
    at: datetime
    nrr: float | None
    grr: float | None
    logos_retained: float | None  # share of the cohort's accounts not churned by then


class RetentionCurve(BaseModel):
    group: str
    points: list[CurvePoint]


class Outcomes(BaseModel):
    since: datetime
    until: datetime
    as_of: datetime  # when the history these figures read was read from the store
    by: str | None = None
    score: str | None = None  # the score whose bands `band` groups by
    total: Retention
    groups: list[Retention] = []  # by starting ARR, largest first
    curves: list[RetentionCurve] = []  # the total's first, then each group's


@dataclass
class Tally:
    """Sums over a cohort; `add` one account's start, end and whether it churned."""

    accounts: int = 0
    start: float = 0.0
    expansion: float = 0.0
    contraction: float = 0.0
    churned: float = 0.0
    expanded: int = 0
    contracted: int = 0
    churned_accounts: int = 0

    def add(self, start: float, end: float, churned: bool) -> None:
        self.accounts += 1
        self.start += start
        if churned:
            self.churned += start
            self.churned_accounts += 1
        elif end > start:
            self.expansion += end - start
            self.expanded += 1
        elif end < start:
            self.contraction += start - end
            self.contracted += 1

    def retention(self, group: str) -> Retention:
        start = self.start
        return Retention(
            group=group, accounts=self.accounts, starting_arr=_money(start), expansion=_money(self.expansion),
            contraction=_money(self.contraction), churned_arr=_money(self.churned),
            ending_arr=_money(start + self.expansion - self.contraction - self.churned),
            expanded_accounts=self.expanded, contracted_accounts=self.contracted,
            churned_accounts=self.churned_accounts,
            nrr=_ratio(start + self.expansion - self.contraction - self.churned, start),
            grr=_ratio(start - self.contraction - self.churned, start),
            logo_churn=_ratio(self.churned_accounts, self.accounts),
        )


def _money(value: float) -> float:
    return round(value, 2)


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def score_bands(bundle: ir.Bundle | None) -> tuple[str | None, list[str]]:
    """The score whose bands group accounts (`health`, else the first by name) and its bands, best first."""
    name = primary_score(bundle)
    if bundle is None or name is None:
        return name, []
    model = bundle.scores[name]
    return name, [band.name for band in sorted(model.bands, key=lambda band: -band.high)]


class WindowError(ValueError):
    """A window that cannot be measured; the message says why, for people."""


def window(since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The window asked for: until `now` and from a year before its end, by default. Raises
    `WindowError` for a window that is empty, longer than `MAX_WINDOW_DAYS` or out of time's range."""
    try:
        end = (until or now).astimezone(UTC)
        start = (since or end - timedelta(days=DEFAULT_DAYS)).astimezone(UTC)
    except OverflowError:
        raise WindowError(f"the window's dates must lie between the years {FIRST_YEAR} and {LAST_YEAR}") from None
    if start.year < FIRST_YEAR or end.year > LAST_YEAR:
        raise WindowError(f"the window's dates must lie between the years {FIRST_YEAR} and {LAST_YEAR}")
    if start >= end:
        raise WindowError("the window's start must come before its end")
    if end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise WindowError(f"a window spans at most {MAX_WINDOW_DAYS} days (its curves have a point a month)")
    return start, end


def _month_starts(start: datetime, end: datetime) -> list[datetime]:
    found: list[datetime] = []
    month = datetime(start.year, start.month, 1, tzinfo=UTC)
    while True:
        month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
        if month >= end:
            return [*found, end]
        found.append(month)


def group_keys(by: str | None, history: AccountHistory, start: float, end: float) -> list[str]:
    """The cohorts an account at the window's start belongs to (several for the playbooks it entered)."""
    if by is None:
        return []
    if by == "segment":
        return [history.text("segment", start) or "unknown"]
    if by == "csm":
        return [history.text("csm", start) or "unassigned"]
    if by == "band":
        return [history.band(start) or "unscored"]
    entered = [entry for entry in history.entries if entry.at <= end]
    if by == "playbook":
        keys = {entry.playbook for entry in entered}
    elif by == "version":
        keys = {f"{entry.playbook} {entry.version}" for entry in entered}
    else:
        keys = {f"{entry.playbook} {entry.arm}" for entry in entered if entry.arm is not None}
    return sorted(keys) or [NONE]


@dataclass
class CurveSums:
    """A cohort's sums at each point of its curve: ARR kept (net, and gross: at most the start's),
    accounts not churned; over its starting ARR and accounts."""

    start: float = 0.0
    accounts: int = 0
    net: list[float] = field(default_factory=list)
    gross: list[float] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)

    def add(self, start: float, then: list[float], gross: list[float], kept: list[int]) -> None:
        """One account: its ARR at the start, and at each point its ARR, that ARR at most the start's,
        and 1 while it has not churned."""
        if not self.net:
            self.net, self.gross, self.kept = [0.0] * len(then), [0.0] * len(then), [0] * len(then)
        self.start += start
        self.accounts += 1
        self.net = list(map(add, self.net, then))
        self.gross = list(map(add, self.gross, gross))
        self.kept = list(map(add, self.kept, kept))

    def curve(self, group: str, marks: list[float]) -> RetentionCurve:
        return RetentionCurve(group=group, points=[
            CurvePoint(at=moment(mark), nrr=_ratio(self.net[i], self.start) if self.net else None,
                       grr=_ratio(self.gross[i], self.start) if self.net else None,
                       logos_retained=_ratio(self.kept[i], self.accounts) if self.net else None)
            for i, mark in enumerate(marks)])


def retention_of(book: Ledger, start: float, end: float, by: str | None = None, points: Iterable[float] = (),
                 ) -> tuple[Tally, dict[str, Tally], dict[str, CurveSums]]:
    """The total and per-cohort tallies over `(start, end]`, and the sums of their curves at `points`
    (the total's under "")."""
    marks = list(points)
    total, groups = Tally(), dict[str, Tally]()
    curves: dict[str, CurveSums] = {"": CurveSums()}
    for history in book.accounts.values():
        arr_start = history.arr(start)
        if arr_start <= 0 or history.churned_by(start):
            continue
        churn = min((t for t in history.churns if start < t <= end), default=None)
        arr_end = history.arr(end)
        total.add(arr_start, arr_end, churn is not None)
        keys = group_keys(by, history, start, end)
        then = history.arr_at(marks)
        kept = [1] * len(marks)
        if churn is not None:  # gone from the first point at or after its churn
            first = bisect_left(marks, churn)
            then[first:] = [0.0] * (len(marks) - first)
            kept[first:] = [0] * (len(marks) - first)
        gross = list(map(min, then, repeat(arr_start)))
        curves[""].add(arr_start, then, gross, kept)
        for key in keys:
            tally = groups.get(key)
            if tally is None:
                tally = groups[key] = Tally()
                curves[key] = CurveSums()
            tally.add(arr_start, arr_end, churn is not None)
            curves[key].add(arr_start, then, gross, kept)
    return total, groups, curves


def outcomes(store: Store, score: str | None, since: datetime | None = None, until: datetime | None = None,
             by: str | None = None, now: datetime | None = None, *, stale_ok: bool = False) -> Outcomes:
    """Retention over the window (default: the year to `now`), in total and per cohort of `by`.
    `stale_ok`: see `engine.insight.outcomes_cache.ledger`."""
    book = ledger(store, score, stale_ok=stale_ok)
    fixed = None if stale_ok else now or book.as_of  # stale_ok: as of the ledger's reading

    def compute(book: Ledger) -> Outcomes:
        start, end = window(since, until, fixed or book.as_of)
        return _outcomes(book, score, start, end, by)

    return figures(book, ("outcomes", since, until, by, fixed), compute, stale_ok=stale_ok)


def _outcomes(book: Ledger, score: str | None, start: datetime, end: datetime, by: str | None) -> Outcomes:
    marks = [seconds(at) for at in [start, *_month_starts(start, end)]]
    total, groups, curves = retention_of(book, seconds(start), seconds(end), by, marks)
    ranked = sorted(groups.items(), key=lambda item: (-item[1].start, item[0]))
    lines = [curves[""].curve("all", marks), *(curves[key].curve(key, marks) for key, _ in ranked)]
    return Outcomes(since=start, until=end, as_of=book.as_of, by=by, score=score, total=total.retention("all"),
                    groups=[tally.retention(key) for key, tally in ranked], curves=lines)
