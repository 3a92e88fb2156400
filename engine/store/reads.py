"""What routing reads and writes of the store: the interface of `Store` that the router, admission,
time triggers, score recording and the snapshot builder use.

`Store` satisfies it, and so does `engine.routing.AccountCache`, which answers an account's rows
from memory and forwards the rest to a store. Code that takes a `RoutingReads` works on either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.store.rows import JourneyRow

__all__ = ["RoutingReads"]


class RoutingReads(Protocol):
    # -- the account's fields and events, as of a moment
    def account_ids(self) -> list[str]: ...

    def all_fields(self) -> dict[str, dict[str, Any]]: ...

    def fields_at(self, account: str, at: datetime) -> dict[str, Any]: ...

    def fields_and_event_stamps(self, account: str, at: datetime
                                ) -> tuple[dict[str, Any], list[tuple[str, datetime]]]: ...

    def events_until(self, account: str, at: datetime, names: set[str] | None = None
                     ) -> list[tuple[str, datetime, dict[str, Any]]]: ...

    def event_stamps_until(self, account: str, at: datetime) -> list[tuple[str, datetime]]: ...

    # -- journeys
    def active_journey(self, playbook: str, account: str) -> JourneyRow | None: ...

    def active_journeys(self, account: str) -> list[JourneyRow]: ...

    def last_entry(self, playbook: str, account: str) -> datetime | None: ...

    # -- condition states and scores
    def get_condition(self, account: str, key: str) -> bool | None: ...

    def condition_since(self, account: str, key: str) -> datetime | None: ...

    def set_condition(self, account: str, key: str, value: bool | None, at: datetime) -> None: ...

    def score_at(self, account: str, name: str, at: datetime) -> ScoreState | None: ...

    def record_score(self, account: str, state: ScoreState, at: datetime) -> None: ...

    # -- the action log, tasks and the suppression list (reserved events)
    def log_action(self, action: ActionRecord) -> bool: ...

    def count_history(self, *, account: str, playbook: str, at: datetime, seq: int, trigger: str,
                      detail: str) -> ActionRecord | None: ...

    def complete_tasks(self, account: str, at: datetime, *, task_id: str | None = None,
                       playbook: str | None = None) -> list[TaskRecord]: ...

    def task(self, id: str) -> TaskRecord | None: ...

    def suppress(self, email: str, reason: str, at: datetime) -> None: ...
