"""A work item's SLA: marking it overdue, then escalating it to another owner.

The journey that opened (or joined) an item with `escalate to manager after 1 business day` asks,
at the item's due time, whether it is still open then: if so it is recorded `task_overdue`; one
business day later, still open, it is escalated: the owner at the escalation's field (the manager
of the task's owner) is recorded on the task (`escalated_to`) and in the log (`task_escalated`).
A snooze moves both: an item snoozed past the moment asked about is not overdue before the snooze
ends. An item is judged as it stood at the moment asked about (one closed later was still open
then), so a timeline replayed later gives the same actions as one played live.
"""

from __future__ import annotations

from typing import Any

from activities.context import ActivityContext
from activities.owners import owner_address
from engine.records import ActionRecord, TaskRecord
from engine.store.snapshots import build_snapshot
from engine.workflows.payloads import EscalateParams

__all__ = ["escalate_task"]


def _data(task: TaskRecord, **extra: Any) -> dict[str, Any]:
    return {"task": task.id, "title": task.title, "owner": task.owner,
            "due": task.due.isoformat() if task.due else None, **extra}


async def escalate_task(p: EscalateParams, ctx: ActivityContext) -> dict[str, str]:
    """The item's state at `p.at`: `done`, `snoozed` (with `until`), `overdue` (recorded now),
    `escalated` (recorded now, or before by another journey), or `gone` (no such task)."""
    task = ctx.store.task(p.task)
    if task is None:
        return {"state": "gone"}
    if task.completed_at is not None and task.completed_at <= p.at:
        return {"state": "done", "at": task.completed_at.isoformat()}
    if task.snoozed_until is not None and task.snoozed_until > p.at:
        return {"state": "snoozed", "until": task.snoozed_until.isoformat()}
    if p.stage == "overdue":
        ctx.store.log_action(ActionRecord(at=p.at, account=task.account, playbook=p.playbook, kind="task_overdue",
                                          data=_data(task), key=f"task/{task.id}/overdue/{p.at.isoformat()}"))
        return {"state": "overdue"}
    if task.escalated_at is not None:
        return {"state": "escalated"}
    snap = build_snapshot(ctx.reads, ctx.bundle, p.account, p.at)
    to = owner_address(snap.fields, p.to)
    path = ".".join(p.to)
    if to is None:  # nobody to hand it to: said, and the item stays with its owner
        ctx.store.log_action(ActionRecord(at=p.at, account=task.account, playbook=p.playbook, kind="task_escalated",
                                          data=_data(task, to=None, reason=f"the account has no {path} with an "
                                                                            "email address"),
                                          key=f"task/{task.id}/escalated"))
        return {"state": "escalated"}
    action = ActionRecord(at=p.at, account=task.account, playbook=p.playbook, kind="task_escalated",
                          data=_data(task, to=to, role=path), key=f"task/{task.id}/escalated")
    ctx.store.escalate_task(task.id, to, p.at, action)
    return {"state": "escalated"}
