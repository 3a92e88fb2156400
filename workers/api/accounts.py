"""`GET /v1/accounts` (one line per account: name, segment, score and band) and
`GET /v1/accounts/{id}` (everything a CSM asks about one account).

"The score" of the list is the `health` score when the bundle has one, else the first score by
name; every score is in the account's own record, with its breakdown, missing inputs and history.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from dsl import ir
from engine.records import ScoreState
from engine.store import Store
from workers.api.auth import require_token
from workers.api.errors import ApiError
from workers.api.state import State

__all__ = ["AccountDetail", "AccountSummary", "primary_score", "router"]

router = APIRouter(tags=["accounts"], dependencies=[Depends(require_token)])

RECENT_ACTIONS = 50

class AccountSummary(BaseModel):
    id: str
    name: str | None
    segment: str | None
    score: float | None
    band: str | None
    updated: datetime | None  # when the score was last recorded

class ScorePoint(BaseModel):
    at: datetime
    value: float | None
    band: str | None

class ScoreDetail(BaseModel):
    name: str
    value: float | None
    band: str | None
    breakdown: dict[str, float]
    missing: list[str]
    at: datetime | None
    history: list[ScorePoint]

class JourneyOut(BaseModel):
    playbook: str
    status: str
    version: str
    entered_at: datetime
    ended_at: datetime | None
    reason: str | None
    workflow_id: str
    run_id: str

class AccountDetail(BaseModel):
    id: str
    fields: dict[str, Any]
    scores: dict[str, ScoreDetail]
    missing: dict[str, list[str]]  # by score: the inputs the account lacks
    journeys: list[JourneyOut]
    recent_actions: list[dict[str, Any]]  # newest last, in the action log's format

def primary_score(bundle: ir.Bundle) -> str | None:
    if "health" in bundle.scores:
        return "health"
    return min(bundle.scores, default=None)

def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None

def _summaries(store: Store, bundle: ir.Bundle) -> list[AccountSummary]:
    score = primary_score(bundle)
    summaries: list[AccountSummary] = []
    for account, fields in store.all_fields().items():
        history = store.score_history(account, score) if score else []
        at, state = history[-1] if history else (None, ScoreState(name=score or ""))
        summaries.append(AccountSummary(id=account, name=_text(fields.get("name")),
                                        segment=_text(fields.get("segment")), score=state.value, band=state.band,
                                        updated=at))
    return summaries

@router.get("/v1/accounts", response_model=list[AccountSummary], summary="Accounts with their score and band")
async def list_accounts(
    state: State,
    band: Annotated[str | None, Query(description="only accounts in this band of the score, e.g. red")] = None,
    segment: Annotated[str | None, Query(description="only accounts of this segment")] = None,
) -> list[AccountSummary]:
    summaries = await asyncio.to_thread(_summaries, state.store, state.bundle)
    return [s for s in summaries if band in (None, s.band) and segment in (None, s.segment)]

def _score_detail(store: Store, account: str, model: ir.ScoreModel, fields: dict[str, Any]) -> ScoreDetail:
    history = store.score_history(account, model.name)
    if history:
        at, latest = history[-1]
        missing = list(latest.missing)
    else:
        at, latest = None, ScoreState(name=model.name)
        missing = [name for name in model.inputs if fields.get(name) is None]
    return ScoreDetail(name=model.name, value=latest.value, band=latest.band, breakdown=latest.breakdown,
                       missing=missing, at=at,
                       history=[ScorePoint(at=when, value=s.value, band=s.band) for when, s in history])

def _detail(store: Store, bundle: ir.Bundle, account: str) -> AccountDetail | None:
    if account not in store.account_ids():
        return None
    fields = store.current_fields(account)
    scores = {name: _score_detail(store, account, model, fields) for name, model in sorted(bundle.scores.items())}
    journeys = [JourneyOut(playbook=j.playbook, status=j.status, version=j.version, entered_at=j.entered_at,
                           ended_at=j.ended_at, reason=j.reason, workflow_id=j.workflow_id, run_id=j.run_id)
                for j in store.journeys(account=account)]
    actions = store.actions(account=account)[-RECENT_ACTIONS:]
    return AccountDetail(id=account, fields=fields, scores=scores,
                         missing={name: detail.missing for name, detail in scores.items()},
                         journeys=journeys, recent_actions=[action.to_contract() for action in actions])

@router.get("/v1/accounts/{account}", response_model=AccountDetail, summary="One account in full",
            responses={404: {"description": "No such account"}})
async def get_account(account: str, state: State) -> AccountDetail:
    detail = await asyncio.to_thread(_detail, state.store, state.bundle, account)
    if detail is None:
        raise ApiError(404, "not found", f"no account '{account}'")
    return detail
