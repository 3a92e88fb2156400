"""Segment's HTTP tracking API: `POST /v1/track`, `/v1/identify`, `/v1/group`, `/v1/batch`.

A Segment (or RudderStack) source or webhook can point straight at the engine. The write key is
the username of HTTP basic auth and is compared with the API token. Each call is read by
`engine.intake.segment` (through ingestion): `group` traits become account traits, `track` with
`context.groupId` an event, `identify` with `traits.groupId` a trait update; `messageId` is the
idempotency id. The path gives the call's type when the body does not.

Segment's libraries expect 200 `{"success": true}`; the counts of `/v1/events` come with it. As
there, the answer means stored; routing follows in the background (503 with `Retry-After` and
nothing stored when the routing backlog is full or the store is unavailable).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from engine.intake.ingestion import ParsedLine
from engine.records import Rejection
from server.api.auth import require_write_key
from server.api.batches import answer, json_text
from server.api.limits import check_line_sizes, read_body
from server.web.errors import ApiError
from server.web.ingest import ingest_batch
from server.web.state import State, WebState

__all__ = ["router"]

router = APIRouter(tags=["segment"], dependencies=[Depends(require_write_key)])

_CALL_DOC: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
}


async def _object_body(request: Request, state: WebState) -> tuple[str, dict[str, Any]]:
    text = json_text(await read_body(request, state.limits))
    try:
        value = json.loads(text)
    except RecursionError:
        raise ApiError(400, "bad request", "the body is not JSON we read: nested too deep") from None
    except ValueError as error:
        raise ApiError(400, "bad request", f"the body is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "bad request", "the body must be one JSON object (a Segment call)")
    return text, value


async def _answer(state: WebState, parsed: list[ParsedLine], text: str) -> JSONResponse:
    check_line_sizes(parsed, text, state.limits)
    outcome = await ingest_batch(state, parsed)
    return JSONResponse({"success": True, **await answer(state, outcome, wait=False)})


async def _single(kind: str, request: Request, state: WebState) -> JSONResponse:
    text, call = await _object_body(request, state)
    call.setdefault("type", kind)
    if call["type"] != kind:
        parsed: list[ParsedLine] = [Rejection(line=1, reason=f"a '{call['type']}' call sent to /v1/{kind}")]
    else:
        parsed = [(1, call)]
    return await _answer(state, parsed, text)


@router.post("/v1/track", openapi_extra=_CALL_DOC, summary="Segment track call (an event)")
async def track(request: Request, state: State) -> JSONResponse:
    return await _single("track", request, state)


@router.post("/v1/identify", openapi_extra=_CALL_DOC, summary="Segment identify call (traits)")
async def identify(request: Request, state: State) -> JSONResponse:
    return await _single("identify", request, state)


@router.post("/v1/group", openapi_extra=_CALL_DOC, summary="Segment group call (account traits)")
async def group(request: Request, state: State) -> JSONResponse:
    return await _single("group", request, state)


def _batch_items(body: dict[str, Any]) -> list[ParsedLine]:
    items = body.get("batch")
    if not isinstance(items, list):
        raise ApiError(400, "bad request", "a Segment batch is an object with a 'batch' array of calls")
    shared = body.get("context") if isinstance(body.get("context"), dict) else {}
    parsed: list[ParsedLine] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            parsed.append(Rejection(line=number, reason="expected a Segment call (a JSON object)"))
            continue
        if shared and (item.get("context") is None or isinstance(item.get("context"), dict)):
            item = {**item, "context": {**shared, **(item.get("context") or {})}}
        if "type" not in item:
            parsed.append(Rejection(line=number, reason="a batch call needs a 'type' (track, identify or group)"))
            continue
        parsed.append((number, item))
    return parsed


@router.post("/v1/batch", openapi_extra=_CALL_DOC, summary="Segment batch of calls")
async def batch(request: Request, state: State) -> JSONResponse:
    text, body = await _object_body(request, state)
    parsed = await asyncio.to_thread(_batch_items, body)
    return await _answer(state, parsed, text)
