"""Deduped work items: one open item per account, type and reason.

A `create task … dedupe by type and reason` opens the item unless one of the same account, type
and reason is open: then it updates that one (the earlier due time, the higher priority) and
binds the journey that asked to it (`bound`), so that closing the item tells that journey too.
The rule holds under races: the account's write lock orders the writers, and the unique
`open_key` (emptied when the item closes) refuses a second open item whatever the order.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, select, update

from engine.records import TaskBinding, TaskRecord
from engine.store.database import StoreSection, insert_ignoring
from engine.store.schema import tasks
from engine.store.task_tallies import count_task
from engine.store.tasks import task_record, task_values

__all__ = ["Opened", "WorkItemSection", "open_key", "open_or_update"]

PRIORITY_ORDER = ("low", "normal", "high", "urgent")
Opened = Literal["created", "updated", "seen"]


def open_key(account: str, task_type: str, reason: str) -> str:
    """`["acme","risk","low_usage"]`: unambiguous whatever the account id holds."""
    return json.dumps([account, task_type, reason], separators=(",", ":"))


def _higher(first: str, second: str) -> str:
    rank = {name: index for index, name in enumerate(PRIORITY_ORDER)}
    return max(first, second, key=lambda name: rank.get(name, 1))


def _earlier(first: datetime | None, second: datetime | None) -> datetime | None:
    return min(first, second) if first is not None and second is not None else first or second


def open_or_update(conn: Connection, task: TaskRecord, key: str, journey: str | None) -> tuple[TaskRecord, Opened]:
    """`WorkItemSection.open_work_item` inside a write transaction that holds the account's lock."""
    if task.task_type is None or task.reason is None:
        raise ValueError("a deduped work item has a type and a reason")
    dedupe = open_key(task.account, task.task_type, task.reason)
    row = conn.execute(select(tasks).where(tasks.c.key == key)).first()
    if row is not None:
        return task_record(row), "seen"
    open_row = conn.execute(select(tasks).where(tasks.c.open_key == dedupe).with_for_update()).first()
    if open_row is None:
        values = {**task_values(task), "key": key, "journey": journey, "open_key": dedupe}
        if insert_ignoring(conn, tasks, values) is not None:
            count_task(conn, values)
            return task, "created"
        open_row = conn.execute(select(tasks).where(tasks.c.open_key == dedupe)).first()
        if open_row is None:  # the id was taken by another key: as `create_task` says
            raise ValueError(f"task id {task.id!r} is already used by another task")
    item = task_record(open_row)
    if any(binding.key == key for binding in item.bound):
        return item, "seen"
    binding = TaskBinding(playbook=task.playbook, journey=journey, key=key, at=task.created_at)
    item = item.model_copy(update={
        "due": _earlier(item.due, task.due), "priority": _higher(item.priority, task.priority),
        "bound": [*item.bound, binding]})
    values = task_values(item)
    conn.execute(update(tasks).where(tasks.c.id == item.id)
                 .values(due=values["due"], priority=item.priority, bound=values["bound"]))
    return item, "updated"


class WorkItemSection(StoreSection):
    def open_work_item(self, task: TaskRecord, key: str, journey: str | None) -> tuple[TaskRecord, Opened]:
        """Open `task` as the one open item of its account, type and reason, or update the open one.

        `created`: `task` was opened. `updated`: an open item took it, and this journey is bound to
        that item. `seen`: `key` was handled before (a retried activity); the item as it is.
        """
        with self._db.write(task.account) as conn:
            return open_or_update(conn, task, key, journey)

    def open_work_items(self, account: str) -> list[TaskRecord]:
        """The account's open deduped items, oldest first."""
        with self._db.read() as conn:
            rows = conn.execute(select(tasks).where(tasks.c.account == account, tasks.c.open_key.is_not(None))
                                .order_by(tasks.c.created_at, tasks.c.id)).all()
        return [task_record(row) for row in rows]
