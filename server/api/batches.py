"""One batch of input objects through the dispatcher, answered in the API's shape.

202 `{"accepted": n, "duplicates": n, "backfill": n, "rejected": [{"line": n, "reason": "..."}]}`
as soon as the batch is stored: accepted means stored durably; `backfill` counts the accepted
objects stored as history (older than the trigger horizon, or sent as back-fill), which trigger
nothing. Routing to journeys follows in the background
(`server.api.routing`). With `wait`, the answer comes once the batch is routed too (or the wait
ran out) and says which: `"routed": true|false`.

503 with `Retry-After`, nothing stored: the routing backlog is full, or the store is unavailable
(storing goes through `server.web.ingest.ingest_batch`).
Sending the same batch again (same ids) is always safe.
"""

from __future__ import annotations

from typing import Any

from server.web.errors import ApiError
from server.web.state import Outcome, WebState

__all__ = ["answer", "counts", "json_text"]


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


async def answer(state: WebState, outcome: Outcome, wait: bool) -> dict[str, Any]:
    """The counts, and with `wait` whether the batch is routed and its journeys started and signalled
    once waited for."""
    body = counts(outcome)
    if wait:
        body["routed"] = await state.dispatcher.wait_drained(outcome.ticket, state.limits.wait_seconds)
        if not body["routed"]:
            status = state.dispatcher.status()
            body["backlog"], body["drain_backlog"] = status["backlog"], status["drain_backlog"]
    return body
