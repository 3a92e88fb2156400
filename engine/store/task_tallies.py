"""Counts of the tasks journeys opened, kept as tasks open and close, so that `playbook stats` reads
a few rows per task statement instead of every task.

- `task_counts`: tasks by (playbook, statement path, status, outcome); `''` is no outcome.
- `task_durations`: one row per completed task with its time from opening to completion, in the
  order of that time per statement, so that the median is read at the middle of an index rather
  than sorted from every task.

A task counts when its key is a journey's (`journey/<playbook>/<account>/<run id>/<path>`), as
`engine.insight.step_stats` cuts the path out of it. Opening adds one `open` (or whatever status it
is stored with); closing moves it to `done` with its outcome and records its duration; erasing an
account takes its tasks out first (`uncount_tasks`). Every change is `n = n + …` in the database.
`recount_tasks` fills both from the tasks (migration 0013).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, func, select

from engine.store.database import StoreSection
from engine.store.driver import Driver
from engine.store.schema import task_counts, task_durations, tasks
from engine.store.types import to_utc

__all__ = ["TaskTally", "TaskTallySection", "count_task", "count_task_closed", "recount_tasks", "task_path",
           "uncount_tasks"]

_UPSERT = ("INSERT INTO task_counts (playbook, path, status, outcome, n) VALUES (?, ?, ?, ?, ?) "
           "ON CONFLICT (playbook, path, status, outcome) DO UPDATE SET n = task_counts.n + excluded.n")
_DURATION = ("INSERT INTO task_durations (playbook, path, seconds, task) VALUES (?, ?, ?, ?) "
             "ON CONFLICT DO NOTHING")


class TaskTally(NamedTuple):
    playbook: str
    path: str
    opened: int
    completed: int
    median_seconds: float | None
    outcomes: dict[str, int]


def task_path(playbook: str | None, account: str, key: str | None) -> str | None:
    """The statement path in a journey task's key; None for a task no journey opened."""
    if playbook is None or not key or not key.startswith("journey/"):
        return None
    rest = key[len(playbook) + len(account) + 10:]  # past `journey/<playbook>/<account>/`
    slash = rest.find("/")
    return rest[slash + 1:] if slash > 0 else None


def _seconds(opened: datetime | None, closed: datetime | None) -> float | None:
    return None if opened is None or closed is None else (to_utc(closed) - to_utc(opened)).total_seconds()


def count_task(conn: Connection, values: dict[str, Any]) -> None:
    """Count a task just inserted (its row's values), in the caller's transaction."""
    path = task_path(values.get("playbook"), values["account"], values.get("key"))
    if path is None:
        return
    driver = Driver(conn)
    status, outcome = str(values.get("status") or "open"), str(values.get("outcome") or "")
    driver.execute(_UPSERT, (values["playbook"], path, status, outcome, 1))
    seconds = _seconds(values.get("created_at"), values.get("completed_at")) if status == "done" else None
    if seconds is not None:
        driver.execute(_DURATION, (values["playbook"], path, seconds, values["id"]))


def count_task_closed(conn: Connection, rows: Iterable[Any], outcome: str | None, at: datetime) -> None:
    """Move open tasks just closed (their rows as they were) to `done` with `outcome`. The counts
    change in the order of their keys, so that two transactions at once on PostgreSQL wait for
    each other rather than deadlock."""
    driver = Driver(conn)
    changes: dict[tuple[str, str, str, str], int] = {}
    for row in rows:
        path = task_path(row.playbook, row.account, row.key)
        if path is None:
            continue
        before = (str(row.playbook), path, str(row.status), str(row.outcome or ""))
        after = (str(row.playbook), path, "done", outcome or "")
        changes[before] = changes.get(before, 0) - 1
        changes[after] = changes.get(after, 0) + 1
        seconds = _seconds(row.created_at, at)
        if seconds is not None:
            driver.execute(_DURATION, (row.playbook, path, seconds, row.id))
    for (playbook, path, status, ending), n in sorted(changes.items()):
        driver.execute(_UPSERT, (playbook, path, status, ending, n))


