"""Drafted emails as a reviewer reads them (`GET /v1/drafts`, `playbook drafts`, the dashboard):
what would go, to whom, by when it must be answered, and what happens if nobody does."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from engine.records import DraftRecord, DraftState
from engine.store import Store

__all__ = ["DraftOut", "draft_list"]


class DraftOut(BaseModel):
    id: str
    account: str
    playbook: str | None
    template: str
    to: str
    subject: str
    text: str
    html: str | None
    reviewer: str
    review_by: datetime
    then: Literal["send", "drop"]  # unanswered by review_by
    state: DraftState
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None
    late: bool  # pending past review_by: its journey settles it as it wakes

    @classmethod
    def of(cls, draft: DraftRecord, now: datetime) -> DraftOut:
        values = draft.model_dump(exclude={"key", "journey", "policy", "to_name"})
        return cls(**values, then=draft.policy, late=draft.state == "pending" and draft.review_by <= now)


def draft_list(store: Store, now: datetime, *, state: str | None = "pending", reviewer: str | None = None,
               account: str | None = None, limit: int = 200) -> list[DraftOut]:
    """Drafts, the soonest deadline first: by default the pending ones (every state with `state=None`)."""
    return [DraftOut.of(draft, now) for draft in store.drafts(state=state, reviewer=reviewer, account=account,
                                                              limit=limit)]
