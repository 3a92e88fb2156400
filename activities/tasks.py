"""Creating a task for a CSM: owner resolved from the account, title, description and checklist
rendered, due times computed by the journey."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from activities.context import ActivityContext
from activities.owners import owner_address
from activities.rendering import render_off_loop, render_text, template_context
from activities.trigger_event import trigger_event
from engine.decision_text import decided
from engine.records import ActionRecord, Decision, TaskRecord, TaskStep
from engine.store.snapshots import build_snapshot
from engine.workflows.payloads import TaskParams

__all__ = ["create_task", "task_id_for"]


class OwnerMissing(ValueError):
    """The account has no owner at the path the playbook names."""


def task_id_for(key: str) -> str:
    return "t-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def _work_item_data(task: TaskRecord) -> dict[str, Any]:
    """The work-item keys of a task's action, only those it has (a plain task's action is unchanged)."""
    data: dict[str, Any] = {}
    if task.task_type is not None:
        data["type"] = task.task_type
    if task.reason is not None:
        data["reason"] = task.reason
    if task.checklist:
        data["checklist"] = [{"title": step.title, "due": step.due.isoformat() if step.due else None}
                             for step in task.checklist]
    return data


def _owner(fields: dict[str, Any], path: list[str]) -> str:
    address = owner_address(fields, path)
    if address is not None:
        return address
    raise OwnerMissing(f"the account has no {'.'.join(path)} with an email address")


def _assign(p: TaskParams, record: TaskRecord, ctx: ActivityContext) -> TaskRecord:
    """Open the task for a member of the team by the rule, and log the choice as a decision."""
    team = p.owner[0]
    members = ctx.bundle.model.teams.get(team)
    if not members:
        raise OwnerMissing(f"team {team!r} is not declared in the deployed playbooks")
    rule: Literal["round_robin", "least_loaded"] = "round_robin" if p.assign == "round_robin" else "least_loaded"
    assigned = ctx.store.assign_task(record, p.key, p.workflow_id, team=team, members=members, rule=rule,
                                     dedupe=p.dedupe)
    if assigned.task.team == team and assigned.task.id == record.id:
        decision = decided(Decision(at=p.at, account=p.account, playbook=p.playbook, what="assigned",
                                    path=p.path, subject=f"{team} by {rule.replace('_', ' ')}",
                                    outcome=assigned.task.owner, reads=assigned.reads))
        ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="decided",
                                          data=decision.logged(), key=f"{p.key}/assigned/0"))
    return assigned.task


async def _render(source: str, context: dict[str, Any], where: str) -> str:
    return (await render_off_loop(render_text, source, context, where=where)).strip()


async def create_task(p: TaskParams, ctx: ActivityContext) -> str:
    snap = build_snapshot(ctx.reads, ctx.bundle, p.account, p.at)
    owner = "" if p.assign is not None else _owner(snap.fields, p.owner)  # a team's: chosen when stored
    sources = [p.title, p.description or "", *(step.title for step in p.checklist)]
    reads_event = any("event" in source for source in sources)
    event, payload = trigger_event(ctx, p.playbook, p.account, p.workflow_id) if reads_event else (None, {})
    context = template_context(ctx.bundle, snap, playbook=p.playbook, playbook_title=p.playbook_title,
                               event=event, data=payload)
    title = await _render(p.title, context, "task title")
    description = await _render(p.description, context, "task description") if p.description else None
    checklist = [TaskStep(title=await _render(step.title, context, "checklist step"), due=step.due)
                 for step in p.checklist]
    record = TaskRecord(id=task_id_for(p.key), account=p.account, playbook=p.playbook, title=title, owner=owner,
                        due=p.due, priority=p.priority, created_at=p.at, task_type=p.task_type, reason=p.reason,
                        description=description, checklist=checklist)
    if p.assign is not None:
        stored = _assign(p, record, ctx)
    elif p.dedupe:
        stored, _opened = ctx.store.open_work_item(record, p.key, p.workflow_id)
    else:
        stored, _created = ctx.store.create_task(record, p.key, p.workflow_id)
    data: dict[str, Any] = {"task": stored.id, "title": stored.title, "owner": stored.owner,
                            "due": stored.due.isoformat() if stored.due else None, "priority": stored.priority}
    data.update(_work_item_data(stored))
    # a deduped item another journey opened: this one is bound to it, and says so
    kind = "task" if stored.id == record.id else "task_updated"
    if kind == "task_updated":
        data.pop("checklist", None)
    if p.sent_at is not None:
        data["sent_at"] = p.sent_at.isoformat()
    ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind=kind,
                                      data=data, key=p.key))
    return stored.id
