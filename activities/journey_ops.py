"""The journey's own bookkeeping: entering, reading the account, logging decisions, ending."""

from __future__ import annotations

from activities.context import ActivityContext
from engine.records import ActionRecord, Snapshot
from engine.snapshots import build_snapshot
from engine.workflows.messages import AgendaParams, DecisionBatch, EndParams, EnterParams, FailedParams, SnapshotParams

__all__ = ["end_journey", "enter_journey", "note_agenda", "record_decisions", "record_failure", "take_snapshot"]


async def enter_journey(p: EnterParams, ctx: ActivityContext) -> None:
    ctx.store.journey_entered(p.workflow_id, p.run_id, p.playbook, p.account, p.version, p.at)
    ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="enrolled",
                                      data={"reason": p.reason, "version": p.version}, key=p.key))


async def end_journey(p: EndParams, ctx: ActivityContext) -> None:
    ctx.store.journey_ended(p.workflow_id, p.run_id, p.at, p.status, p.reason)
    data = {"reason": p.reason} if p.status in ("exited", "goal_reached") else {}
    ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind=p.status,
                                      data=data, key=p.key))


async def note_agenda(p: AgendaParams, ctx: ActivityContext) -> None:
    agenda = ctx.starter.agenda
    if agenda is None:
        return
    if p.at is None:
        agenda.pop(p.workflow_id, None)
    else:
        agenda[p.workflow_id] = p.at


async def take_snapshot(p: SnapshotParams, ctx: ActivityContext) -> Snapshot:
    tasks = {task_id: task for task_id in p.task_ids if (task := ctx.store.task(task_id)) is not None}
    return build_snapshot(ctx.store, ctx.bundle, p.account, p.at, tasks=tasks)


async def record_decisions(p: DecisionBatch, ctx: ActivityContext) -> None:
    for decision, key in zip(p.decisions, p.keys, strict=True):
        ctx.store.log_action(ActionRecord(
            at=decision.at, account=decision.account, playbook=decision.playbook, kind="decided",
            data={"what": decision.what, "detail": decision.detail, "reads": decision.reads}, key=key))


async def record_failure(p: FailedParams, ctx: ActivityContext) -> None:
    ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="failed",
                                      data={"step": p.step, "error": p.error}, key=p.key))
