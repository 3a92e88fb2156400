"""Answering a drafted email, for `POST /v1/drafts/{id}/approve|discard` and the dashboard's My
work alike.

The answer is kept in the store first (one answer wins: a draft answered, or settled at its
deadline, answers 409), logged (`draft_approved`, `draft_edited`, `draft_discarded`), then told
to the waiting journey, which sends or drops it at once; if the engine cannot be told, it acts on
the stored answer at the draft's deadline (`told` is False).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Literal

from engine.records import DraftRecord, JourneySignal
from engine.store import DraftDecided, DraftNotFound
from server.web.errors import ApiError
from server.web.state import WebState

__all__ = ["answer_draft"]


def _deciding(state: WebState, draft_id: str, decision: Literal["approve", "discard"], at: datetime,
              **answer: str | None) -> DraftRecord:
    try:
        return state.store.decide_draft(draft_id, decision, at, **answer)
    except DraftNotFound as error:
        raise ApiError(404, "not found", str(error)) from None
    except DraftDecided as error:
        raise ApiError(409, "conflict", str(error)) from None


async def answer_draft(state: WebState, draft_id: str, decision: Literal["approve", "discard"],
                       **answer: str | None) -> tuple[DraftRecord, bool]:
    """The draft as answered, and whether its journey was told at once; `ApiError` 404 or 409."""
    at = await state.clock.now()
    draft = await asyncio.to_thread(_deciding, state, draft_id, decision, at, **answer)
    told = draft.playbook is not None and await state.dispatcher.tell(JourneySignal(
        playbook=draft.playbook, account=draft.account, at=at, draft_decided=draft.id))
    return draft, told
