"""`POST /v1/events`: the native input (docs/events-and-actions.md, "Events in").

The body is one JSON object, a JSON array of objects, or JSON lines (`application/x-ndjson`,
`text/plain`, or anything else: the text decides). Each object is checked against the model;
the good ones are stored (idempotent on `id`), the bad ones reported with their line numbers.
Only a body that is no input at all (not UTF-8, empty) is 400.

202 means stored: the answer comes as soon as the batch is in the store, and routing to journeys
follows in the background (`server.api.routing`). `?wait=true` holds the answer until the batch
is routed too (at most `Limits.wait_seconds`, 30 s) and adds `"routed": true|false`.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from engine.intake.ingestion import ParsedLine, parse_text
from server.api.auth import require_token
from server.api.batches import answer, json_text
from server.api.limits import check_line_sizes, read_body
from server.web.ingest import ingest_batch
from server.web.state import State, WebState

__all__ = ["router"]

router = APIRouter(tags=["events"], dependencies=[Depends(require_token)])

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"oneOf": [{"type": "object"}, {"type": "array",
                                                                           "items": {"type": "object"}}]}},
            "application/x-ndjson": {"schema": {"type": "string", "description": "one JSON object per line"}},
        },
    },
}


@router.post("/v1/events", status_code=202, openapi_extra=_BODY_DOC,
             summary="Send events and trait updates",
             responses={202: {"description": "Stored: counts of accepted, duplicate and rejected objects; "
                                                "routing follows in the background"},
                        400: {"description": "The body is not UTF-8 or is empty"},
                        401: {"description": "No or wrong API token; nothing stored"},
                        413: {"description": "Body or one event over the size limit; nothing stored"},
                        503: {"description": "Routing backlog full or store unavailable; nothing stored, "
                                             "send again after Retry-After"}})
async def post_events(
    request: Request, state: State,
    wait: Annotated[bool, Query(description="answer once the batch is routed too (or after 30 s), "
                                            "with `routed`: true or false")] = False,
    horizon: Annotated[str | None, Query(description="the trigger horizon for this batch (`48h`, `7d`): objects "
                                                     "older than this at arrival are history and trigger "
                                                     "nothing (default: PLAYBOOK_TRIGGER_HORIZON, 24h)")] = None,
    backfill: Annotated[bool, Query(description="store the whole batch as history: it updates fields and "
                                                "scores but starts no journey and sends nothing")] = False,
) -> JSONResponse:
    text = json_text(await read_body(request, state.limits))
    with state.dispatcher.foreground():
        parsed = await asyncio.to_thread(_parse, text, state)
    outcome = await ingest_batch(state, parsed, horizon=horizon, backfill=backfill)
    return JSONResponse(await answer(state, outcome, wait), status_code=202)


def _parse(text: str, state: WebState) -> list[ParsedLine]:
    parsed, lines = parse_text(text)
    check_line_sizes(parsed, text, state.limits, lines)
    return parsed
