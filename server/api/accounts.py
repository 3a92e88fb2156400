"""`GET /v1/accounts` (one line per account: name, segment, score and band) and
`GET /v1/accounts/{id}` (everything a CSM asks about one account).

"The score" of the list is the primary score (`engine.read_model.primary_score`: the `health`
score when the bundle has one, else the first score by name); every score is in the account's
own record, with its breakdown, missing inputs and history. Both are read by `engine.read_model`.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from engine.read_model import AccountDetail, AccountSummary, account_detail, account_summaries
from server.api.auth import require_token
from server.web.errors import ApiError
from server.web.state import State

__all__ = ["router"]

router = APIRouter(tags=["accounts"], dependencies=[Depends(require_token)])


@router.get("/v1/accounts", response_model=list[AccountSummary], summary="Accounts with their score and band")
async def list_accounts(
    state: State,
    band: Annotated[str | None, Query(description="only accounts in this band of the score, e.g. red")] = None,
    segment: Annotated[str | None, Query(description="only accounts of this segment")] = None,
) -> list[AccountSummary]:
    return await asyncio.to_thread(account_summaries, state.store, state.bundle, band=band, segment=segment)


@router.get("/v1/accounts/{account}", response_model=AccountDetail, summary="One account in full",
            responses={404: {"description": "No such account"}})
async def get_account(account: str, state: State) -> AccountDetail:
    detail = await asyncio.to_thread(account_detail, state.store, state.bundle, account)
    if detail is None:
        raise ApiError(404, "not found", f"no account '{account}'")
    return detail
