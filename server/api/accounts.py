"""`GET /v1/accounts` (one line per account: name, segment, score and band),
`GET /v1/accounts/{id}` (everything a CSM asks about one account) and
`GET /v1/accounts/{id}/timeline` (what happened to it, newest first, a page at a time).

"The score" of the list is the primary score (`engine.read_model.primary_score`: the `health`
score when the bundle has one, else the first score by name); every score is in the account's
own record, with its breakdown, missing inputs and history. All are read by `engine.read_model`.

The list answers the accounts by id, `WHOLE_PAGE` (1,000) at a time: the next ones are at the
`Link: <…>; rel="next"` header's URL (their cursor in `X-Next-Cursor`); given any of `limit`, `sort`,
`q` or `csm` it answers a page sorted (at most `limit` accounts, 50 by default, 200 at most) with
the same headers.
`GET /v1/cockpit/accounts` (`server.api.cockpit`) answers the same page with its totals in one object.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from engine.read_model import (
    AccountDetail,
    AccountSummary,
    BadCursor,
    BadQuery,
    TimelinePage,
    account_detail,
    account_exists,
    account_page,
    account_summaries,
    account_timeline,
)
from engine.read_model.cursors import decode_cursor, encode_cursor
from server.api.auth import require_token
from server.api.paging import CURSOR, LIMIT, next_page_headers
from server.web.errors import ApiError
from server.web.state import State

__all__ = ["router"]

router = APIRouter(tags=["accounts"], dependencies=[Depends(require_token)])

WHOLE_PAGE = 1_000  # accounts by id in one answer of the list asked without paging parameters
_BY_ID = "accounts:id"

_BAD: dict[int | str, dict[str, Any]] = {
    400: {"description": "A bad sort, filter, limit or cursor; the detail says which and why"}}


@router.get("/v1/accounts", response_model=list[AccountSummary], summary="Accounts with their score and band",
            responses=_BAD)
async def list_accounts(
    request: Request,
    response: Response,
    state: State,
    band: Annotated[str | None, Query(description="only accounts in this band of the score, e.g. red",
                                      max_length=200)] = None,
    segment: Annotated[str | None, Query(description="only accounts of this segment", max_length=200)] = None,
    csm: Annotated[str | None, Query(description="only the accounts of this CSM (their address); paginates",
                                     max_length=320)] = None,
    q: Annotated[str | None, Query(description="a prefix of the name (any case) or of the id; paginates",
                                   max_length=200)] = None,
    sort: Annotated[str | None, Query(description="name, arr, renewal or score; `-` first for descending; "
                                                  "paginates (default name)", max_length=20)] = None,
    cursor: Annotated[str | None, CURSOR] = None,
    limit: Annotated[int | None, LIMIT] = None,
) -> list[AccountSummary]:
    if all(value is None for value in (csm, q, sort, limit)):
        after: str | None = None
        if cursor is not None:
            with contextlib.suppress(BadCursor):  # else a cursor of a sorted page: its page below
                after = decode_cursor(cursor, _BY_ID, (str,))[0]
        if cursor is None or after is not None:
            found = await asyncio.to_thread(account_summaries, state.store, state.bundle, band=band,
                                            segment=segment, after=after, limit=WHOLE_PAGE + 1)
            if len(found) > WHOLE_PAGE:
                found = found[:WHOLE_PAGE]
                next_page_headers(response, request, encode_cursor(_BY_ID, [found[-1].id]))
            return found
    try:
        page = await asyncio.to_thread(account_page, state.store, state.bundle, datetime.now(UTC), sort=sort or "name",
                                       cursor=cursor, limit=limit, band=band, csm=csm, segment=segment, q=q)
    except BadQuery as error:
        raise ApiError(400, "bad request", str(error)) from None
    next_page_headers(response, request, page.next_cursor)
    return [AccountSummary(id=item.id, name=item.name if item.name != item.id else None, segment=item.segment,
                           score=item.score, band=item.band, updated=item.scored_at) for item in page.items]



@router.get("/v1/accounts/{account}", response_model=AccountDetail, summary="One account in full",
            responses={404: {"description": "No such account"}})
async def get_account(account: str, state: State) -> AccountDetail:
    detail = await asyncio.to_thread(account_detail, state.store, state.bundle, account)
    if detail is None:
        raise ApiError(404, "not found", f"no account '{account}'")
    return detail


@router.get("/v1/accounts/{account}/timeline", response_model=TimelinePage,
            summary="What happened to an account, newest first, a page at a time",
            responses={**_BAD, 404: {"description": "No such account"}})
async def get_timeline(
    account: str, request: Request, response: Response, state: State,
    kind: Annotated[str | None, Query(description="only these kinds, comma-separated: event, score, message, "
                                                  "work_item, decision, action", max_length=200)] = None,
    cursor: Annotated[str | None, CURSOR] = None,
    limit: Annotated[int | None, Query(description="items per page, 1 to 200 (default 50)")] = None,
) -> TimelinePage:
    def read() -> TimelinePage | None:
        if not account_exists(state.store, account):
            return None
        return account_timeline(state.store, account, kind=kind, cursor=cursor, limit=limit)

    try:
        page = await asyncio.to_thread(read)
    except BadQuery as error:
        raise ApiError(400, "bad request", str(error)) from None
    if page is None:
        raise ApiError(404, "not found", f"no account '{account}'")
    next_page_headers(response, request, page.next_cursor)
    return page
