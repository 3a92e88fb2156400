"""Playbook impact: the retention of accounts that entered a playbook against comparable accounts
that did not, in total, per version and per A/B arm.

An entrant is measured from its first entry (into that version, or that arm) over the next
`HORIZON_DAYS` days, if it was a customer then and that much time has passed. It falls in a cell:
the month of its entry, its segment and its score band at entry. The comparable accounts of a cell
are those that never entered the playbook by the end of the cell's horizon, with the same segment
and band at the month's start, measured from the month's start over the same number of days.

The comparison is standardised to the entrants: each cell's comparable rates (expansion,
contraction and churn per dollar of starting ARR; churned accounts per account) are applied to the
entrants' starting ARR and accounts in that cell, and summed. Entrants of a cell without a
comparable account are left out of both sides (counted as `unmatched`). Below `MIN_ACCOUNTS`
entrants or comparable measurements the verdict is "not enough data", with the counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from engine.insight.outcomes import Retention, Tally
from engine.insight.outcomes_cache import figures, ledger
from engine.insight.outcomes_ledger import AccountHistory, Entry, Ledger, seconds

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["HORIZON_DAYS", "MIN_ACCOUNTS", "Comparison", "Impact", "ImpactRow", "playbook_impact"]

HORIZON_DAYS = 90
MIN_ACCOUNTS = 30
DAY = 86400.0
Cell = tuple[float, str, str]  # month start, segment, band


class Comparison(BaseModel):
    """What the entrants would have retained at their comparable accounts' rates."""

    accounts: int  # distinct comparable accounts
    measurements: int  # (account, month) measurements: an account may be comparable in several months
    expansion: float
    contraction: float
    churned_arr: float
    nrr: float | None
    grr: float | None
    logo_churn: float | None


class ImpactRow(BaseModel):
    cohort: str  # "all", "version <v>", "arm <split path>: <label>"
    entered: int  # accounts that entered (first entry each)
    too_recent: int  # entered less than the horizon ago
    not_customers: int  # no ARR, or churned, at entry
    unmatched: int  # in a cell with no comparable account
    entrants: Retention  # the measured entrants, over their horizon
    comparison: Comparison
    nrr_difference: float | None = None  # entrants minus comparison, in points
    grr_difference: float | None = None
    logo_churn_difference: float | None = None
    verdict: str


class Impact(BaseModel):
    playbook: str
    as_of: datetime
    horizon_days: int
    min_accounts: int
    score: str | None
    rows: list[ImpactRow]


@dataclass
class _Cells:
    entrants: dict[Cell, Tally] = field(default_factory=dict)
    comparables: dict[Cell, Tally] = field(default_factory=dict)
    comparable_ids: set[str] = field(default_factory=set)


def _month_start(at: float) -> float:
    day = datetime.fromtimestamp(at, UTC)
    return seconds(datetime(day.year, day.month, 1, tzinfo=UTC))


def _cell(history: AccountHistory, at: float, month: float) -> Cell:
    return month, history.text("segment", at) or "unknown", history.band(at) or "unscored"


def _comparables(book: Ledger, playbook: str, months: set[float], horizon: float,
                 ) -> tuple[dict[Cell, Tally], dict[Cell, set[str]]]:
    """Every month's comparable tallies by cell (computed once for all the rows)."""
    tallies: dict[Cell, Tally] = {}
    ids: dict[Cell, set[str]] = {}
    for history in book.accounts.values():
        entered = min((entry.at for entry in history.entries if entry.playbook == playbook), default=None)
        for month in months:
            end = month + horizon
            if (entered is not None and entered <= end) or not history.present(month):
                continue
            cell = _cell(history, month, month)
            tallies.setdefault(cell, Tally()).add(history.arr(month), history.arr(end),
                                                  history.churned_between(month, end))
            ids.setdefault(cell, set()).add(history.id)
    return tallies, ids


