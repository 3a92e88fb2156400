"""The history that retention is measured on, read from the store once and kept while it holds.

Per account: its `arr`, `segment`, `csm` and `renewal_date` over time (the trait history), its
`churned` and `signed` events, its primary score over time (value and band), the journeys it
entered (playbook, version, the A/B arm a split put it in), and its open tasks now by priority
(a task opened or completed logs an action or an event, so the store's mark sees it). Times are
kept as POSIX seconds so that "the value at a moment" is a binary search.

Reading all of it costs a scan of those rows: `engine.insight.outcomes_cache` keeps the last
ledger read per store, with the figures computed on it.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from engine.store.driver import Driver

__all__ = ["MARK_SQL", "AccountHistory", "Entry", "Ledger", "Timeline", "moment", "read_ledger", "seconds"]

FIELDS = ("arr", "segment", "csm", "renewal_date", "name")
CHURNED, SIGNED = "churned", "signed"


def seconds(at: datetime) -> float:
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


def moment(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


@dataclass
class Timeline:
    """Values over time, oldest first; `at(t)` is the value last set at or before `t` (None before
    the first, or where it was cleared)."""

    times: list[float] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def add(self, at: float, value: Any) -> None:
        if not self.times or at >= self.times[-1]:
            self.times.append(at)
            self.values.append(value)
            return
        index = bisect_right(self.times, at)  # a late, older value: in its place
        self.times.insert(index, at)
        self.values.insert(index, value)

    def at(self, moment_: float) -> Any:
        index = bisect_right(self.times, moment_) - 1
        return self.values[index] if index >= 0 else None


@dataclass(frozen=True)
class Entry:
    """A journey the account entered."""

    at: float
    playbook: str
    version: str
    arm: str | None  # `<split path>: <arm label>` when a split put the journey in an arm


@dataclass
class AccountHistory:
    id: str
    traits: dict[str, Timeline] = field(default_factory=lambda: {name: Timeline() for name in FIELDS})
    churns: list[float] = field(default_factory=list)
    signs: list[float] = field(default_factory=list)
    score: Timeline = field(default_factory=Timeline)  # (value, band) of the primary score
    entries: list[Entry] = field(default_factory=list)

    _arr: tuple[list[float], list[float]] | None = None  # the ARR timeline as numbers, made on first use

    def _arr_timeline(self) -> tuple[list[float], list[float]]:
        if self._arr is None:
            timeline = self.traits["arr"]
            self._arr = (timeline.times, [float(value) if isinstance(value, int | float) and not isinstance(value, bool)
                                          else 0.0 for value in timeline.values])
        return self._arr

    def arr(self, at: float) -> float:
        """The ARR at `at`: 0 before the first, or where it is missing or not a number."""
        times, values = self._arr_timeline()
        index = bisect_right(times, at) - 1
        return values[index] if index >= 0 else 0.0

    def arr_at(self, marks: list[float]) -> list[float]:
        """The ARR at each of `marks` (sorted), a slice per change of ARR rather than a search per mark."""
        times, values = self._arr_timeline()
        found = [0.0] * len(marks)
        for index, value in enumerate(values):
            first = bisect_left(marks, times[index])
            last = bisect_left(marks, times[index + 1]) if index + 1 < len(times) else len(marks)
            if last > first:
                found[first:last] = [value] * (last - first)
        return found

    def text(self, name: str, at: float) -> str | None:
        value = self.traits[name].at(at)
        if isinstance(value, dict):  # an owner or a contact: its email, else its name
            value = value.get("email") or value.get("name")
        return None if value is None else str(value)

    def band(self, at: float) -> str | None:
        state = self.score.at(at)
        return None if state is None else state[1]

    def score_value(self, at: float) -> float | None:
        state = self.score.at(at)
        return None if state is None else state[0]

    def churned_by(self, at: float) -> bool:
        """Churned at or before `at` and not signed again since."""
        if not self.churns:
            return False
        last_churn = max((t for t in self.churns if t <= at), default=None)
        if last_churn is None:
            return False
        return not any(last_churn < t <= at for t in self.signs)

    def present(self, at: float) -> bool:
        """A customer at `at`: ARR above zero and not churned."""
        return self.arr(at) > 0 and not self.churned_by(at)

    def churned_between(self, start: float, end: float) -> bool:
        return bool(self.churns) and any(start < t <= end for t in self.churns)


@dataclass
class Ledger:
    score: str | None  # the score whose bands group accounts
    accounts: dict[str, AccountHistory]
    mark: tuple[Any, ...] = ()
    read_at: float = field(default_factory=time.monotonic)  # when the store was last found unchanged
    as_of: datetime = field(default_factory=lambda: datetime.now(UTC))  # when it was read
    open_tasks: dict[str, dict[str, int]] = field(default_factory=dict)  # account -> priority -> open tasks
    plan_status: dict[str, tuple[str, str]] = field(default_factory=dict)  # account -> (plan, status), the latest
    # figures computed on it, and how (`outcomes_cache.figures`): a refresh computes them again on a new one
    # (how, value, when last asked: monotonic seconds) by key
    memo: dict[tuple[Any, ...], tuple[Callable[[Ledger], Any], Any, float]] = field(default_factory=dict)

    def get(self, account: str) -> AccountHistory:
        found = self.accounts.get(account)
        if found is None:
            found = self.accounts[account] = AccountHistory(account)
        return found


# --------------------------------------------------------------------------- reading

MARK_SQL = (  # what changes whenever the history does: its newest rows (a trait change comes with its event)
    "SELECT (SELECT max(seq) FROM events), "
             "(SELECT max(id) FROM score_history), (SELECT count(*) FROM journeys), (SELECT max(seq) FROM actions)")
# `{at}` is the row's time as POSIX seconds, computed by the database (parsing times in Python costs
# more than the rest of the reading); to the millisecond, so that whole seconds stay whole.
_TRAITS_SQL = "SELECT account, field, value, {at} FROM trait_history WHERE field IN ({fields}) ORDER BY at, seq"
_EVENTS_SQL = "SELECT account, name, {at} FROM events WHERE name IN (?, ?) ORDER BY at, seq"
_SCORES_SQL = "SELECT account, {at}, value, band FROM score_history WHERE score = ? ORDER BY at, id"
_JOURNEYS_SQL = "SELECT workflow_id, run_id, playbook, account, version, {entered_at} FROM journeys"
_OPEN_TASKS_SQL = "SELECT account, priority, count(*) FROM tasks WHERE status = ? GROUP BY account, priority"
_PLAN_STATUS_SQL = "SELECT account, data FROM actions WHERE kind = ? ORDER BY at, seq"
_SPLITS_SQL = "SELECT key, data FROM actions WHERE kind = ? AND key LIKE ? AND key LIKE ?"
_SPLITS = ("decided", "journey/%", "%/split/%")
_EPOCH = {"sqlite": "ROUND((julianday({column}) - 2440587.5) * 86400.0, 3)",
          "postgresql": "ROUND(EXTRACT(EPOCH FROM {column})::numeric, 3)::float8"}


def _json(driver: Driver, value: Any) -> Any:
    return orjson.loads(value) if driver.sqlite and isinstance(value, str) else value


def read_ledger(driver: Driver, score: str | None, mark: tuple[Any, ...]) -> Ledger:
    """The history as the store holds it in `driver`'s transaction; `mark` is the store's `MARK_SQL` then."""
    book = Ledger(score=score, accounts={}, mark=mark)
    epoch = _EPOCH[driver.dialect]
    at = epoch.format(column="at")
    fields = ", ".join("?" for _ in FIELDS)
    for account, name, value, moment_ in driver.execute(_TRAITS_SQL.format(at=at, fields=fields), FIELDS).fetchall():
        book.get(account).traits[name].add(float(moment_), _json(driver, value))
    for account, name, moment_ in driver.execute(_EVENTS_SQL.format(at=at), (CHURNED, SIGNED)).fetchall():
        history = book.get(account)
        (history.churns if name == CHURNED else history.signs).append(float(moment_))
    if score is not None:
        for account, moment_, value, band in driver.execute(_SCORES_SQL.format(at=at), (score,)).fetchall():
            book.get(account).score.add(float(moment_), (value, band))
    runs: dict[str, tuple[str, str, str, float]] = {}
    journeys = _JOURNEYS_SQL.format(entered_at=epoch.format(column="entered_at"))
    for workflow_id, run_id, playbook, account, version, entered_at in driver.execute(journeys).fetchall():
        runs[f"{workflow_id}/{run_id}/"] = (str(playbook), str(account), str(version), float(entered_at))
    arms: dict[str, str] = {}
    for key, data in driver.execute(_SPLITS_SQL, _SPLITS).fetchall():
        decided = _json(driver, data) or {}
        if decided.get("what") != "split" or decided.get("outcome") is None:
            continue
        # `journey/<playbook>/<account>/<run>/<split path>/split/<n>`: the run's prefix, then the path
        head = str(key).rpartition("/split/")[0]
        prefix = _run_prefix(head, runs)
        if prefix is not None and prefix not in arms:
            arms[prefix] = f"{head.removeprefix(prefix)}: {decided['outcome']}"
    for prefix, (playbook, account, version, entered) in runs.items():
        book.get(account).entries.append(Entry(at=entered, playbook=playbook, version=version,
                                               arm=arms.get(prefix)))
    for history in book.accounts.values():
        history.entries.sort(key=lambda entry: entry.at)
    for account, priority, count in driver.execute(_OPEN_TASKS_SQL, ("open",)).fetchall():
        book.open_tasks.setdefault(str(account), {})[str(priority)] = int(count)
    for account, data in driver.execute(_PLAN_STATUS_SQL, ("plan_status_changed",)).fetchall():
        changed = _json(driver, data) or {}
        book.plan_status[str(account)] = (str(changed.get("plan")), str(changed.get("status")))
    return book


def _run_prefix(head: str, runs: dict[str, Any]) -> str | None:
    """The journey run a logged key belongs to: the shortest `…/` prefix of it that is a run."""
    index = head.find("/")
    while index >= 0:
        if head[:index + 1] in runs:
            return head[:index + 1]
        index = head.find("/", index + 1)
    return None