def _grouped(conn: Connection, where: list[Any]) -> tuple[dict[tuple[str, str, str, str], int], list[Any]]:
    counts: dict[tuple[str, str, str, str], int] = {}
    durations = []
    query = select(tasks.c.id, tasks.c.account, tasks.c.playbook, tasks.c.key, tasks.c.status, tasks.c.outcome,
                   tasks.c.created_at, tasks.c.completed_at).where(tasks.c.playbook.is_not(None), *where)
    for row in conn.execute(query):
        path = task_path(row.playbook, row.account, row.key)
        if path is None:
            continue
        group = (str(row.playbook), path, str(row.status), str(row.outcome or ""))
        counts[group] = counts.get(group, 0) + 1
        seconds = _seconds(row.created_at, row.completed_at) if row.status == "done" else None
        if seconds is not None:
            durations.append({"playbook": row.playbook, "path": path, "seconds": seconds, "task": row.id})
    return counts, durations


def uncount_tasks(conn: Connection, where: list[Any]) -> None:
    """Take the tasks `where` keeps out of the counts, before they are deleted."""
    counts, durations = _grouped(conn, where)
    driver = Driver(conn)
    for (playbook, path, status, outcome), n in sorted(counts.items()):
        driver.execute(_UPSERT, (playbook, path, status, outcome, -n))
    for first in range(0, len(durations), 500):
        conn.execute(delete(task_durations).where(
            task_durations.c.task.in_([row["task"] for row in durations[first:first + 500]])))


def recount_tasks(conn: Connection) -> None:
    """Count every journey's task afresh (in the caller's write transaction)."""
    conn.execute(delete(task_counts))
    conn.execute(delete(task_durations))
    counts, durations = _grouped(conn, [])
    if counts:
        conn.execute(task_counts.insert(), [{"playbook": p, "path": path, "status": s, "outcome": o, "n": n}
                                            for (p, path, s, o), n in counts.items()])
    for first in range(0, len(durations), 5000):
        conn.execute(task_durations.insert(), durations[first:first + 5000])


class TaskTallySection(StoreSection):
    def task_tallies(self, playbooks: list[str] | None = None) -> list[TaskTally]:
        """Per task statement of these playbooks (all when None): opened, completed, the median
        time to complete and the completed ones by outcome."""
        query = select(task_counts).where(task_counts.c.n != 0)
        if playbooks is not None:
            query = query.where(task_counts.c.playbook.in_(playbooks))
        found: dict[tuple[str, str], TaskTally] = {}
        with self._db.read() as conn:
            for row in conn.execute(query.order_by(task_counts.c.playbook, task_counts.c.path)):
                old = found.get((row.playbook, row.path)) or TaskTally(row.playbook, row.path, 0, 0, None, {})
                outcomes = {**old.outcomes, row.outcome: old.outcomes.get(row.outcome, 0) + int(row.n)} \
                    if row.outcome else old.outcomes
                found[(row.playbook, row.path)] = old._replace(
                    opened=old.opened + int(row.n), outcomes=outcomes,
                    completed=old.completed + (int(row.n) if row.status == "done" else 0))
            for (playbook, path), tally in found.items():
                found[(playbook, path)] = tally._replace(median_seconds=self._median(conn, playbook, path))
        return list(found.values())

    @staticmethod
    def _median(conn: Connection, playbook: str, path: str) -> float | None:
        where = (task_durations.c.playbook == playbook, task_durations.c.path == path)
        total = int(conn.execute(select(func.count()).select_from(task_durations).where(*where)).scalar() or 0)
        if total == 0:
            return None
        middle = conn.execute(select(task_durations.c.seconds).where(*where).order_by(task_durations.c.seconds)
                              .offset((total - 1) // 2).limit(2 - total % 2)).scalars().all()
        return sum(float(value) for value in middle) / len(middle)
