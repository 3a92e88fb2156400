"""The activity of a simulation's timeline: take the timeline's events and time triggers up to a
moment, and ahead of it account by account; say what comes next.

The timeline's events stay in the simulating process (`TimelineFeed`), so the workflow's input
holds only times, whatever the size of the timeline.

Accounts go their own ways. Everything routing reads or writes belongs to one account (its
fields, events, scores, condition states, tasks and journeys), and so does everything its
journeys read, so the timeline keeps one cursor per account. At the moment it was woken for,
`advance` takes every account's events and time triggers due then; then, for each account, it
goes on with the account's next ones while that cannot change the outcome:

- no journey of the account acts before them (journeys report when they next act:
  `JourneyStarter.agenda`), and nothing taken in this step started or signalled one of its
  journeys (that journey has yet to react);
- no new version is deployed before them, and no event whose effect reaches other accounts
  (`unsubscribed`, `bounced`: the suppression list) comes before them; those are taken only at
  their own moment, with every account's earlier events taken.

Events are stored with their own times and every read is "as of" a time, so an event taken
ahead is routed exactly as it would have been at its time. Each round takes at most one moment
per account and stores and routes the round's events in one transaction.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from activities.context import ActivityContext
from dsl import ir
from engine.intake.ingestion import Ingestor
from engine.records import Change, IngestResult, Intent, Rejection
from engine.routing import RoutingCore
from engine.routing.time_index import TimeIndex
from engine.workflows.timeline import AdvanceParams, TimelineNext

__all__ = ["REACHING_EVENTS", "TimelineFeed", "Unit", "advance"]

# Events whose effect reaches other accounts: the address goes on the suppression list.
REACHING_EVENTS = frozenset({"unsubscribed", "bounced"})
BATCH = 5000  # objects per ingestion transaction


@dataclass
class Unit:
    """One account's lines at one moment, in file order."""

    at: datetime
    account: str
    lines: list[tuple[int, str]] = field(default_factory=list)
    undated: bool = False  # some line has no `at`: it happens at the start
    reaches_others: bool = False
    shapes: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)  # (event, traits) a line


@dataclass
class _Item:
    """An account's next thing to take: a moment of its events, its time triggers, or both."""

    account: str
    at: datetime
    unit: Unit | None  # None: only time triggers
    due: bool  # fire the account's time triggers up to `at` (after the unit's events, if any)


