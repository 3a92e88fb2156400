"""Reserved events (docs/events-and-actions.md): stored like any event, and applied in the same transaction.

- `task_completed` with `data.task` (a task id) or `data.playbook` closes the account's open
  tasks: that one, or every one that playbook opened, with `data.outcome` if it has one.
- `unsubscribed` and `bounced` with `data.email` put the address on the suppression list.

The engagement events (`email_opened`, `email_clicked`) are built in too, with their payload as
the IR declares them (`dsl.ir.BUILT_IN_EVENTS`), but they have no effect here: they are
events like any other, which journeys hear.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from dsl import ir
from engine.store.outbox import add_suppression
from engine.store.tasks import close_open_tasks

__all__ = ["ENGAGEMENT_EVENTS", "RESERVED_EVENTS", "apply_reserved_event", "task_outcome"]

_OUTCOME = re.compile(r"[a-z][a-z0-9_]{0,99}")


def task_outcome(data: dict[str, Any]) -> str | None:
    """A `task_completed`'s `outcome` (`resolved`, `no_response`, `churned`: a lower-case name of
    at most 100 characters), or None when it has none or another value."""
    outcome = data.get("outcome")
    return outcome if isinstance(outcome, str) and _OUTCOME.fullmatch(outcome) else None


RESERVED_EVENTS: frozenset[str] = frozenset({"task_completed", "unsubscribed", "bounced"})

ENGAGEMENT_EVENTS: dict[str, ir.EventDef] = {
    name: event for name, event in ir.BUILT_IN_EVENTS.items() if name in ("email_opened", "email_clicked")}


def apply_reserved_event(
    conn: Connection, account: str, event: str | None, data: dict[str, Any], at: datetime
) -> list[str]:
    """Apply the event if it is reserved; the ids of the tasks it closed."""
    if event == "task_completed":
        task_id, playbook = data.get("task"), data.get("playbook")
        if not isinstance(task_id, str) and not isinstance(playbook, str):
            return []  # closing every task of the account takes a deliberate call, not a bare event
        closed = close_open_tasks(conn, account, at,
                                  task_id=task_id if isinstance(task_id, str) else None,
                                  playbook=playbook if isinstance(playbook, str) else None,
                                  outcome=task_outcome(data))
        return [task.id for task in closed]
    if event in ("unsubscribed", "bounced"):
        email = data.get("email")
        if isinstance(email, str) and email.strip():
            add_suppression(conn, email, event, at)
    return []
