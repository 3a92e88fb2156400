"""`POST /v1/events`: the native input (contracts.md, "Events in").

The body is one JSON object, a JSON array of objects, or JSON lines (`application/x-ndjson`,
`text/plain`, or anything else: the text decides). Each object is checked against the model;
the good ones are stored (idempotent on `id`) and routed, the bad ones reported with their line
numbers. Only a body that is no input at all (not UTF-8, empty) is 400.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from engine.ingestion import parse_lines
from workers.api.auth import require_token
from workers.api.batches import counts, ingest_batch, json_text
from workers.api.limits import check_line_sizes, read_body
from workers.api.state import State

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
             responses={202: {"description": "Counts of accepted, duplicate and rejected objects"},
                        400: {"description": "The body is not UTF-8 or is empty"},
                        401: {"description": "No or wrong API token; nothing stored"},
                        413: {"description": "Body or one event over the size limit; nothing stored"},
                        503: {"description": "Stored, but routing to journeys failed; re-send to retry"}})
async def post_events(request: Request, state: State) -> JSONResponse:
    text = json_text(await read_body(request, state.limits))
    parsed = await asyncio.to_thread(parse_lines, text)
    check_line_sizes(parsed, text, state.limits)
    outcome = await ingest_batch(state, parsed)
    return JSONResponse(counts(outcome), status_code=202)
