"""What changes on an open task: a person snoozes it until a moment (with a reason) or reassigns it
to another owner; its SLA escalates it. Each change is one transaction that updates the task and
logs an action (`task_snoozed`, `task_reassigned`, `task_escalated`) with the task's playbook, so
the log and `why` tell it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from engine.records import ActionRecord, TaskRecord
from engine.store.actions import insert_action
from engine.store.database import StoreSection
from engine.store.schema import tasks
from engine.store.tasks import task_record
from engine.store.types import to_utc

__all__ = ["TaskChangeSection", "TaskClosed", "TaskNotFound"]


class TaskNotFound(LookupError):
    """No task has this id."""


class TaskClosed(ValueError):
    """The task is done: it can be neither snoozed nor reassigned."""


class TaskChangeSection(StoreSection):
    def _open_task(self, conn: Connection, id: str) -> TaskRecord:
        row = conn.execute(select(tasks).where(tasks.c.id == id).with_for_update()).first()
        if row is None:
            raise TaskNotFound(f"no task '{id}'")
        task = task_record(row)
        if task.status != "open":
            raise TaskClosed(f"task '{id}' is done")
        return task

    def snooze_task(self, id: str, until: datetime, reason: str, at: datetime) -> TaskRecord:
        """Snooze the open task until `until` (it is not overdue before then), for `reason`."""
        with self._db.write() as conn:
            task = self._open_task(conn, id)
            conn.execute(update(tasks).where(tasks.c.id == id).values(snoozed_until=to_utc(until),
                                                                      snooze_reason=reason))
            insert_action(conn, ActionRecord(at=at, account=task.account, playbook=task.playbook, kind="task_snoozed",
                                             data={"task": id, "until": to_utc(until).isoformat(), "reason": reason}))
        return task.model_copy(update={"snoozed_until": to_utc(until), "snooze_reason": reason})

    def reassign_task(self, id: str, owner: str, reason: str | None, at: datetime) -> TaskRecord:
        """Give the open task to `owner` (an email address)."""
        with self._db.write() as conn:
            task = self._open_task(conn, id)
            conn.execute(update(tasks).where(tasks.c.id == id).values(owner=owner))
            data = {"task": id, "from": task.owner, "to": owner, **({"reason": reason} if reason else {})}
            insert_action(conn, ActionRecord(at=at, account=task.account, playbook=task.playbook,
                                             kind="task_reassigned", data=data))
        return task.model_copy(update={"owner": owner})

    def escalate_task(self, id: str, to: str, at: datetime, action: ActionRecord) -> bool:
        """Mark the task escalated to `to` at `at` and log `action`, once: False (nothing written)
        when it was escalated before (two journeys bound to one item escalate it once)."""
        with self._db.write() as conn:
            row = conn.execute(select(tasks.c.escalated_at).where(tasks.c.id == id).with_for_update()).first()
            if row is None or row.escalated_at is not None:
                return False
            conn.execute(update(tasks).where(tasks.c.id == id).values(escalated_to=to, escalated_at=to_utc(at)))
            insert_action(conn, action)
        return True
