"""A success plan's progress, as the journey watching it reports it: logged, and a milestone reached
or a status changed also stored as an event (`milestone_reached`, `plan_status_changed`) and
routed like any input, so playbooks trigger on it (`trigger: event plan_status_changed where
plan == "onboarding" and status == "stuck"`)."""

from __future__ import annotations

from activities.context import ActivityContext
from engine.records import ActionRecord
from engine.routing import RoutingCore
from engine.workflows.payloads import PlanParams

__all__ = ["plan_progress"]

# What each report is logged as, and the event it is routed as, if any.
KINDS = {"started": "plan_started", "reached": "milestone_reached", "late": "milestone_late",
         "status": "plan_status_changed", "ended": "plan_ended"}
EVENTS = {"reached": "milestone_reached", "status": "plan_status_changed"}


async def plan_progress(p: PlanParams, ctx: ActivityContext) -> None:
    data = {"plan": p.plan, **p.data}
    logged = ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind=KINDS[p.what],
                                               data=data, key=p.key))
    event = EVENTS.get(p.what)
    if event is None or not logged:  # a retried report routed its event the first time
        return
    payload = {key: value for key, value in data.items() if key in ("plan", "milestone", "late", "status", "previous")}
    change = ctx.reads.add_change(p.account, p.at, event=event, data=payload, traits={}, event_id=p.key,
                                  source=f"playbook:{p.playbook}")
    if change is not None:
        for listener in ctx.change_listeners:
            listener([change])
        core = RoutingCore(ctx.reads, ctx.bundle, ctx.starter)
        await core.carry_out(core.route(change), p.clock_offset_seconds)
        ctx.store.mark_routed([change.seq], p.at)
