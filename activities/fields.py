"""`set FIELD = EXPR` and `update score S`: changes a playbook makes to the account itself.

A change made by a playbook goes through the same path as one that arrives from outside: it is
stored (with the playbook as its source), then routed by the routing core, so it can trigger
other playbooks.
"""

from __future__ import annotations

from activities.context import ActivityContext
from engine.records import ActionRecord
from engine.routing import RoutingCore
from engine.semantics.values import coerce
from engine.workflows.payloads import ScoreParams, SetParams

__all__ = ["set_field", "update_score"]


async def set_field(p: SetParams, ctx: ActivityContext) -> None:
    declared = ctx.bundle.model.fields.get(p.field)
    value = coerce(p.value, declared) if declared is not None else p.value
    change = ctx.reads.add_change(p.account, p.at, event=None, data={}, traits={p.field: value},
                                  event_id=p.key, source=f"playbook:{p.playbook}")
    ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind="set",
                                      data={"field": p.field, "value": value}, key=p.key))
    if change is not None:
        for listener in ctx.change_listeners:
            listener([change])
        core = RoutingCore(ctx.reads, ctx.bundle, ctx.starter)
        await core.carry_out(core.route(change), p.clock_offset_seconds)
        ctx.store.mark_routed([change.seq], p.at)


async def update_score(p: ScoreParams, ctx: ActivityContext) -> None:
    core = RoutingCore(ctx.reads, ctx.bundle, ctx.starter)
    await core.carry_out(core.rescore(p.account, p.at, only=p.score), p.clock_offset_seconds)
