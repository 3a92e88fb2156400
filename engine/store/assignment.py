"""Assigning a task among a team: by round robin (each member in turn, across every account) or
to the least loaded member (the fewest open tasks), decided and stored in one transaction.

The team's lock orders the assigners (an advisory lock on PostgreSQL, the write lock on SQLite),
so two tasks assigned at once by round robin go to two members in turn, and the turn is kept in
`team_turns`, in the order the assignments were made. With `dedupe`, an open item of the same
type and reason takes the task instead, and nobody is assigned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Connection, func, insert, select, update

from engine.records import TaskRecord
from engine.store.database import StoreSection, insert_ignoring
from engine.store.schema import tasks, team_turns
from engine.store.task_tallies import count_task
from engine.store.tasks import task_record, task_values
from engine.store.work_items import Opened, open_key, open_or_update

__all__ = ["Assigned", "AssignmentSection"]

Rule = Literal["round_robin", "least_loaded"]


class Assigned:
    """What `assign_task` did: the task, whether it was opened, and what the choice read."""

    def __init__(self, task: TaskRecord, opened: Opened, reads: dict[str, Any]) -> None:
        self.task, self.opened, self.reads = task, opened, reads


def _round_robin(conn: Connection, team: str, members: Sequence[str]) -> tuple[str, dict[str, Any]]:
    turn = conn.execute(select(team_turns.c.turn).where(team_turns.c.team == team).with_for_update()).scalar()
    if turn is None:
        conn.execute(insert(team_turns).values(team=team, turn=1))
        turn = 0
    else:
        conn.execute(update(team_turns).where(team_turns.c.team == team).values(turn=turn + 1))
    return members[turn % len(members)], {"turn": turn + 1}


def _least_loaded(conn: Connection, members: Sequence[str]) -> tuple[str, dict[str, Any]]:
    counted: dict[str, int] = dict(conn.execute(select(tasks.c.owner, func.count()).where(
        tasks.c.owner.in_(list(members)), tasks.c.status == "open").group_by(tasks.c.owner)).all())
    load = {member: int(counted.get(member, 0)) for member in members}
    return min(members, key=lambda member: load[member]), {"open_tasks": load}


class AssignmentSection(StoreSection):
    def assign_task(self, task: TaskRecord, key: str, journey: str | None, *, team: str, members: Sequence[str],
                    rule: Rule, dedupe: bool = False) -> Assigned:
        """Open `task` (its owner left to the rule) for a member of `team`, once per `key`."""
        if not members:
            raise ValueError(f"team {team!r} has no members")
        with self._db.write(f"team:{team}", task.account) as conn:
            row = conn.execute(select(tasks).where(tasks.c.key == key)).first()
            if row is not None:
                return Assigned(task_record(row), "seen", {})
            if dedupe and task.task_type is not None and task.reason is not None:
                open_row = conn.execute(select(tasks).where(
                    tasks.c.open_key == open_key(task.account, task.task_type, task.reason))).first()
                if open_row is not None:
                    item, opened = open_or_update(conn, task, key, journey)
                    return Assigned(item, opened, {})
            owner, reads = _round_robin(conn, team, members) if rule == "round_robin" else _least_loaded(conn, members)
            assigned = task.model_copy(update={"owner": owner, "team": team})
            if dedupe:
                item, opened = open_or_update(conn, assigned, key, journey)
                return Assigned(item, opened, reads)
            values = {**task_values(assigned), "key": key, "journey": journey}
            if insert_ignoring(conn, tasks, values) is None:
                raise ValueError(f"task id {task.id!r} is already used by another task")
            count_task(conn, values)
            return Assigned(assigned, "created", reads)
