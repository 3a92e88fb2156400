"""Time-based triggers: fire those due in a window, and say when the next one is due.

Used by the scheduler workflow in production (a simulation's timeline fires them itself); the
routing core (`engine.routing.RoutingCore`) fires them and starts their journeys. The
scheduler's progress is kept in the store (`cursor`): a scheduler started after downtime, or for
the first time on a store that already holds accounts, catches up from there; the journeys of
triggers fired late skip the steps past by more than the trigger horizon.
"""

from __future__ import annotations

from activities.context import ActivityContext
from engine.routing import RoutingCore
from engine.workflows.timeline import DueParams, NextDue, NextDueParams

__all__ = ["SCHEDULER_CURSOR", "next_due", "run_due", "scheduler_cursor"]

SCHEDULER_CURSOR = "scheduler"


async def run_due(p: DueParams, ctx: ActivityContext) -> int:
    core = RoutingCore(ctx.reads, ctx.bundle, ctx.starter, horizon=ctx.starter.horizon)
    fired = await core.fire_due(p.after, p.until, p.clock_offset_seconds)
    ctx.store.set_cursor(SCHEDULER_CURSOR, p.until)
    return fired


async def next_due(p: NextDueParams, ctx: ActivityContext) -> NextDue:
    return NextDue(at=RoutingCore(ctx.reads, ctx.bundle, ctx.starter).next_due(p.after))


async def scheduler_cursor(p: NextDueParams, ctx: ActivityContext) -> NextDue:
    """Where the scheduler stopped last (None: it never ran on this store); `p.after` is unused."""
    return NextDue(at=ctx.store.cursor(SCHEDULER_CURSOR))
