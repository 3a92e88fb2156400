"""The routing core: from stored changes and the passing of time to journeys started and signalled.

One `RoutingCore` owns the three parts every driver of routing needs, and nothing a driver
decides on its own (queues, retries, cursors, agendas):

- the `Router`, which holds the routing rules (`engine.routing.router`);
- the `AccountCache` it reads through (`engine.routing.account_cache`), whose lifetime the
  driver chooses: per run for live routing, for the whole simulation on a private store;
- the `JourneyStarter`, which carries the router's intents out on Temporal (`engine.routing.starter`);
- on a store shared with a scheduler (a per-run cache), the index of next-due moments
  (`engine.routing.due_index`): the changes it routes mark their accounts due, and the scheduler's
  `next_due` and `fire_due` read the accounts due from it.

Its drivers are the API's background router (`server/api/routing.py`), a simulation's
timeline (`activities/timeline_ops.py`), the scheduler's activity (`activities/time_triggers.py`)
and a playbook's own changes to an account (`activities/fields.py`).

Routing never reads a wall clock: a change is routed as of its own moment, a time trigger as of
its instant. Routing (`route`, `due`) and carrying out (`carry_out`) are separate steps, so that
a driver can keep its own bookkeeping in between: the API carries a run's intents out one by
one, marks what is done, and resumes where it stopped after Temporal was unavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from dsl import ir
from engine.records import Change, Intent
from engine.routing.account_cache import AccountCache, Lifetime
from engine.routing.due_index import DueIndex
from engine.routing.router import Router
from engine.routing.starter import JourneyStarter
from engine.semantics.time_rules import DEFAULT_HORIZON

__all__ = ["RoutingCore"]

log = logging.getLogger(__name__)

PASS_CHUNK = 500  # accounts due whose time triggers are fired together, then moved on


class RoutingCore:
    """Routes the changes and time triggers of one bundle through `cache`, and carries out the intents
    with `starter`. `journeys_of_bundle`: see `Router`."""

    def __init__(self, cache: AccountCache, bundle: ir.Bundle, starter: JourneyStarter, *,
                 journeys_of_bundle: bool = False, horizon: timedelta = DEFAULT_HORIZON,
                 spread: timedelta | None = None) -> None:
        self.cache = cache
        self.bundle = bundle
        self.starter = starter
        self.router = Router(cache, bundle, journeys_of_bundle=journeys_of_bundle, horizon=horizon, spread=spread)
        self.due_index = DueIndex(cache.store, self.router.time) if cache.lifetime is Lifetime.PER_RUN else None
        self._routed: list[Change] | None = None  # the changes routed in the run under way
        self._score_inputs = {name for model in bundle.scores.values() for name in model.inputs}
        # fields whose change moves a time trigger's instant
        self._time_fields = {"timezone"} | {
            playbook.trigger.field for playbook in bundle.playbooks.values()
            if isinstance(playbook.trigger, ir.DateTrigger)}

    # ------------------------------------------------------------------ routing

    @contextmanager
    def run(self, changes: Sequence[Change], accounts: Collection[str] = ()) -> Iterator[None]:
        """Around the routing of a run of stored changes (and time triggers of `accounts`): the cache
        reads ahead for the run's accounts at its start (score histories and condition states only
        for those whose changes move a score or concern a condition trigger), and a per-run cache
        forgets at its end.
        When reading ahead fails, the run is routed with reads going to the store."""
        involved = {change.account for change in changes} | set(accounts)
        try:
            scored = {change.account for change in changes if self._score_inputs & set(change.traits)}
            conditioned = {change.account for change in changes if self.router.evaluates_conditions(change)}
            self.cache.begin_run(involved, max((change.at for change in changes), default=None), changes, scored,
                                 conditioned)
        except SQLAlchemyError:
            self.cache.end_run()
            log.exception("cannot read ahead for a run; routing reads change by change")
        self._routed = []
        try:
            yield
        finally:
            self.cache.end_run()
            routed, self._routed = self._routed, None
            if self.due_index is not None:
                self.due_index.note(routed)

    def route(self, change: Change) -> list[Intent]:
        """The journeys one stored change starts or signals (scores and decisions are logged); the
        account is marked due in the index of next-due moments when the change moves its time
        triggers (at the end of the run, in a run)."""
        intents = list(self.router.route(change).intents)
        if self._routed is not None:
            self._routed.append(change)
        elif self.due_index is not None:
            self.due_index.note([change])
        return intents

    def route_run(self, changes: Sequence[Change]) -> list[list[Intent]]:
        """`route` for each change of a run, in order, in one transaction holding the write locks of
        the run's accounts (`Store.routing_batch`: on PostgreSQL, one statement takes them all):
        the intents of each."""
        accounts = {change.account for change in changes}
        with self.run(changes), self.cache.store.routing_batch(accounts), self.transaction():
            return [self.route(change) for change in changes]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Around routing changes: every write of theirs in one transaction, committed at the end
        (on SQLite, where each commit costs; `engine.store.database.Database.batch`), the account
        cards taking the scores recorded in it last (`AccountCache.flush_cards`). It holds the
        write lock throughout: keep what it surrounds short and free of waiting."""
        with self.cache.store.database.batch():
            try:
                yield
            except BaseException:
                self.cache.drop_writes()  # rolled back with the transaction, not written after it
                raise
            self.cache.flush_cards()

    def rescore(self, account: str, at: datetime, *, only: str | None = None) -> list[Intent]:
        """Recompute the account's scores (or only one) at `at` (`Router.rescore`): the journeys it starts."""
        return list(self.router.rescore(account, at, only=only).intents)

    def due(self, after: datetime, until: datetime, accounts: Iterable[str] | None = None) -> list[Intent]:
        """The journeys of time triggers due in (after, until] (for `accounts` only, when given)."""
        return list(self.router.due(after, until, accounts).intents)

    def next_due(self, after: datetime) -> datetime | None:
        """The earliest instant strictly after `after` at which `due` has something to evaluate
        (from the index of next-due moments, when there is one)."""
        if self.due_index is not None:
            return self.due_index.next_due(after)
        return self.router.next_due(after)

    def moves_time_triggers(self, changes: Iterable[Change]) -> bool:
        """Whether one of the changes moves a time trigger (a date field or the time zone changed):
        the scheduler, which sleeps until the next instant it knew of, should look again."""
        return any(self._time_fields & set(change.traits) for change in changes)

    def routes_nothing(self, event: str | None, fields: Iterable[str]) -> bool:
        """Whether a change with this event and these changed fields can start or signal nothing
        (`Router.routes_nothing`)."""
        return self.router.routes_nothing(event, fields)

    # ------------------------------------------------------------------ carrying out

    async def carry_out(self, intents: list[Intent], clock_offset_seconds: float | None = None) -> None:
        """Start and signal the journeys, in order; the starts Temporal refused (a journey already
        running) are not running for the router either."""
        self.router.refused(await self.starter.execute(self.bundle, intents, clock_offset_seconds))

    async def fire_due(self, after: datetime, until: datetime, clock_offset_seconds: float | None = None) -> int:
        """Start the journeys of the time triggers due in (after, until]: how many intents it had.
        With the index of next-due moments, only the accounts due by `until` are looked at, and
        are then moved to their next instant (after the journeys started: a retry sees them again)."""
        if self.due_index is None:
            intents = self.due(after, until)
            await self.carry_out(intents, clock_offset_seconds)
            return len(intents)
        rows = self.due_index.due_rows(until)
        count = 0
        for first in range(0, len(rows), PASS_CHUNK):  # a chunk at a time: a retry redoes one at most
            chunk = rows[first:first + PASS_CHUNK]
            intents = self.due(after, until, [row[0] for row in chunk])
            await self.carry_out(intents, clock_offset_seconds)
            self.due_index.advance(chunk, until)
            count += len(intents)
        return count

    async def wake_scheduler(self) -> None:
        """Tell the scheduler of time triggers to look again now (a date or a time zone changed)."""
        await self.starter.wake_scheduler()
