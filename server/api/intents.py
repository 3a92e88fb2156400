"""The operator's hand on the drain to Temporal: the intents it parked, retried or dropped.

    GET  /v1/intents?state=parked     the parked intents, oldest first (`account`, `limit`)
    POST /v1/intents/{id}/retry       give a parked intent back to the drain, its attempts afresh
    POST /v1/intents/{id}/drop        give up on it: never carried out

An intent (a journey's start or signal) is parked when Temporal refused it for a reason that is
not an outage too many times (`server.api.routing_drain`); its account's later intents went on
without it. Retrying or dropping an intent that is not parked (any more) answers 404.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from server.api.auth import require_token
from server.web.errors import ApiError
from server.web.state import State, WebState

__all__ = ["router"]

router = APIRouter(tags=["brakes"], dependencies=[Depends(require_token)])
IntentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the intent's id, as `GET /v1/intents` lists it")]


@router.get("/v1/intents", summary="The journey starts and signals the drain parked (refused by Temporal)")
async def list_intents(
    state: State,
    kind: Annotated[Literal["parked"], Query(alias="state", description="which intents: `parked`")] = "parked",
    account: Annotated[str | None, Query(description="only this account's")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    parked = await asyncio.to_thread(state.store.parked_intents, limit, account)
    total = await asyncio.to_thread(state.store.parked_count)
    return {"state": kind, "total": total, "intents": [intent.listed() for intent in parked]}


@router.post("/v1/intents/{intent_id}/retry", summary="Give a parked intent back to the drain")
async def retry_intent(intent_id: IntentId, state: State) -> dict[str, Any]:
    if not await asyncio.to_thread(state.store.retry_parked, intent_id):
        raise _not_parked(intent_id)
    _wake(state)
    return {"id": intent_id, "state": "waiting"}


@router.post("/v1/intents/{intent_id}/drop", summary="Give up on a parked intent: never carried out")
async def drop_intent(intent_id: IntentId, state: State) -> dict[str, Any]:
    if not await asyncio.to_thread(state.store.drop_parked, intent_id, datetime.now(UTC)):
        raise _not_parked(intent_id)
    _wake(state)
    return {"id": intent_id, "state": "dropped"}


def _not_parked(intent_id: int) -> ApiError:
    return ApiError(404, "not found", f"no parked intent {intent_id}: see GET /v1/intents?state=parked")


def _wake(state: WebState) -> None:
    """The drain counts again (its parked count) and carries out what was given back."""
    state.dispatcher.drain_again()
