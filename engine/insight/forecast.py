"""The renewal forecast: every customer renewing in the next 180 days, how likely it is to renew and
why, and the ARR expected to renew by month. `playbook outcomes --forecast`, `GET /v1/outcomes/forecast`,
`/outcomes/forecast`.

The rule, one line per factor so that each probability explains itself:

1. the renewal rate of the account's band now (its primary score's band): calibrated on the store's
   past renewals once the band has enough of them (`engine.insight.forecast_calibration`), else a
   default rate;
2. trend: the score fell `FALL_POINTS` or more over the last `TREND_DAYS` days: `FALL_EFFECT`;
3. open risk items: each open task of priority urgent or high on the account: `RISK_EFFECT`, at most
   `RISK_ITEMS_COUNTED` of them;
4. its success plan (`start plan …`) behind or stuck, as its latest status says: `PLAN_EFFECTS`;

the sum kept between `FLOOR` and `CEILING`. An account below `AT_RISK_BELOW` is at risk.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel

from engine.insight.forecast_calibration import (
    MIN_RENEWALS,
    UNSCORED,
    BandCalibration,
    calibrate,
    due_seconds,
    parse_date,
    past_renewals,
)
from engine.insight.outcomes_cache import figures, ledger
from engine.insight.outcomes_ledger import AccountHistory, Ledger, seconds

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["AT_RISK_BELOW", "HORIZON_DAYS", "Factor", "Forecast", "ForecastMonth", "Renewal", "RenewalWindow",
           "forecast"]

HORIZON_DAYS = 180
QUARTER_DAYS = 90
TREND_DAYS = 30
FALL_POINTS = 10.0
FALL_EFFECT = -0.10
RISK_PRIORITIES = ("urgent", "high")
RISK_EFFECT = -0.05
RISK_ITEMS_COUNTED = 3
PLAN_EFFECTS = {"behind": -0.05, "stuck": -0.10}
FLOOR, CEILING = 0.02, 0.99
AT_RISK_BELOW = 0.70
DAY = 86400.0


class Factor(BaseModel):
    name: str  # band, trend, risk_items, plan_status
    effect: float  # added to the probability (the band's: the base rate itself)
    reason: str


class Renewal(BaseModel):
    account: str
    name: str | None
    segment: str | None
    csm: str | None
    renewal_date: date
    days: int  # from now
    arr: float
    band: str
    probability: float
    expected_arr: float  # arr x probability
    at_risk: bool
    factors: list[Factor]


class ForecastMonth(BaseModel):
    month: str  # 2027-01
    renewals: int
    arr: float
    expected_arr: float
    at_risk: int
    at_risk_arr: float


class RenewalWindow(BaseModel):
    days: int
    renewals: int
    arr: float
    expected_arr: float
    at_risk: int
    at_risk_arr: float


class Forecast(BaseModel):
    as_of: datetime
    score: str | None
    min_renewals: int  # past renewals a band needs before its own rate is used
    at_risk_below: float
    past_renewals: int
    calibration: list[BandCalibration]
    windows: list[RenewalWindow]  # the next 90 and 180 days
    months: list[ForecastMonth]
    renewals: list[Renewal]  # soonest first (the API may give the first `limit` of them)
    renewals_total: int = 0  # how many there are in all


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def _factors(history: AccountHistory, now: float, rates: dict[str, BandCalibration], risk_items: int,
             plan: tuple[str, str] | None = None) -> list[Factor]:
    band = history.band(now) or UNSCORED
    calibration = rates.get(band) or rates[UNSCORED]
    if calibration.source == "history":
        said = (f"{band}: {calibration.renewed} of {calibration.renewals} past renewals of {band} accounts "
                f"renewed ({_percent(calibration.rate)})")
    else:
        said = (f"{band}: default rate {_percent(calibration.rate)} ({calibration.renewals} past renewals of "
                f"{band} accounts, fewer than the {MIN_RENEWALS} needed to calibrate)")
    factors = [Factor(name="band", effect=calibration.rate, reason=said)]
    now_value, then_value = history.score_value(now), history.score_value(now - TREND_DAYS * DAY)
    if now_value is not None and then_value is not None and then_value - now_value >= FALL_POINTS:
        factors.append(Factor(name="trend", effect=FALL_EFFECT,
                              reason=f"score fell {then_value - now_value:g} points in {TREND_DAYS} days"))
    if risk_items:
        counted = min(risk_items, RISK_ITEMS_COUNTED)
        factors.append(Factor(name="risk_items", effect=round(RISK_EFFECT * counted, 4),
                              reason=f"{risk_items} open urgent or high-priority task(s)"))
    if plan is not None and plan[1] in PLAN_EFFECTS:
        factors.append(Factor(name="plan_status", effect=PLAN_EFFECTS[plan[1]],
                              reason=f"success plan {plan[0]} is {plan[1]}"))
    return factors



def _risk_items(book: Ledger) -> dict[str, int]:
    return {account: count for account, open_ in book.open_tasks.items()
            if (count := sum(open_.get(priority, 0) for priority in RISK_PRIORITIES))}


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def forecast(store: Store, score: str | None, bands: list[str], now: datetime | None = None,
             horizon_days: int = HORIZON_DAYS, *, stale_ok: bool = False) -> Forecast:
    """The renewals due in the next `horizon_days` days, each with its probability and its reasons.
    `stale_ok`: see `engine.insight.outcomes_cache.ledger`."""
    book = ledger(store, score, stale_ok=stale_ok)
    fixed = None if stale_ok else now or book.as_of  # stale_ok: as of the ledger's reading

    def compute(book: Ledger) -> Forecast:
        return _forecast(book, score, bands, (fixed or book.as_of).astimezone(UTC), horizon_days, _risk_items(book))

    return figures(book, ("forecast", fixed, horizon_days, tuple(bands)), compute, stale_ok=stale_ok)


def _forecast(book: Ledger, score: str | None, bands: list[str], moment_: datetime, horizon_days: int,
              risks: dict[str, int]) -> Forecast:
    at = seconds(moment_)
    history_renewals = past_renewals(book, moment_)
    calibration = calibrate(history_renewals, bands)
    rates = {entry.band: entry for entry in calibration}
    found: list[Renewal] = []
    for history in book.accounts.values():
        day = parse_date(history.traits["renewal_date"].at(at))
        if day is None or not history.present(at):
            continue
        due = due_seconds(day)
        if not at < due <= at + horizon_days * DAY:
            continue
        factors = _factors(history, at, rates, risks.get(history.id, 0), book.plan_status.get(history.id))
        probability = round(min(CEILING, max(FLOOR, sum(factor.effect for factor in factors))), 4)
        arr = history.arr(at)
        found.append(Renewal(
            account=history.id, name=history.text("name", at), segment=history.text("segment", at),
            csm=history.text("csm", at), renewal_date=day, days=int((due - at) // DAY), arr=arr,
            band=history.band(at) or UNSCORED, probability=probability, expected_arr=round(arr * probability, 2),
            at_risk=probability < AT_RISK_BELOW, factors=factors))
    found.sort(key=lambda renewal: (renewal.renewal_date, -renewal.arr, renewal.account))
    return Forecast(as_of=moment_, score=score, min_renewals=MIN_RENEWALS, at_risk_below=AT_RISK_BELOW,
                    past_renewals=len(history_renewals), calibration=calibration,
                    windows=[_window(found, days) for days in sorted({QUARTER_DAYS, horizon_days})
                             if days <= horizon_days],
                    months=_months(found, moment_.date(), horizon_days), renewals=found, renewals_total=len(found))


def _window(renewals: list[Renewal], days: int) -> RenewalWindow:
    mine = [renewal for renewal in renewals if renewal.days < days]
    risky = [renewal for renewal in mine if renewal.at_risk]
    return RenewalWindow(days=days, renewals=len(mine), arr=round(sum(r.arr for r in mine), 2),
                         expected_arr=round(sum(r.expected_arr for r in mine), 2), at_risk=len(risky),
                         at_risk_arr=round(sum(r.arr for r in risky), 2))


def _months(renewals: list[Renewal], today: date, horizon_days: int) -> list[ForecastMonth]:
    last = today + timedelta(days=horizon_days)
    months: dict[str, list[Renewal]] = {}
    cursor = date(today.year, today.month, 1)
    while cursor <= last:
        months[_month(cursor)] = []
        cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    for renewal in renewals:
        months.setdefault(_month(renewal.renewal_date), []).append(renewal)
    return [ForecastMonth(month=month, renewals=len(mine), arr=round(sum(r.arr for r in mine), 2),
                          expected_arr=round(sum(r.expected_arr for r in mine), 2),
                          at_risk=sum(r.at_risk for r in mine),
                          at_risk_arr=round(sum(r.arr for r in mine if r.at_risk), 2))
            for month, mine in months.items()]
