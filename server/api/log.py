"""`GET /v1/log`: the action log (docs/events-and-actions.md, "Actions out").

JSON lines (`application/x-ndjson`), one action per line ordered by `at`, by default; a JSON
array when the request says `Accept: application/json`. Filters: `account`, `playbook`, `since`
(an ISO date or date and time; a time without offset is UTC), `kind`. Read by
`engine.read_model.action_log`.

With `limit` or `cursor` it answers a page (at most `limit` lines, 50 by default, 200 at most) and
the next page's cursor in the `X-Next-Cursor` and `Link` headers; without, the whole log the
filters keep, as it always has.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from engine.read_model import BadQuery, action_log
from engine.read_model.action_log import action_log_page
from server.api.auth import require_token
from server.api.paging import CURSOR, next_page_headers
from server.web.errors import ApiError
from server.web.state import State

__all__ = ["parse_since", "router"]

router = APIRouter(tags=["log"], dependencies=[Depends(require_token)])

NDJSON = "application/x-ndjson"


def parse_since(raw: str) -> datetime:
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("z", "Z") else text)
    except ValueError:
        raise ApiError(400, "bad request", f"since: expected an ISO date or date and time such as 2026-01-05 or "
                                           f"2026-01-05T09:00:00Z, got {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _wants_array(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and NDJSON not in accept


@router.get("/v1/log", summary="The action log",
            responses={200: {"content": {NDJSON: {"schema": {"type": "string"}},
                                         "application/json": {"schema": {"type": "array",
                                                                         "items": {"type": "object"}}}},
                             "description": "One action per line (or a JSON array), ordered by time"},
                       400: {"description": "A bad `since`, limit or cursor; the detail says which and why"}})
async def get_log(
    request: Request,
    state: State,
    account: Annotated[str | None, Query()] = None,
    playbook: Annotated[str | None, Query()] = None,
    since: Annotated[str | None, Query(description="ISO date or date and time; actions at or after it")] = None,
    kind: Annotated[str | None, Query(description="only actions of this kind (email, task, enrolled, ...)")] = None,
    cursor: Annotated[str | None, CURSOR] = None,
    limit: Annotated[int | None, Query(description="lines per page, 1 to 200; without it or a cursor, every "
                                                   "line")] = None,
) -> Response:
    start = parse_since(since) if since is not None else None
    next_cursor = None
    if cursor is None and limit is None:
        lines = await asyncio.to_thread(action_log, state.store, account=account, playbook=playbook, since=start,
                                        kind=kind)
    else:
        try:
            lines, next_cursor = await asyncio.to_thread(action_log_page, state.store, account=account,
                                                         playbook=playbook, since=start, kind=kind, cursor=cursor,
                                                         limit=limit)
        except BadQuery as error:
            raise ApiError(400, "bad request", str(error)) from None
    if _wants_array(request):
        response: Response = JSONResponse(lines)
    else:
        response = Response("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
                            media_type=NDJSON)
    next_page_headers(response, request, next_cursor)
    return response
