"""The journey's own bookkeeping: entering, reading the account, noting decisions, ending.

These run as local activities of the journey workflow, each one short and idempotent by key.
A simulation's timeline also learns here when each journey next acts (`ctx.starter.agenda`).
"""

from __future__ import annotations

from activities.context import ActivityContext
from engine.records import ActionRecord, Decision, Snapshot
from engine.store.snapshots import build_snapshot
from engine.workflows.payloads import EndParams, EnterParams, EnterResult, FailedParams, NoteParams, SnapshotParams

__all__ = ["end_journey", "enter_journey", "log_decisions", "note_journey", "record_failure", "take_snapshot"]


async def enter_journey(p: EnterParams, ctx: ActivityContext) -> EnterResult:
    """Record the entry and answer with the account as of it and how the journey's activities run
    (in one transaction on SQLite)."""
    with ctx.store.database.batch():
        ctx.reads.journey_entered_logged(
            p.workflow_id, p.run_id, p.playbook, p.account, p.version, p.at,
            ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="enrolled",
                         data={"reason": p.reason, "version": p.version}, key=p.key))
        snapshot = ctx.snapshots.keep(build_snapshot(ctx.reads, ctx.bundle, p.account, p.at))
    options = {name: ctx.options[name] for name in p.activities if name in ctx.options}
    return EnterResult(snapshot=snapshot, options=options, end_with_last_effect=True, in_app_runs=True)


async def note_journey(p: NoteParams, ctx: ActivityContext) -> None:
    """Log the decisions; in a simulation, note when the journey next acts."""
    log_decisions(ctx, p.decisions, p.keys)
    agenda = ctx.starter.agenda
    if p.plan and agenda is not None:
        agenda.note(p.workflow_id, p.account, p.plan)


async def end_journey(p: EndParams, ctx: ActivityContext) -> None:
    """Log the last decisions and record the end, in one transaction."""
    data = {"reason": p.reason} if p.status in ("exited", "goal_reached") else {}
    ctx.reads.journey_ended_logged(
        p.workflow_id, p.run_id, p.at, p.status, p.reason, _decided(p.decisions, p.keys),
        ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind=p.status, data=data, key=p.key))
    if ctx.starter.agenda is not None:
        ctx.starter.agenda.drop(p.workflow_id)


async def take_snapshot(p: SnapshotParams, ctx: ActivityContext) -> Snapshot:
    tasks = {task_id: task for task_id in p.task_ids if (task := ctx.store.task(task_id)) is not None}
    return ctx.snapshots.keep(build_snapshot(ctx.reads, ctx.bundle, p.account, p.at, tasks=tasks))


async def record_failure(p: FailedParams, ctx: ActivityContext) -> None:
    data: dict[str, object] = {"step": p.step, "error": p.error}
    if p.activity:
        data["activity"] = p.activity
    if p.attempts is not None:
        data["attempts"] = p.attempts
    ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="failed",
                                      data=data, key=p.key))


def log_decisions(ctx: ActivityContext, decisions: list[Decision], keys: list[str]) -> None:
    """Log a journey's decisions (kind `decided`), once each by key, in one transaction."""
    if decisions:
        ctx.store.log_actions(_decided(decisions, keys))


def _decided(decisions: list[Decision], keys: list[str]) -> list[ActionRecord]:
    return [ActionRecord(at=decision.at, account=decision.account, playbook=decision.playbook, kind="decided",
                         data=decision.logged(), key=key)
            for decision, key in zip(decisions, keys, strict=True)]
