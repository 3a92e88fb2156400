"""The activity of a simulation's timeline: ingest the events of one moment, and route them.

The timeline's events stay in the simulating process (`TimelineFeed`), so the workflow's input
holds only their times, whatever the size of the timeline.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from activities.context import ActivityContext
from dsl import ir
from engine.ingestion import Ingestor
from engine.records import IngestResult, Rejection
from engine.router import Router
from engine.workflows.timeline import IngestAtParams

__all__ = ["TimelineFeed", "ingest_moment"]


@dataclass
class TimelineFeed:
    """The timeline's lines grouped by their time, in file order within a moment."""

    lines: dict[datetime, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    rejected: list[Rejection] = field(default_factory=list)
    results: list[IngestResult] = field(default_factory=list)
    deploys: list[tuple[datetime, ir.Bundle]] = field(default_factory=list)  # (from when, new bundle)

    def add(self, at: datetime, line_number: int, line: str) -> None:
        self.lines[at].append((line_number, line))

    def times(self) -> list[datetime]:
        return sorted(self.lines)


def _feed(ctx: ActivityContext, at: datetime) -> TimelineFeed:
    """The timeline, after deploying any new version of the playbooks due by `at`."""
    feed = ctx.extras.get("timeline")
    if not isinstance(feed, TimelineFeed):
        raise RuntimeError("this worker runs no simulation timeline")
    while feed.deploys and feed.deploys[0][0] <= at:
        ctx.bundle = feed.deploys.pop(0)[1]
    return feed


async def ingest_moment(p: IngestAtParams, ctx: ActivityContext) -> int:
    feed = _feed(ctx, p.at)
    numbered = feed.lines.get(p.at, [])
    parsed = [(number, json.loads(text)) for number, text in numbered]
    result = Ingestor(ctx.store, ctx.bundle.model).ingest_parsed(parsed, now=p.at)
    feed.results.append(result)
    feed.rejected.extend(result.rejected)
    router = Router(ctx.store, ctx.bundle)
    for change in result.accepted:
        routed = router.route(change)
        await ctx.starter.execute(ctx.bundle, routed.intents, p.clock_offset_seconds)
    ctx.store.mark_routed([change.seq for change in result.accepted], p.at)
    return len(result.accepted)

