"""Tasks as the readers show them: a CSM's work list in the shape of `GET /v1/tasks`.

A task is overdue when it is open and its due time has passed (`now`), unless it is snoozed past now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from engine.records import TaskRecord, TaskStep
from engine.store import Store

__all__ = ["TaskOut", "is_overdue", "task_list"]


def is_overdue(task: TaskRecord, now: datetime) -> bool:
    """Open, past its due time, and not snoozed past now."""
    snoozed = task.snoozed_until is not None and task.snoozed_until > now
    return task.status == "open" and task.due is not None and task.due < now and not snoozed


class TaskOut(BaseModel):
    id: str
    account: str
    playbook: str | None
    title: str
    owner: str
    due: datetime | None
    priority: str
    status: Literal["open", "done"]
    overdue: bool
    created_at: datetime
    completed_at: datetime | None
    task_type: str | None = None
    reason: str | None = None
    description: str | None = None
    checklist: list[TaskStep] = []
    outcome: str | None = None
    bound: list[str] = []  # the playbooks whose journeys were bound to it after the one that opened it
    team: str | None = None  # the team it was assigned among
    snoozed_until: datetime | None = None  # not overdue before then
    snooze_reason: str | None = None
    escalated_to: str | None = None  # overdue past its SLA: escalated to this owner (the manager)
    escalated_at: datetime | None = None

    @classmethod
    def of(cls, task: TaskRecord, now: datetime) -> TaskOut:
        values = task.model_dump(exclude={"bound"})
        return cls(**values, bound=[b.playbook for b in task.bound if b.playbook], overdue=is_overdue(task, now))


def task_list(store: Store, now: datetime, *, owner: str | None = None, status: str | None = None,
              account: str | None = None, overdue: bool = False, task_type: str | None = None,
              after: tuple[datetime, str] | None = None, limit: int | None = None) -> list[TaskOut]:
    """Tasks, oldest first, filtered by whichever of owner, status, account and type are given;
    `overdue`: only the open tasks past their due time (whatever `status` says); `after`
    (created_at, id): only the tasks after it; `limit`: at most that many."""
    found: list[TaskOut] = []
    while True:
        records = store.tasks(owner=owner, status="open" if overdue else status, account=account,
                              task_type=task_type, after=after, limit=limit)
        tasks = [TaskOut.of(record, now) for record in records]
        found += [task for task in tasks if task.overdue] if overdue else tasks
        if limit is None or len(records) < limit or len(found) >= limit:
            return found[:limit] if limit is not None else found
        after = (records[-1].created_at, records[-1].id)  # overdue ones are fewer: read on
