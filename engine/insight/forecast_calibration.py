"""The store's own past renewals, and the renewal rate per band they calibrate.

A past renewal is a date D that was the account's `renewal_date` the day before D, with D at
least `GRACE_DAYS` ago, for an account that was a customer (ARR above zero, not churned)
`LOOKAHEAD_DAYS` before D. It was lost when a `churned` event came in the `LOOKAHEAD_DAYS` before D
or the `GRACE_DAYS` after it, and renewed otherwise. Its band is the primary score's band
`LOOKAHEAD_DAYS` before D: what a forecast made then would have read.

A band's renewal rate is taken from history once it has `MIN_RENEWALS` past renewals; below that
the default rate stands, and the calibration says so with the counts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time

from pydantic import BaseModel

from engine.insight.arm_results import wilson
from engine.insight.outcomes_ledger import AccountHistory, Ledger, seconds

__all__ = ["DEFAULT_RATES", "GRACE_DAYS", "LOOKAHEAD_DAYS", "MIN_RENEWALS", "BandCalibration", "PastRenewal",
           "calibrate", "parse_date", "past_renewals"]

MIN_RENEWALS = 30  # past renewals of a band before its own rate replaces the default
LOOKAHEAD_DAYS = 90
GRACE_DAYS = 30
DAY = 86400.0
UNSCORED = "unscored"
# Before the store has enough history: rates of the kind CS teams report by health band.
DEFAULT_RATES = {"green": 0.95, "yellow": 0.85, "red": 0.60, UNSCORED: 0.80}
OTHER_BAND_RATE = 0.80


class BandCalibration(BaseModel):
    band: str
    renewals: int  # past renewals of accounts in this band
    renewed: int
    observed_rate: float | None  # renewed / renewals
    low: float | None  # its 95% Wilson interval
    high: float | None
    default_rate: float
    rate: float  # the one the forecast uses
    source: str  # "history" (renewals >= MIN_RENEWALS) or "default"


@dataclass(frozen=True)
class PastRenewal:
    account: str
    due: float  # the renewal date (midnight UTC), in POSIX seconds
    band: str
    renewed: bool


def parse_date(value: object) -> date | None:
    """A `renewal_date` as stored: an ISO date (or date and time); None when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _iso_date(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=4096)
def _iso_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def due_seconds(day: date) -> float:
    return seconds(datetime.combine(day, time()))


def _renewals_of(history: AccountHistory, until: float) -> list[PastRenewal]:
    timeline = history.traits["renewal_date"]
    found: list[PastRenewal] = []
    for day in {parse_date(value) for value in timeline.values} - {None}:
        assert day is not None
        due = due_seconds(day)
        if due + GRACE_DAYS * DAY > until or parse_date(timeline.at(due - DAY)) != day:
            continue
        before = due - LOOKAHEAD_DAYS * DAY
        if not history.present(before):
            continue
        lost = history.churned_between(before, due + GRACE_DAYS * DAY)
        found.append(PastRenewal(account=history.id, due=due, band=history.band(before) or UNSCORED,
                                 renewed=not lost))
    return found


def past_renewals(book: Ledger, until: datetime) -> list[PastRenewal]:
    """Every past renewal settled by `until`, oldest first."""
    end = seconds(until)
    found = [renewal for history in book.accounts.values() for renewal in _renewals_of(history, end)]
    return sorted(found, key=lambda renewal: (renewal.due, renewal.account))


def calibrate(renewals: list[PastRenewal], bands: list[str]) -> list[BandCalibration]:
    """One calibration per band (those of the score, then any other seen, then unscored)."""
    names = list(dict.fromkeys([*bands, *sorted({r.band for r in renewals} - {UNSCORED}), UNSCORED]))
    calibration: list[BandCalibration] = []
    for band in names:
        mine = [renewal for renewal in renewals if renewal.band == band]
        renewed = sum(renewal.renewed for renewal in mine)
        default = DEFAULT_RATES.get(band, OTHER_BAND_RATE)
        observed = round(renewed / len(mine), 4) if mine else None
        low, high = wilson(renewed, len(mine)) if mine else (None, None)
        enough = len(mine) >= MIN_RENEWALS and observed is not None
        calibration.append(BandCalibration(
            band=band, renewals=len(mine), renewed=renewed, observed_rate=observed,
            low=None if low is None else round(low, 4), high=None if high is None else round(high, 4),
            default_rate=default, rate=observed if enough and observed is not None else default,
            source="history" if enough else "default"))
    return calibration
