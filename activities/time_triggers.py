"""Time-based triggers: fire those due in a window, and say when the next one is due.

Used by the scheduler workflow in production and by the timeline workflow in simulations.
"""

from __future__ import annotations

from activities.context import ActivityContext
from engine.router import Router
from engine.workflows.timeline import DueParams, NextDue, NextDueParams

__all__ = ["next_due", "run_due"]


async def run_due(p: DueParams, ctx: ActivityContext) -> int:
    routed = Router(ctx.store, ctx.bundle).due(p.after, p.until)
    await ctx.starter.execute(ctx.bundle, routed.intents, p.clock_offset_seconds)
    return len(routed.intents)


async def next_due(p: NextDueParams, ctx: ActivityContext) -> NextDue:
    return NextDue(at=Router(ctx.store, ctx.bundle).next_due(p.after))
