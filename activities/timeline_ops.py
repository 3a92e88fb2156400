"""The activity of a simulation's timeline: take the timeline's events and time triggers up to a
moment, and say what comes next.

The timeline's events stay in the simulating process (`TimelineFeed`), so the workflow's input
holds only times, whatever the size of the timeline.

Taking moments ahead. After the moment it was woken for, `advance` goes on with the following
moments of the timeline while that cannot change the outcome: no journey acts before the next
moment (journeys report when they next act: `JourneyStarter.agenda`), no time trigger is due
before it, no new version is deployed before it, and the moments taken so far started or
signalled no journey. Events are stored with their own times and every read is "as of" a time,
so a moment taken ahead is routed exactly as it would have been at its time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from activities.context import ActivityContext
from dsl import ir
from engine.ingestion import Ingestor
from engine.records import IngestResult, Rejection
from engine.router import Router
from engine.time_index import TimeIndex
from engine.workflows.timeline import AdvanceParams, TimelineNext

__all__ = ["TimelineFeed", "advance"]


@dataclass
class TimelineFeed:
    """The timeline's lines grouped by their time, in file order within a moment."""

    lines: dict[datetime, list[tuple[int, str]]] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    results: list[IngestResult] = field(default_factory=list)
    deploys: list[tuple[datetime, ir.Bundle]] = field(default_factory=list)  # (from when, new bundle)
    pending: list[datetime] = field(default_factory=list)  # moments not taken yet, in order
    due_cursor: datetime | None = None  # time triggers have fired up to here
    index: TimeIndex | None = None
    steps: int = 0
    moments_ahead: int = 0

    def add(self, at: datetime, line_number: int, line: str) -> None:
        self.lines.setdefault(at, []).append((line_number, line))

    def times(self) -> list[datetime]:
        return sorted(self.lines)

    def ready(self) -> None:
        self.pending = sorted(set(self.lines) | {at for at, _ in self.deploys})


def _feed(ctx: ActivityContext) -> TimelineFeed:
    feed = ctx.extras.get("timeline")
    if not isinstance(feed, TimelineFeed):
        raise RuntimeError("this worker runs no simulation timeline")
    return feed


def _index(ctx: ActivityContext, feed: TimelineFeed) -> TimeIndex:
    if feed.index is None:
        feed.index = TimeIndex(ctx.store, ctx.bundle)
    return feed.index


def _deploy(ctx: ActivityContext, feed: TimelineFeed, moment: datetime) -> None:
    while feed.deploys and feed.deploys[0][0] <= moment:
        ctx.bundle = feed.deploys.pop(0)[1]
        feed.index = None  # the new version may have other time triggers


async def _take(ctx: ActivityContext, feed: TimelineFeed, moment: datetime, offset: float) -> bool:
    """Store and route the events of one moment; True when that started or signalled a journey."""
    _deploy(ctx, feed, moment)
    parsed: list[Any] = [(number, json.loads(text)) for number, text in feed.lines.get(moment, [])]
    result = Ingestor(ctx.store, ctx.bundle.model).ingest_parsed(parsed, now=moment)
    feed.results.append(result)
    feed.rejected.extend(result.rejected)
    router = Router(ctx.store, ctx.bundle)
    acted = False
    for change in result.accepted:
        routed = router.route(change)
        acted = acted or bool(routed.intents)
        await ctx.starter.execute(ctx.bundle, routed.intents, offset)
    ctx.store.mark_routed([change.seq for change in result.accepted], moment)
    _index(ctx, feed).note(result.accepted)
    return acted


async def _fire_due(ctx: ActivityContext, feed: TimelineFeed, until: datetime, offset: float) -> bool:
    after = feed.due_cursor
    feed.due_cursor = until
    if after is None:
        return False
    index = _index(ctx, feed)
    due = index.next_due(after)
    if due is None or due > until:
        return False
    routed = Router(ctx.store, ctx.bundle).due(after, until, accounts=index.due_accounts(until))
    await ctx.starter.execute(ctx.bundle, routed.intents, offset)
    return bool(routed.intents)


async def advance(p: AdvanceParams, ctx: ActivityContext) -> TimelineNext:
    feed = _feed(ctx)
    feed.steps += 1
    if feed.due_cursor is None:
        feed.due_cursor = p.moment
    acted = False
    while feed.pending and feed.pending[0] <= p.moment:
        acted = await _take(ctx, feed, feed.pending.pop(0), p.clock_offset_seconds) or acted
    acted = await _fire_due(ctx, feed, p.moment, p.clock_offset_seconds) or acted
    while not acted and feed.pending and feed.pending[0] <= p.end:
        moment = feed.pending[0]
        limits = [ctx.starter.horizon(), _index(ctx, feed).next_due(feed.due_cursor or p.moment)]
        if any(limit is not None and limit <= moment for limit in limits):
            break
        feed.pending.pop(0)
        feed.moments_ahead += 1
        feed.due_cursor = moment
        acted = await _take(ctx, feed, moment, p.clock_offset_seconds)
    cursor = feed.due_cursor or p.moment
    return TimelineNext(event_at=feed.pending[0] if feed.pending else None,
                        due_at=_index(ctx, feed).next_due(cursor))
