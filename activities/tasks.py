"""Creating a task for a CSM: owner resolved from the account, title rendered, due computed."""

from __future__ import annotations

import hashlib
from typing import Any

from activities.context import ActivityContext
from activities.rendering import render_off_loop, render_text, template_context
from activities.trigger_event import trigger_event
from engine.records import ActionRecord, TaskRecord
from engine.store.snapshots import build_snapshot
from engine.workflows.payloads import TaskParams

__all__ = ["create_task", "task_id_for"]


class OwnerMissing(ValueError):
    """The account has no owner at the path the playbook names."""


def task_id_for(key: str) -> str:
    return "t-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def _owner(fields: dict[str, Any], path: list[str]) -> str:
    value: Any = fields
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict) and value.get("email"):
        return str(value["email"])
    raise OwnerMissing(f"the account has no {'.'.join(path)} with an email address")


async def create_task(p: TaskParams, ctx: ActivityContext) -> str:
    snap = build_snapshot(ctx.reads, ctx.bundle, p.account, p.at)
    owner = _owner(snap.fields, p.owner)
    event, payload = trigger_event(ctx, p.playbook, p.account, p.workflow_id) if "event" in p.title else (None, {})
    context = template_context(ctx.bundle, snap, playbook=p.playbook, playbook_title=p.playbook_title,
                               event=event, data=payload)
    title = (await render_off_loop(render_text, p.title, context, where="task title")).strip()
    record = TaskRecord(id=task_id_for(p.key), account=p.account, playbook=p.playbook, title=title, owner=owner,
                        due=p.due, priority=p.priority, created_at=p.at)
    stored, _created = ctx.store.create_task(record, p.key, p.workflow_id)
    data: dict[str, Any] = {"task": stored.id, "title": stored.title, "owner": stored.owner,
                            "due": stored.due.isoformat() if stored.due else None, "priority": stored.priority}
    if p.sent_at is not None:
        data["sent_at"] = p.sent_at.isoformat()
    ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="task",
                                      data=data, key=p.key))
    return stored.id
