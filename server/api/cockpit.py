"""The cockpit's reads, each a page at a time (`engine.read_model`, `engine.insight.funnel`):

- `GET /v1/cockpit/accounts` (`band`, `csm`, `segment`, `q`, `sort`, `cursor`, `limit`):
  `{"items": [...], "next_cursor": ..., "totals": {...}}`: accounts with ARR, renewal, CSM, band
  now and 7 and 30 days ago; totals by band and the ARR at risk;
- `GET /v1/cockpit/csms`: the CSMs of the accounts (address and name), what `csm=` filters by;
- `GET /v1/work` (`owner` or `manager`, `overdue`, `cursor`, `limit`): open work items, the
  soonest due first;
- `GET /v1/playbooks/{id}/funnel`: the playbook's steps and statements, nested, with per-arm
  results and goal conversion.

A bad sort, filter, limit or cursor answers 400 with the reason; `next_cursor` (also in the
`X-Next-Cursor` header) is passed back as `cursor` for the next page, and is null on the last.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response

from engine.insight.funnel import Funnel, playbook_funnel
from engine.read_model import AccountPage, BadQuery, CsmOut, WorkPage, account_page, csm_list, work_page
from server.api.auth import require_token
from server.api.paging import CURSOR, LIMIT, next_page_headers
from server.web.errors import ApiError
from server.web.state import State

__all__ = ["router"]

router = APIRouter(tags=["cockpit"], dependencies=[Depends(require_token)])

_BAD: dict[int | str, dict[str, Any]] = {
    400: {"description": "A bad sort, filter, limit or cursor; the detail says which and why"}}
T = TypeVar("T")


async def _read(read: Callable[[], T]) -> T:
    try:
        return await asyncio.to_thread(read)
    except BadQuery as error:
        raise ApiError(400, "bad request", str(error)) from None


@router.get("/v1/cockpit/accounts", response_model=AccountPage, responses=_BAD,
            summary="A page of accounts with ARR, renewal, CSM and band trend, and the totals")
async def cockpit_accounts(
    request: Request, response: Response, state: State,
    band: Annotated[str | None, Query(description="only accounts in this band, e.g. red", max_length=200)] = None,
    csm: Annotated[str | None, Query(description="only the accounts of this CSM (their address)",
                                     max_length=320)] = None,
    segment: Annotated[str | None, Query(description="only accounts of this segment", max_length=200)] = None,
    q: Annotated[str | None, Query(description="a prefix of the name (any case) or of the id", max_length=200)] = None,
    sort: Annotated[str, Query(description="name, arr, renewal or score; `-` first for descending",
                               max_length=20)] = "name",
    cursor: Annotated[str | None, CURSOR] = None,
    limit: Annotated[int | None, LIMIT] = None,
) -> AccountPage:
    page = await _read(lambda: account_page(state.store, state.bundle, datetime.now(UTC), sort=sort, cursor=cursor,
                                            limit=limit, band=band, csm=csm or None, segment=segment, q=q,
                                            totals=True))
    next_page_headers(response, request, page.next_cursor)
    return page


@router.get("/v1/cockpit/csms", response_model=list[CsmOut], summary="The CSMs of the accounts, by name")
async def cockpit_csms(state: State) -> list[CsmOut]:
    return await _read(lambda: csm_list(state.store))


@router.get("/v1/work", response_model=WorkPage, responses=_BAD,
            summary="Open work items, the soonest due first: a CSM's, or a manager's team's")
async def work(
    request: Request, response: Response, state: State,
    owner: Annotated[str | None, Query(description="only this owner's items (their address)", max_length=320)] = None,
    manager: Annotated[str | None, Query(description="only the items of the CSMs this address manages",
                                         max_length=320)] = None,
    overdue: Annotated[bool, Query(description="only the items past their due time, not snoozed")] = False,
    cursor: Annotated[str | None, CURSOR] = None,
    limit: Annotated[int | None, Query(description="items per page, 1 to 200 (default 50)")] = None,
) -> WorkPage:
    page = await _read(lambda: work_page(state.store, datetime.now(UTC), owner=owner or None,
                                         manager=manager or None, overdue=overdue, cursor=cursor, limit=limit))
    next_page_headers(response, request, page.next_cursor)
    return page


@router.get("/v1/playbooks/{playbook}/funnel", response_model=Funnel, response_model_exclude_none=True,
            summary="A playbook's funnel: steps and nested statements, per-arm results, goal conversion",
            responses={404: {"description": "No such playbook"}})
async def funnel(playbook: str, state: State) -> Funnel:
    found = await _read(lambda: playbook_funnel(state.store, state.bundle, playbook))
    if found is None:
        raise ApiError(404, "not found", f"no playbook '{playbook}' is deployed")
    return found