@dataclass
class TimelineFeed:
    """The timeline's lines by account and moment, and how far each account has been taken."""

    units: dict[str, deque[Unit]] = field(default_factory=dict)  # per account, in time order
    rejected: list[Rejection] = field(default_factory=list)
    results: list[IngestResult] = field(default_factory=list)
    deploys: list[tuple[datetime, ir.Bundle]] = field(default_factory=list)  # (from when, new bundle)
    barriers: list[datetime] = field(default_factory=list)  # moments of events reaching other accounts
    index: TimeIndex | None = None
    core: RoutingCore | None = None  # routes through the simulation's cache of accounts (`ActivityContext.reads`)
    due_after: dict[str, datetime] = field(default_factory=dict)  # time triggers fired up to here
    first: datetime | None = None  # the moment of the first step
    journeys_before: bool | None = None  # the store held journeys before the simulation began
    steps: int = 0
    taken_ahead: int = 0  # moments of an account taken before the clock reached them
    # Each account's next item, kept from step to step: after the first step only the accounts
    # taken, and those whose fields changed in between (`dirty`: a journey's `set`), are looked at again.
    heads: dict[str, _Item] | None = None
    dirty: set[str] = field(default_factory=set)
    _moments: Counter[datetime] = field(default_factory=Counter)  # units left per moment
    _pending: dict[tuple[datetime, str], Unit] = field(default_factory=dict)

    def add(self, at: datetime, line_number: int, line: str, account: str = "", *, dated: bool = True,
            reaches_others: bool = False, event: str | None = None, traits: tuple[str, ...] | None = None) -> None:
        """One line of the timeline; `event` and `traits` (its event and trait names, None: not known)
        let the timeline see that routing the line can start or signal nothing."""
        unit = self._pending.get((at, account))
        if unit is None:
            unit = self._pending[(at, account)] = Unit(at=at, account=account)
        unit.lines.append((line_number, line))
        unit.shapes.append((event, traits) if traits is not None else ("task_completed", ()))
        unit.undated = unit.undated or not dated
        unit.reaches_others = unit.reaches_others or reaches_others

    def times(self) -> list[datetime]:
        return sorted({at for at, _ in self._pending} | {unit.at for queue in self.units.values() for unit in queue})

    def ready(self) -> None:
        for (at, account), unit in sorted(self._pending.items()):
            self.units.setdefault(account, deque()).append(unit)
            self._moments[at] += 1
            if unit.reaches_others:
                self.barriers.append(at)
        self._pending.clear()
        self.barriers.sort()

    def account_lines(self, *, reaching: bool = False) -> dict[str, list[str]]:
        """Each account's raw lines not taken yet (with `reaching`: only those of units holding an
        event that reaches other accounts)."""
        found: dict[str, list[str]] = {}
        units = [*self._pending.values(), *(unit for queue in self.units.values() for unit in queue)]
        for unit in units:
            if reaching and not unit.reaches_others:
                continue
            found.setdefault(unit.account, []).extend(text for _, text in unit.lines)
        return found

    def line_counts(self) -> dict[str, int]:
        """How many lines each account has not had taken yet."""
        counts: Counter[str] = Counter()
        for unit in [*self._pending.values(), *(unit for queue in self.units.values() for unit in queue)]:
            counts[unit.account] += len(unit.lines)
        return dict(counts)

    def split(self, shards: list[list[str]]) -> list[TimelineFeed]:
        """One feed per shard of accounts, each with the deploys; nothing taken yet (before `ready`)."""
        if self.units:
            raise RuntimeError("a timeline splits before it is taken")
        shard_of = {account: index for index, accounts in enumerate(shards) for account in accounts}
        parts = [TimelineFeed(deploys=list(self.deploys)) for _ in shards]
        for key, unit in self._pending.items():
            parts[shard_of[unit.account]]._pending[key] = unit
        return parts

    def note_dirty(self, changes: Iterable[Change]) -> None:
        """Changes stored between steps (a journey's `set`): their accounts' next items are read again."""
        self.dirty.update(change.account for change in changes)

    def moments_left(self) -> int:
        """The timeline's moments with lines not taken yet."""
        return len(self._moments)

    def taken(self, unit: Unit) -> None:
        self.units[unit.account].popleft()
        self._moments[unit.at] -= 1
        if not self._moments[unit.at]:
            del self._moments[unit.at]
        if unit.reaches_others:
            self.barriers.remove(unit.at)

    def barrier(self) -> datetime | None:
        """Nothing at or after this moment is taken ahead: a deploy, or an event reaching others."""
        return min(self.barriers[:1] + [at for at, _ in self.deploys[:1]], default=None)


def _feed(ctx: ActivityContext) -> TimelineFeed:
    feed = ctx.extras.get("timeline")
    if not isinstance(feed, TimelineFeed):
        raise RuntimeError("this worker runs no simulation timeline")
    return feed


