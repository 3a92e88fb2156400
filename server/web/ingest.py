"""One batch of input objects through the router: stored as arriving now (the process's clock)
and queued for routing, or 503 with nothing stored when that cannot be done now.

The API's input endpoints (`server.api.events`, `server.api.segment_routes`) and completing a
task (`server.web.task_completion`) store through it.
"""

from __future__ import annotations

from engine.intake.ingestion import ParsedLine
from engine.semantics.time_rules import parse_horizon
from server.web.errors import ApiError
from server.web.state import Outcome, WebState

__all__ = ["ingest_batch"]


async def ingest_batch(state: WebState, parsed: list[ParsedLine], *, horizon: str | None = None,
                       backfill: bool = False) -> Outcome:
    """Store the batch as arriving now (the process's clock) and queue it for routing; 503 (nothing
    stored) when that cannot be done now. `horizon` overrides the trigger horizon for this batch
    (400 when it is no duration); `backfill` stores the whole batch as history."""
    limit = None
    if horizon is not None:
        try:
            limit = parse_horizon(horizon)
        except ValueError as error:
            raise ApiError(400, "bad request", f"horizon: {error}") from None
    try:
        return await state.dispatcher.ingest(parsed, await state.clock.now(), horizon=limit, backfill=backfill)
    except ApiError as error:
        if error.error == "store unavailable":  # locked or unreachable: /healthz shows it
            cause = error.__cause__
            state.note_store_failure(getattr(cause, "orig", None) or cause or error.detail)
        raise
