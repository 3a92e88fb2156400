"""One batch of input objects through the dispatcher, answered in the API's shape.

202 `{"accepted": n, "duplicates": n, "backfill": n, "rejected": [{"line": n, "reason": "..."}]}`
as soon as the batch is stored: accepted means stored durably; `backfill` counts the accepted
objects stored as history (older than the trigger horizon, or sent as back-fill), which trigger
nothing. Routing to journeys follows in the background
(`workers.api.routing`). With `wait`, the answer comes once the batch is routed too (or the wait
ran out) and says which: `"routed": true|false`.

503 with `Retry-After`, nothing stored: the routing backlog is full, or the store is unavailable.
Sending the same batch again (same ids) is always safe.
"""

from __future__ import annotations

from typing import Any

from engine.ingestion import ParsedLine
from engine.time_rules import parse_horizon
from workers.api.errors import ApiError
from workers.api.routing import Outcome
from workers.api.state import ApiState

__all__ = ["answer", "counts", "ingest_batch", "json_text"]


def json_text(body: bytes) -> str:
    """The body as text, or 400 when it cannot be input at all (not UTF-8, empty)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, "bad request", f"the body is not UTF-8 text (byte {error.start}: {error.reason})") \
            from None
    if not text.strip():
        raise ApiError(400, "bad request", "the body is empty: send one JSON object, a JSON array of objects, "
                                           "or JSON lines")
    return text


def counts(outcome: Outcome) -> dict[str, Any]:
    result = outcome.result
    return {
        "accepted": len(result.accepted),
        "duplicates": result.duplicates,
        "backfill": result.backfill,
        "rejected": [{"line": rejection.line, "reason": rejection.reason} for rejection in result.rejected],
    }


async def ingest_batch(state: ApiState, parsed: list[ParsedLine], *, horizon: str | None = None,
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


async def answer(state: ApiState, outcome: Outcome, wait: bool) -> dict[str, Any]:
    """The counts, and with `wait` whether the batch is routed once waited for."""
    body = counts(outcome)
    if wait:
        body["routed"] = await state.dispatcher.wait_routed(outcome.ticket, state.limits.wait_seconds)
        if not body["routed"]:
            body["backlog"] = state.dispatcher.backlog
    return body