def _row(cohort: str, book: Ledger, entries: dict[str, Entry], now: float, horizon: float,
         comparables: dict[Cell, Tally], comparable_ids: dict[Cell, set[str]]) -> ImpactRow:
    cells: dict[Cell, Tally] = {}
    too_recent = not_customers = unmatched = 0
    for account, entry in entries.items():
        history = book.accounts[account]
        if entry.at + horizon > now:
            too_recent += 1
            continue
        if not history.present(entry.at):
            not_customers += 1
            continue
        cell = _cell(history, entry.at, _month_start(entry.at))
        if cell not in comparables:
            unmatched += 1
            continue
        cells.setdefault(cell, Tally()).add(history.arr(entry.at), history.arr(entry.at + horizon),
                                            history.churned_between(entry.at, entry.at + horizon))
    entrants = Tally()
    expansion = contraction = churned = churned_accounts = 0.0
    measured, ids = 0, set[str]()
    for cell, mine in cells.items():
        theirs = comparables[cell]
        for name in ("accounts", "start", "expansion", "contraction", "churned", "expanded", "contracted",
                     "churned_accounts"):
            setattr(entrants, name, getattr(entrants, name) + getattr(mine, name))
        expansion += mine.start * theirs.expansion / theirs.start
        contraction += mine.start * theirs.contraction / theirs.start
        churned += mine.start * theirs.churned / theirs.start
        churned_accounts += mine.accounts * theirs.churned_accounts / theirs.accounts
        measured += theirs.accounts
        ids |= comparable_ids[cell]
    start = entrants.start
    comparison = Comparison(
        accounts=len(ids), measurements=measured, expansion=round(expansion, 2), contraction=round(contraction, 2),
        churned_arr=round(churned, 2),
        nrr=round((start + expansion - contraction - churned) / start, 4) if start > 0 else None,
        grr=round((start - contraction - churned) / start, 4) if start > 0 else None,
        logo_churn=round(churned_accounts / entrants.accounts, 4) if entrants.accounts else None)
    figures = entrants.retention(cohort)
    row = ImpactRow(cohort=cohort, entered=len(entries), too_recent=too_recent, not_customers=not_customers,
                    unmatched=unmatched, entrants=figures, comparison=comparison, verdict="")
    if entrants.accounts < MIN_ACCOUNTS or measured < MIN_ACCOUNTS:
        row.verdict = (f"not enough data ({entrants.accounts} entrants measured, {measured} comparable "
                       f"measurements; {MIN_ACCOUNTS} of each needed)")
        return row
    assert figures.nrr is not None and figures.grr is not None and figures.logo_churn is not None
    assert comparison.nrr is not None and comparison.grr is not None and comparison.logo_churn is not None
    row.nrr_difference = round((figures.nrr - comparison.nrr) * 100, 1)
    row.grr_difference = round((figures.grr - comparison.grr) * 100, 1)
    row.logo_churn_difference = round((figures.logo_churn - comparison.logo_churn) * 100, 1)
    better = "more" if row.nrr_difference >= 0 else "less"
    row.verdict = (f"entrants kept {abs(row.nrr_difference):.1f} points {better} net revenue than comparable "
                   f"accounts over {round(horizon / DAY)} days")
    return row


def playbook_impact(store: Store, score: str | None, playbook: str, now: datetime | None = None,
                    horizon_days: int = HORIZON_DAYS, *, stale_ok: bool = False) -> Impact:
    """The playbook's impact on retention: in total, then per version, then per arm.
    `stale_ok`: see `engine.insight.outcomes_cache.ledger`."""
    book = ledger(store, score, stale_ok=stale_ok)
    fixed = None if stale_ok else now or book.as_of  # stale_ok: as of the ledger's reading

    def compute(book: Ledger) -> Impact:
        return _impact(book, score, playbook, (fixed or book.as_of).astimezone(UTC), horizon_days)

    return figures(book, ("impact", playbook, fixed, horizon_days), compute, stale_ok=stale_ok)


def _impact(book: Ledger, score: str | None, playbook: str, moment_: datetime, horizon_days: int) -> Impact:
    at, horizon = seconds(moment_), horizon_days * DAY
    cohorts: dict[str, dict[str, Entry]] = {"all": {}}
    versions: dict[str, float] = {}
    for history in book.accounts.values():
        for entry in history.entries:  # oldest first: the first entry of each cohort is kept
            if entry.playbook != playbook:
                continue
            versions.setdefault(entry.version, entry.at)
            keys = ["all", f"version {entry.version}", *([f"arm {entry.arm}"] if entry.arm else [])]
            for key in keys:
                cohorts.setdefault(key, {}).setdefault(history.id, entry)
    months = {_month_start(entry.at) for entry in cohorts["all"].values() if entry.at + horizon <= at}
    comparables, ids = _comparables(book, playbook, months, horizon)
    order = ["all", *(f"version {v}" for v in sorted(versions, key=versions.__getitem__)),
             *sorted(key for key in cohorts if key.startswith("arm "))]
    rows = [_row(key, book, cohorts[key], at, horizon, comparables, ids) for key in order]
    return Impact(playbook=playbook, as_of=moment_, horizon_days=horizon_days, min_accounts=MIN_ACCOUNTS,
                  score=score, rows=rows)
