"""The dashboard's outcomes pages (docs/outcomes.md):

- `/outcomes` (`since`, `until`, `by`, `playbook`): NRR, GRR and logo churn of the window, the
  retention curves of the whole cohort and of its largest cohorts, the table per cohort, and, for
  a chosen playbook, its entrants against comparable accounts;
- `/outcomes/forecast` (`days`): what renews next quarter and in the next 180 days, what is at
  risk and why, the expected ARR by month, and the calibration the probabilities rest on.

Like the API, the pages take the figures of the history's last reading (read again in the background
once it is a minute old), so they never wait for the store to be scanned again once it has been.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.insight.forecast import forecast
from engine.insight.outcomes import GROUPINGS, WindowError, outcomes, score_bands, window
from engine.insight.outcomes_cache import HistoryNotReady
from engine.insight.outcomes_impact import playbook_impact
from server.dashboard.outcome_charts import bar_chart, line_chart, money
from server.dashboard.rendering import Visitor, _env
from server.dashboard.rendering import problem as _problem
from server.dashboard.rendering import render as _render
from server.dashboard.rendering import to_signin as _to_signin
from server.dashboard.rendering import visitor as _visitor
from server.web.state import State

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
CURVES = 6  # the total and the five largest cohorts
AT_RISK_ROWS = 50
_env.filters["outcome_money"] = money


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


_env.filters["outcome_percent"] = _percent


def _moment(raw: str | None) -> datetime | None:
    """An ISO date or date and time from the query; None when empty; ValueError when not a date."""
    if not raw:
        return None
    text = raw.strip()
    value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("z", "Z") else text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _busy(request: Request, state: State, visitor: Visitor, error: HistoryNotReady) -> Response:
    page = _problem(request, state, visitor, 503, "Reading the history",
                    f"{str(error).capitalize()}: reload the page then.", request.url.path)
    page.headers["Retry-After"] = "10"
    return page


@router.get("/outcomes")
async def outcomes_page(request: Request, state: State, since: str | None = None, until: str | None = None,
                        by: str | None = "segment", playbook: str | None = None) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin(request)
    by = by or None
    try:
        start, end = _moment(since), _moment(until)
    except ValueError:
        return _problem(request, state, visitor, 400, "Not a date",
                        "The window's start and end are dates such as 2026-01-05.", "/outcomes")
    if by is not None and by not in GROUPINGS:
        return _problem(request, state, visitor, 400, "No such cohort",
                        f"Cohorts are by {', '.join(GROUPINGS)}.", "/outcomes")
    try:
        window(start, end, datetime.now(UTC))
    except WindowError as error:
        return _problem(request, state, visitor, 400, "Not a window", f"{str(error).capitalize()}.", "/outcomes")
    if playbook and playbook not in state.bundle.playbooks:
        return _problem(request, state, visitor, 404, "No such playbook",
                        f"No playbook '{playbook}' is deployed.", "/outcomes")
    score, _ = score_bands(state.bundle)
    try:
        result = await asyncio.to_thread(lambda: outcomes(state.store, score, start, end, by, stale_ok=True))
        impact = None
        if playbook:
            impact = await asyncio.to_thread(lambda: playbook_impact(state.store, score, playbook, stale_ok=True))
    except HistoryNotReady as error:
        return _busy(request, state, visitor, error)
    lines = [(curve.group, [(point.at, point.nrr) for point in curve.points]) for curve in result.curves[:CURVES]]
    gross = [(curve.group, [(point.at, point.grr) for point in curve.points]) for curve in result.curves[:CURVES]]
    return _render(request, state, "outcomes.html", visitor, section="outcomes", result=result, by=by,
                   groupings=GROUPINGS, since=since or "", until=until or "", nrr_chart=line_chart(lines),
                   grr_chart=line_chart(gross), playbooks=sorted(state.bundle.playbooks), playbook=playbook or "",
                   impact=impact)


@router.get("/outcomes/forecast")
async def forecast_page(request: Request, state: State, days: int = 180) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin(request)
    if not 1 <= days <= 730:
        return _problem(request, state, visitor, 400, "Too far", "The forecast looks 1 to 730 days ahead.",
                        "/outcomes/forecast")
    score, bands = score_bands(state.bundle)
    try:
        result = await asyncio.to_thread(lambda: forecast(state.store, score, bands, horizon_days=days,
                                                          stale_ok=True))
    except HistoryNotReady as error:
        return _busy(request, state, visitor, error)
    at_risk = sorted((renewal for renewal in result.renewals if renewal.at_risk),
                     key=lambda renewal: (renewal.renewal_date, -renewal.arr))
    biggest = sorted(at_risk, key=lambda renewal: -renewal.arr)[:AT_RISK_ROWS]
    shown = [renewal for renewal in at_risk if renewal in biggest]
    safe: dict[str, float] = {}  # per month: the expected ARR of the renewals not at risk
    for renewal in result.renewals:
        if not renewal.at_risk:
            month = f"{renewal.renewal_date:%Y-%m}"
            safe[month] = safe.get(month, 0.0) + renewal.expected_arr
    months = bar_chart([(month.month, safe.get(month.month, 0.0), month.at_risk_arr) for month in result.months])
    return _render(request, state, "forecast.html", visitor, section="outcomes", result=result, days=days,
                   at_risk=shown, more_at_risk=len(at_risk) - len(shown), chart=months)

