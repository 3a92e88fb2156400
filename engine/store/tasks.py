"""Tasks for people (a CSM, a manager), opened once per idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from engine.records import TaskBinding, TaskRecord, TaskStep
from engine.store.database import StoreSection, insert_ignoring
from engine.store.schema import tasks
from engine.store.task_tallies import count_task, count_task_closed
from engine.store.types import to_utc

__all__ = ["StepNotFound", "TaskKeyConflict", "TaskSection", "close_open_tasks", "task_record", "task_values"]


class TaskKeyConflict(ValueError):
    """A new key with a task id that another task already has."""


class StepNotFound(LookupError):
    """No such task, or no such step in its checklist."""


def task_record(row: Any) -> TaskRecord:
    return TaskRecord(id=row.id, account=row.account, playbook=row.playbook, title=row.title,
                      owner=row.owner, due=row.due, priority=row.priority, status=row.status,
                      created_at=row.created_at, completed_at=row.completed_at, task_type=row.task_type,
                      reason=row.reason, description=row.description,
                      checklist=[TaskStep.model_validate(step) for step in row.checklist or []],
                      outcome=row.outcome, bound=[TaskBinding.model_validate(b) for b in row.bound or []],
                      team=row.team, snoozed_until=row.snoozed_until, snooze_reason=row.snooze_reason,
                      escalated_to=row.escalated_to, escalated_at=row.escalated_at)


def _checklist_json(steps: list[TaskStep]) -> list[dict[str, Any]] | None:
    return [step.model_dump(mode="json") for step in steps] or None


def task_values(task: TaskRecord) -> dict[str, Any]:
    """The row of a task, its times in UTC and its lists as JSON."""
    values = task.model_dump()
    for name in ("due", "created_at", "completed_at", "snoozed_until", "escalated_at"):
        if values[name] is not None:
            values[name] = to_utc(values[name])
    values["checklist"] = _checklist_json(task.checklist)
    values["bound"] = [binding.model_dump(mode="json") for binding in task.bound] or None
    return values


def close_open_tasks(
    conn: Connection, account: str, at: datetime, *, task_id: str | None, playbook: str | None,
    outcome: str | None = None,
) -> list[TaskRecord]:
    query = select(tasks).where(tasks.c.account == account, tasks.c.status == "open")
    if task_id is not None:
        query = query.where(tasks.c.id == task_id)
    if playbook is not None:
        query = query.where(tasks.c.playbook == playbook)
    at = to_utc(at)
    rows = conn.execute(query.order_by(tasks.c.created_at, tasks.c.id)).all()
    if rows:
        count_task_closed(conn, rows, outcome, at)
        conn.execute(update(tasks).where(tasks.c.id.in_([row.id for row in rows]))
                     .values(status="done", completed_at=at, outcome=outcome, open_key=None))
    return [task_record(row).model_copy(update={"status": "done", "completed_at": at, "outcome": outcome})
            for row in rows]


class TaskSection(StoreSection):
    def create_task(self, task: TaskRecord, key: str, journey: str | None) -> tuple[TaskRecord, bool]:
        """Open `task` unless `key` was seen: then the task stored under it, and False."""
        values = task_values(task)
        with self._db.write(task.account) as conn:
            if insert_ignoring(conn, tasks, {**values, "key": key, "journey": journey}) is not None:
                count_task(conn, {**values, "key": key})
                return task, True
            row = conn.execute(select(tasks).where(tasks.c.key == key)).first()
        if row is None:
            raise TaskKeyConflict(f"task id {task.id!r} is already used by another task")
        return task_record(row), False

    def complete_tasks(
        self, account: str, at: datetime, *, task_id: str | None = None, playbook: str | None = None,
        outcome: str | None = None,
    ) -> list[TaskRecord]:
        """Close the account's open tasks (that one, or that playbook's, or all) with `outcome`; return them."""
        with self._db.write(account) as conn:
            return close_open_tasks(conn, account, at, task_id=task_id, playbook=playbook, outcome=outcome)

    def complete_step(self, id: str, index: int, at: datetime) -> TaskRecord:
        """Tick step `index` (from 0) of the task's checklist, once: a ticked step keeps its time."""
        with self._db.write() as conn:
            row = conn.execute(select(tasks).where(tasks.c.id == id).with_for_update()).first()
            if row is None:
                raise StepNotFound(f"no task {id!r}")
            record = task_record(row)
            if not 0 <= index < len(record.checklist):
                raise StepNotFound(f"task {id!r} has {len(record.checklist)} steps: no step {index + 1}")
            step = record.checklist[index]
            if step.done_at is None:
                record.checklist[index] = step.model_copy(update={"done_at": to_utc(at)})
                conn.execute(update(tasks).where(tasks.c.id == id)
                             .values(checklist=_checklist_json(record.checklist)))
        return record

    def task(self, id: str) -> TaskRecord | None:
        with self._db.read() as conn:
            row = conn.execute(select(tasks).where(tasks.c.id == id)).first()
        return None if row is None else task_record(row)

    def task_journey(self, id: str) -> str | None:
        """The workflow id of the journey that opened the task, if any."""
        with self._db.read() as conn:
            return conn.execute(select(tasks.c.journey).where(tasks.c.id == id)).scalar()

    def tasks(
        self, owner: str | None = None, status: str | None = None, account: str | None = None,
        task_type: str | None = None, *, after: tuple[datetime, str] | None = None, limit: int | None = None,
    ) -> list[TaskRecord]:
        """Tasks, oldest first, filtered by whichever of owner, status, account and type are given;
        `after` (created_at, id): only those after it in that order; `limit`: at most that many."""
        query = select(tasks).order_by(tasks.c.created_at, tasks.c.id)
        if after is not None:
            query = query.where(or_(tasks.c.created_at > after[0],
                                    and_(tasks.c.created_at == after[0], tasks.c.id > after[1])))
        if limit is not None:
            query = query.limit(limit)
        if owner is not None:
            query = query.where(tasks.c.owner == owner)
        if status is not None:
            query = query.where(tasks.c.status == status)
        if account is not None:
            query = query.where(tasks.c.account == account)
        if task_type is not None:
            query = query.where(tasks.c.task_type == task_type)
        with self._db.read() as conn:
            return [task_record(row) for row in conn.execute(query)]
