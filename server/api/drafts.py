"""Drafted emails (`send email … review by csm within 1 business day then send`): the reviewer's
list and answer.

`GET /v1/drafts` lists them (the pending ones by default, soonest deadline first; `?reviewer=`,
`?account=`, `?state=`); `GET /v1/drafts/{id}` shows one with its text and HTML. `POST
/v1/drafts/{id}/approve` sends it as it is, or edited (`subject`, `text`: an edited text goes out
as plain text); `POST /v1/drafts/{id}/discard` (`reason`) drops it. The answer is kept in the store
first (one answer wins: a draft answered, or settled at its deadline, answers 409), logged
(`draft_approved`, `draft_edited`, `draft_discarded`), then told to the waiting journey, which
sends or drops it at once; if the engine cannot be told, it acts on the stored answer at the
draft's deadline (`told: false`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from engine.read_model import DraftOut, draft_list
from server.api.auth import require_token
from server.web.draft_answers import answer_draft
from server.web.errors import ApiError
from server.web.state import State

__all__ = ["router"]

router = APIRouter(tags=["drafts"], dependencies=[Depends(require_token)])

_ADDRESS = r"^[^@\s]+@[^@\s]+$"


class Approval(BaseModel):
    subject: str | None = Field(None, min_length=1, max_length=300, pattern=r"^[^\r\n]*$",
                                description="the subject as edited (one line)")
    text: str | None = Field(None, min_length=1, max_length=100_000, description="the text as edited")
    by: str | None = Field(None, max_length=320, pattern=_ADDRESS, description="who answered (an email)")


class Discard(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="why it should not go")
    by: str | None = Field(None, max_length=320, pattern=_ADDRESS)


class Answered(BaseModel):
    draft: DraftOut
    told: bool  # the waiting journey was told at once (else it acts at the draft's deadline)


@router.get("/v1/drafts", response_model=list[DraftOut], summary="Drafted emails, the soonest deadline first")
async def list_drafts(
    state: State,
    reviewer: Annotated[str | None, Query(max_length=320, description="the reviewer's email")] = None,
    account: Annotated[str | None, Query(max_length=200)] = None,
    draft_state: Annotated[Literal["pending", "approved", "edited", "discarded", "sent_unreviewed",
                                   "dropped_unreviewed", "withdrawn", "all"],
                           Query(alias="state", description="pending (the default), a state, or all")] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[DraftOut]:
    return await asyncio.to_thread(draft_list, state.store, datetime.now(UTC), reviewer=reviewer, account=account,
                                   state=None if draft_state == "all" else draft_state, limit=limit)


@router.get("/v1/drafts/{draft_id}", response_model=DraftOut, summary="One drafted email",
            responses={404: {"description": "No such draft"}})
async def show_draft(draft_id: str, state: State) -> DraftOut:
    draft = await asyncio.to_thread(state.store.draft, draft_id)
    if draft is None:
        raise ApiError(404, "not found", f"no draft '{draft_id}'")
    return DraftOut.of(draft, datetime.now(UTC))


async def _answer(state: State, draft_id: str, decision: Literal["approve", "discard"],
                  **answer: str | None) -> Answered:
    draft, told = await answer_draft(state, draft_id, decision, **answer)  # shared with the dashboard
    return Answered(draft=DraftOut.of(draft, datetime.now(UTC)), told=told)


_ANSWER_ERRORS: dict[int | str, dict[str, Any]] = {404: {"description": "No such draft"},
                  409: {"description": "Answered already, or settled at its deadline"}}


@router.post("/v1/drafts/{draft_id}/approve", response_model=Answered, responses=_ANSWER_ERRORS,
             summary="Send a drafted email, as it is or edited")
async def approve_draft(draft_id: str, state: State, body: Approval | None = None) -> Answered:
    body = body or Approval()
    return await _answer(state, draft_id, "approve", subject=body.subject, text=body.text, by=body.by)


@router.post("/v1/drafts/{draft_id}/discard", response_model=Answered, responses=_ANSWER_ERRORS,
             summary="Drop a drafted email")
async def discard_draft(draft_id: str, body: Discard, state: State) -> Answered:
    return await _answer(state, draft_id, "discard", reason=body.reason, by=body.by)
