"""Rows the store returns that are not records of `engine.records` (journeys and messages), and the
rows a batch writes (`NewChange`, `BatchAccount`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["BatchAccount", "JourneyRow", "JourneyStatus", "MessageRow", "NewChange"]

JourneyStatus = Literal["active", "completed", "exited", "goal_reached", "failed"]


class NewChange(BaseModel):
    """An input object to store (`Store.add_changes`): an event, a trait update, or both."""

    model_config = ConfigDict(frozen=True)

    account: str
    at: datetime
    event: str | None = None
    data: dict[str, Any] = {}
    traits: dict[str, Any] = {}
    event_id: str | None = None
    source: str = "ingest"


class JourneyRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    workflow_id: str
    run_id: str
    playbook: str
    account: str
    version: str
    entered_at: datetime
    ended_at: datetime | None = None
    status: JourneyStatus = "active"
    reason: str | None = None


class MessageRow(BaseModel):
    """One email or in-app message, sent or suppressed: a line of the outbox."""

    model_config = ConfigDict(frozen=True)

    id: str
    account: str
    playbook: str | None
    channel: str
    template: str
    to: str | None
    subject: str | None
    text: str | None
    html: str | None
    at: datetime
    status: Literal["sent", "suppressed", "failed"]
    reason: str | None
    key: str


class BatchAccount:
    """An account's traits as the batch changes them."""

    __slots__ = ("changes", "exists", "loaded", "touched", "traits", "traits_at")

    def __init__(self, traits: dict[str, Any], traits_at: dict[str, str], *, exists: bool,
                 loaded: bool = True) -> None:
        self.traits = traits
        self.traits_at = traits_at
        self.exists = exists
        self.loaded = loaded  # False: an existing account whose traits this batch neither read nor changes
        self.touched = False
        self.changes = 0  # the changes of the account this batch inserts (added to `accounts.changes`)