class _Step:
    """One step of the timeline: the moment it was woken for, then each account ahead of it."""

    def __init__(self, ctx: ActivityContext, feed: TimelineFeed, moment: datetime, end: datetime,
                 offset: float) -> None:
        self.ctx, self.feed, self.moment, self.end, self.offset = ctx, feed, moment, end, offset
        if feed.index is None:
            feed.index = TimeIndex(ctx.store, ctx.bundle)
            ctx.change_listeners.append(feed.index.note)
            feed.heads = None
        if feed.note_dirty not in ctx.change_listeners:
            ctx.change_listeners.append(feed.note_dirty)
        if feed.core is None:
            feed.core = RoutingCore(ctx.reads, ctx.bundle, ctx.starter,
                                    journeys_of_bundle=_journeys_of_bundle(ctx, feed), horizon=ctx.starter.horizon)
        self.index, self.core = feed.index, feed.core
        self.acted: set[str] = set()  # accounts whose journeys were started or signalled in this step
        self.heads: dict[str, _Item] = {}  # each account's next item
        self.barrier: datetime | None = None  # taking ahead stops here (`TimelineFeed.barrier`)

    def accounts(self) -> set[str]:
        return set(self.feed.units) | self.index.accounts()

    def next_item(self, account: str, skip: int = 0, after: datetime | None = None) -> _Item | None:
        """The account's next item: its next moment of events (the `skip`-th still to take) or its
        next time trigger after `after` (by default, after those fired), whichever comes first."""
        queue = self.feed.units.get(account)
        unit = queue[skip] if queue and skip < len(queue) else None
        if after is None:
            after = self.feed.due_after.get(account, self.feed.first or self.moment)
        due = self.index.next_for(account, after)
        if unit is not None and (due is None or unit.at <= due):
            item = _Item(account, unit.at, unit, due == unit.at)
        elif due is not None:
            item = _Item(account, due, None, True)
        else:
            return None
        return item if item.at <= self.end else None

    def ahead(self, item: _Item) -> bool:
        """Whether the account's next item may be taken now, before the clock reaches it."""
        if item.account in self.acted:
            return False
        barrier = self.barrier
        if barrier is not None and item.at >= barrier:
            return False
        agenda = self.ctx.starter.agenda
        horizon = agenda.horizon(item.account, self.moment) if agenda is not None else None
        return horizon is None or item.at < horizon

    def routes_nothing(self, unit: Unit) -> bool:
        """Routing the unit can start or signal no journey, and changes no date field or time zone."""
        return not unit.reaches_others and all(
            self.core.routes_nothing(event, traits) and not self.index.watched & set(traits)
            for event, traits in unit.shapes)

    def run_of(self, first: _Item, may: Callable[[_Item], bool]) -> list[_Item]:
        """The account's items to take in one round: the first, and the next ones while those before
        them can start or signal nothing (so nothing of the account can change in between)."""
        items = [first]
        while (last := items[-1]).unit is not None and not last.due and self.routes_nothing(last.unit):
            following = self.next_item(first.account, skip=len(items), after=last.at)
            if following is None or following.unit is None or not may(following):
                break
            items.append(following)
        return items

    async def run(self) -> None:
        feed = self.feed
        if feed.heads is None:
            feed.heads = {account: item for account in self.accounts() if (item := self.next_item(account))}
        else:
            for account in feed.dirty:
                head = self.next_item(account)
                if head is None:
                    feed.heads.pop(account, None)
                else:
                    feed.heads[account] = head
        feed.dirty.clear()
        self.heads = feed.heads

        # The moment itself: every account's events and time triggers due by then.
        def now(item: _Item) -> bool:
            return item.at <= self.moment

        await self.rounds(now)
        # Ahead of it: each account as far as nothing can overtake it. Nothing taken ahead reaches
        # other accounts, so the barrier stays where it is until the next step.
        self.barrier = self.feed.barrier()
        self.feed.taken_ahead += await self.rounds(self.ahead)

    async def rounds(self, may: Callable[[_Item], bool]) -> int:
        """Take rounds of items `may` allows, until no account has one; the number of items taken."""
        heads = self.heads
        accounts = sorted(account for account, item in heads.items() if may(item))
        taken = 0
        while accounts:
            items = [item for account in accounts for item in self.run_of(heads[account], may)]
            await self.take(items)
            taken += len(items)
            accounts = []
            for account in sorted({item.account for item in items}):
                head = self.next_item(account)
                if head is None:
                    heads.pop(account, None)
                    continue
                heads[account] = head
                if may(head):
                    accounts.append(account)
        return taken

    async def take(self, items: list[_Item]) -> None:
        """Store and route one round: one item per account. The routing core reads through the
        simulation's cache of accounts; the journeys are started and signalled once all is routed."""
        units = sorted((item.unit for item in items if item.unit is not None), key=lambda u: (u.at, u.lines[0][0]))
        intents: dict[str, list[Intent]] = {}
        due_after = self.feed.due_after
        # One transaction for the round's storing and routing (nothing in it waits).
        with self.ctx.store.database.batch():
            changes = self._ingest(units)
            with self.core.run(changes, accounts=[item.account for item in items]):
                for change in changes:
                    intents.setdefault(change.account, []).extend(self.core.route(change))
                for item in items:  # each account's in order
                    if item.due:
                        start = due_after.get(item.account, self.feed.first or self.moment)
                        intents.setdefault(item.account, []).extend(
                            self.core.due(start, item.at, accounts=[item.account]))
                    due_after[item.account] = item.at
            self.ctx.store.mark_routed_each([(change.seq, change.at) for change in changes])
        self.index.note(changes)
        for unit in units:
            self.feed.taken(unit)
        acting = {account: found for account, found in intents.items() if found}
        self.acted.update(acting)
        await asyncio.gather(*(self.core.carry_out(found, self.offset) for _, found in sorted(acting.items())))

    def _ingest(self, units: list[Unit]) -> list[Change]:
        """Store the units' lines (those without `at` at their unit's moment), in step with the
        simulation's cache of accounts; the accepted changes."""
        ingestor = Ingestor(self.ctx.store, self.ctx.bundle.model, batch_size=BATCH)
        changes: list[Change] = []
        groups: dict[datetime, list[Any]] = {}
        for unit in units:  # each arrives at its moment (a line's `received_at`, else its `at`)
            group = groups.setdefault(unit.at, [])
            group.extend((number, json.loads(text)) for number, text in unit.lines)
        for moment, parsed in groups.items():
            result = ingestor.ingest_parsed(parsed, now=moment, horizon=self.ctx.starter.horizon)
            self.feed.results.append(result)
            self.feed.rejected.extend(result.rejected)
            self.core.cache.changes_stored(result.accepted)
            changes.extend(result.accepted)
        return changes


