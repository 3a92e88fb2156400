"""Retention outcomes over the API (docs/outcomes.md):

- `GET /v1/outcomes` (`since`, `until`, `by`): NRR, GRR and logo churn of the accounts present at
  the window's start, in total and per cohort, with the curves;
- `GET /v1/outcomes/forecast` (`days`, `at_risk`, `limit`): the renewals due in the next days, each
  with its probability and the reasons, the calibration on past renewals, the ARR by month;
- `GET /v1/outcomes/impact/{playbook}` (`horizon_days`): the retention of the playbook's entrants
  against comparable accounts, in total, per version and per arm.

The figures are those of the history's last reading (`as_of`), read again in the background once it
is a minute old (`engine.insight.outcomes_cache.ledger`): a read never waits for the store to be
scanned again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query

from engine.insight.forecast import Forecast, forecast
from engine.insight.outcomes import GROUPINGS, Outcomes, WindowError, outcomes, score_bands, window
from engine.insight.outcomes_cache import HistoryNotReady
from engine.insight.outcomes_impact import Impact, playbook_impact
from server.api.auth import require_token
from server.web.errors import ApiError
from server.web.state import State

__all__ = ["parse_moment", "router"]

router = APIRouter(tags=["outcomes"], dependencies=[Depends(require_token)])
T = TypeVar("T")
RETRY_SECONDS = 10

_BY = Query(description="group by: " + ", ".join(GROUPINGS), max_length=20)
_SINCE = Query(description="the window's start, an ISO date or date and time (default: a year before its end)",
               max_length=40)
_UNTIL = Query(description="the window's end, an ISO date or date and time (default: now)", max_length=40)


def parse_moment(raw: str | None, name: str) -> datetime | None:
    """An ISO date or date and time (UTC when it has no offset); a 400 naming the parameter otherwise."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("z", "Z") else text)
    except ValueError:
        raise ApiError(400, "bad request", f"{name}: expected an ISO date or date and time such as 2026-01-05 or "
                                           f"2026-01-05T09:00:00Z, got {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _read(compute: Callable[[], T]) -> T:
    """The figures, off the event loop; 503 while the history is read for the first time."""
    try:
        return await asyncio.to_thread(compute)
    except HistoryNotReady as error:
        raise ApiError(503, "unavailable", str(error), headers={"Retry-After": str(RETRY_SECONDS)}) from None


_BUSY: dict[int | str, dict[str, Any]] = {
    503: {"description": "The history is being read, or its figures computed, for the first time: ask again "
                "(Retry-After)"}}


@router.get("/v1/outcomes", response_model=Outcomes, response_model_exclude_none=True, responses=_BUSY,
            summary="Net and gross revenue retention and logo churn of a window, in total and per cohort")
async def get_outcomes(state: State, since: Annotated[str | None, _SINCE] = None,
                       until: Annotated[str | None, _UNTIL] = None, by: Annotated[str | None, _BY] = None) -> Outcomes:
    start, end = parse_moment(since, "since"), parse_moment(until, "until")
    if by is not None and by not in GROUPINGS:
        raise ApiError(400, "bad request", f"by: expected one of {', '.join(GROUPINGS)}, got {by!r}")
    try:
        window(start, end, await state.clock.now())
    except WindowError as error:
        raise ApiError(400, "bad request", f"since, until: {error}") from None
    score, _ = score_bands(state.bundle)
    return await _read(lambda: outcomes(state.store, score, start, end, by, stale_ok=True))


@router.get("/v1/outcomes/forecast", response_model=Forecast, responses=_BUSY,
            summary="The renewals of the next days: each one's probability and why, the ARR by month")
async def get_forecast(state: State, days: Annotated[int, Query(ge=1, le=730, description="how far ahead")] = 180,
                       at_risk: Annotated[bool, Query(description="only the renewals at risk")] = False,
                       limit: Annotated[int, Query(ge=1, le=100_000, description="renewals listed at most, "
                                                   "soonest first (`renewals_total` counts them all)")] = 1000,
                       ) -> Forecast:
    score, bands = score_bands(state.bundle)
    result = await _read(lambda: forecast(state.store, score, bands, None, days, stale_ok=True))
    chosen = [renewal for renewal in result.renewals if renewal.at_risk] if at_risk else result.renewals
    return result.model_copy(update={"renewals": chosen[:limit], "renewals_total": len(chosen)})


@router.get("/v1/outcomes/impact/{playbook}", response_model=Impact,
            summary="The retention of a playbook's entrants against comparable accounts",
            responses={404: {"description": "No such playbook"}, **_BUSY})
async def get_impact(playbook: str, state: State,
                     horizon_days: Annotated[int, Query(ge=7, le=730, description="days measured after entry")] = 90,
                     ) -> Impact:
    if playbook not in state.bundle.playbooks:
        raise ApiError(404, "not found", f"no playbook '{playbook}' is deployed")
    score, _ = score_bands(state.bundle)
    return await _read(lambda: playbook_impact(state.store, score, playbook, None, horizon_days, stale_ok=True))
