"""One batch of input objects through the dispatcher, answered in the API's shape.

202 `{"accepted": n, "duplicates": n, "rejected": [{"line": n, "reason": "..."}]}`; when
routing stopped after the batch was stored, 503 with the same counts, the reason, and a
`Retry-After`: re-sending the same batch (same ids) is safe and routes what was not routed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.ingestion import ParsedLine
from workers.api.errors import ApiError
from workers.api.routing import Outcome
from workers.api.state import ApiState

__all__ = ["RETRY_AFTER_SECONDS", "counts", "ingest_batch", "json_text"]

RETRY_AFTER_SECONDS = 10


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
        "rejected": [rejection.model_dump() for rejection in result.rejected],
    }


async def ingest_batch(state: ApiState, parsed: list[ParsedLine]) -> Outcome:
    """Store and route the batch; 503 (after storing) when routing could not finish."""
    outcome = await state.dispatcher.ingest(parsed, datetime.now(UTC))
    if outcome.failure is not None:
        raise ApiError(
            503, "routing unavailable",
            f"{outcome.failure}. The accepted events are stored; {outcome.unrouted} stored change(s) wait to be "
            "routed. Send the same batch again (same ids) to retry: stored events count as duplicates and "
            "are not stored twice.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            extra={**counts(outcome), "unrouted": outcome.unrouted},
        )
    return outcome