def _journeys_of_bundle(ctx: ActivityContext, feed: TimelineFeed) -> bool:
    """Whether every journey that may be running belongs to one of the bundle's playbooks: none was
    in the store before the simulation, and each one it started is of a playbook still deployed."""
    if feed.journeys_before is None:
        feed.journeys_before = bool(ctx.store.journeys())
    started = {workflow_id.split("/")[1] for workflow_id, _ in ctx.starter.started}
    return not feed.journeys_before and started <= set(ctx.bundle.playbooks)


def _deploy(ctx: ActivityContext, feed: TimelineFeed, moment: datetime) -> None:
    while feed.deploys and feed.deploys[0][0] <= moment:
        ctx.bundle = feed.deploys.pop(0)[1]
        if feed.index is not None and feed.index.note in ctx.change_listeners:
            ctx.change_listeners.remove(feed.index.note)
        feed.index = None  # the new version may have other time triggers
        feed.core = None


def _upcoming(step: _Step) -> TimelineNext:
    """The next moment with events (or a deploy), and the next time trigger, over all accounts
    (those the timeline's end does not reach are left out)."""
    heads = step.heads.values()
    events = [item.at for item in heads if item.unit is not None] + [at for at, _ in step.feed.deploys[:1]]
    dues = [item.at for item in heads if item.unit is None or item.due]
    return TimelineNext(event_at=min(events, default=None), due_at=min(dues, default=None))


async def advance(p: AdvanceParams, ctx: ActivityContext) -> TimelineNext:
    feed = _feed(ctx)
    feed.steps += 1
    if feed.first is None:
        feed.first = p.moment
    _deploy(ctx, feed, p.moment)
    step = _Step(ctx, feed, p.moment, p.end, p.clock_offset_seconds)
    await step.run()
    return _upcoming(step)
