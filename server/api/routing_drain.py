"""The drain: the intents routing committed (`routing_intents`), carried out on Temporal after.

Routing (`server.api.routing`) commits each change's routing, the journeys' starts and signals
it produced and the change's mark `routed_at` in one transaction, and talks to no one. This task
of the API process then carries the committed intents out, oldest first, at the rate Temporal
takes them:

- in order per account (one account's intents one after the other; accounts side by side), at
  most `api_drain_in_flight` calls at once;
- the intents this process committed, and those committed before it started (a process stopped
  or killed before draining them): not those of another API process routing beside it
  (`engine.store.routing_queue.Drainer`);
- each intent marked drained once Temporal took it (the marks of a round committed together);
- when Temporal is unavailable (or slower than `routing_timeout_seconds`), the account's later
  intents wait, and the drain tries again after a pause that doubles from `retry_min_seconds` to
  `retry_max_seconds`, as routing did (`RoutingRecord`), however long the outage lasts;
- when Temporal refuses an intent for a reason that is not an outage (`refusal_of`: an invalid
  argument, a payload too large, a bug), that account's later intents wait and the intent is
  tried again after the same doubling pause, at most `REFUSALS` times in all; then it is *parked*
  (`engine.store.parked_intents`: kept with its error, not tried again), a decision in the
  account's log says so, and the account's later intents go on (`server.api.intent_refusals`, shared
  with routing shared by several processes). Other accounts never wait for it: a round's read
  leaves out the intents of the accounts held meanwhile, however many they are.

At-least-once: a process killed between Temporal's answer and the mark carries those intents out
again at its next start. A start carries its origin too (`StartJourney.origin`, in the journey's
input): one that may have been carried out already (committed before this drain started, or carried
out and not marked) is first looked up, and skipped when the latest journey under its id was
started by it (running, or ended already when the playbook allows re-entry); a signal carries its
origin (`JourneySignal.change`, `position`), and the journey ignores one at or before the last it
heard. Drained intents are kept an hour, then pruned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter
from sqlalchemy.exc import SQLAlchemyError

from engine.records import Intent, JourneySignal, StartJourney
from engine.routing import RoutingCore
from engine.store import Store
from engine.store.routing_queue import Drainer, StoredIntent
from server.api.intent_refusals import REFUSALS, Holds
from server.api.routing_status import (
    IntentRefused,
    RoutingRecord,
    RoutingStopped,
    refusal_of,
    stopped_by,
    store_stopped,
)
from server.web.limits import Limits

__all__ = ["REFUSALS", "Drain", "as_carried_out"]

log = logging.getLogger("playbook.api")

ROUND = 500  # intents read in one round
POLL_SECONDS = 1.0  # how often an idle drain looks at the store (other processes may commit intents)
PRUNE_EVERY, KEEP_DRAINED = 100, timedelta(hours=1)  # rounds between prunes; how long drained intents stay
_INTENT: TypeAdapter[Intent] = TypeAdapter(Intent)


def as_carried_out(stored: StoredIntent) -> Intent:
    """The intent as sent to Temporal: it carries its origin, so that a repeat is harmless."""
    intent = _INTENT.validate_python(stored.intent)
    if isinstance(intent, JourneySignal):
        return intent.model_copy(update={"change": stored.change, "position": stored.position})
    return intent.model_copy(update={"origin": f"{stored.change}/{stored.position}"})


class Drain:
    def __init__(self, store: Store, core: RoutingCore, limits: Limits, *, in_flight: int,
                 drainer: Drainer | None = None) -> None:
        self.store = store
        # whose intents: this process's and those committed before it started (None: everyone's)
        self.drainer = drainer
        self.core = core
        self.limits = limits
        self.in_flight = max(1, in_flight)
        self.record = RoutingRecord()  # `routed`: intents carried out by this process
        self.backlog = 0  # intents waiting, as last counted (plus those committed since)
        self.oldest: datetime | None = None  # when the oldest waiting intent was committed
        self.wake = asyncio.Event()
        self.progress = asyncio.Event()
        self._wake_scheduler = False
        self._rounds = 0
        self._commits = 0  # calls of `committed`: a count read meanwhile is already out of date
        self.counted = False  # the backlog counted in the store once (at start it is not known yet)
        self.parked = 0  # intents parked (refused too often), as last counted
        self.holds = Holds(limits)  # accounts whose refused intent waits for its next try
        # intents committed before this drain, or carried out and not marked, may have been carried out
        self._since = datetime.now(UTC) if drainer is None else drainer.started_at
        self._unmarked: set[int] = set()

    def committed(self, count: int, at: datetime, *, moves_time_triggers: bool) -> None:
        """Routing committed `count` intents at `at` (and maybe moved a time trigger): drain them."""
        self._commits += 1
        self.backlog += count
        if count and self.oldest is None:
            self.oldest = at
        self._wake_scheduler = self._wake_scheduler or moves_time_triggers
        if count or moves_time_triggers:
            self.wake.set()

    def renew(self) -> None:
        """The primitives of the running event loop (a test client's own loop per request)."""
        self.wake, self.progress = asyncio.Event(), asyncio.Event()
        self.wake.set()

    def oldest_age_seconds(self) -> float | None:
        if not self.backlog or self.oldest is None:
            return None
        return round(max(0.0, (datetime.now(UTC) - self.oldest).total_seconds()), 3)

    async def serve(self) -> None:
        """Drain until cancelled: a round, then the next, or a wait for routing to commit more."""
        pause = self.limits.retry_min_seconds
        await self._count()  # what an earlier process committed and did not drain
        while True:
            try:
                done = await self.round()
            except RoutingStopped as stopped:
                if self.record.failed(stopped.reason, pause):
                    log.warning("the drain to Temporal stopped, %d intent(s) wait: %s; retrying in %g s",
                                self.backlog, stopped.reason, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.limits.retry_max_seconds)
                continue
            except Exception:  # a bug: keep the drain alive, say so loudly
                log.exception("the drain failed; retrying in %g s", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.limits.retry_max_seconds)
                continue
            if self.record.failing_since is not None:
                log.info("the drain resumed after failing since %s", self.record.failing_since.isoformat())
            self.record.failing_since = self.record.next_retry_at = None
            pause = self.limits.retry_min_seconds
            if done:
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), POLL_SECONDS)

    async def round(self) -> int:
        """Carry out the oldest waiting intents, in order per account: how many (0: none waited).
        Raises `RoutingStopped` when some could not be, after marking those that were."""
        if self._wake_scheduler:
            await self._call(None)
            self._wake_scheduler = False
        try:
            found = await asyncio.to_thread(self.store.undrained, self.drainer, ROUND, skip=self.holds.accounts())
        except SQLAlchemyError as error:
            raise store_stopped(error) from error
        if not found:
            await self._count()
            return 0
        by_account: dict[str, list[StoredIntent]] = {}
        for stored in found:
            by_account.setdefault(stored.account, []).append(stored)
        slots = asyncio.Semaphore(self.in_flight)
        drained: list[int] = []
        failures: list[RoutingStopped] = []

        async def account_in_order(intents: list[StoredIntent]) -> None:
            for stored in intents:
                async with slots:
                    try:
                        await self._call(as_carried_out(stored), repeated=self._maybe_repeated(stored))
                    except RoutingStopped as stopped:
                        failures.append(stopped)
                        return  # the account's later intents wait: they come after it
                    except IntentRefused as refused:
                        if not await self._refused(stored, refused.reason):
                            return  # tried again after a pause; the account's later intents wait
                        continue  # parked: the account's later intents go on
                self.holds.release(stored.account)
                drained.append(stored.id)

        await asyncio.gather(*(account_in_order(intents) for intents in by_account.values()))
        try:
            await asyncio.to_thread(self.store.mark_drained, drained, datetime.now(UTC))
        except SQLAlchemyError as error:  # carried out, not marked: carried out again, which is harmless
            self._unmarked.update(drained)
            raise store_stopped(error) from error
        self._unmarked.difference_update(drained)
        self.record.routed += len(drained)
        if drained:
            self.record.last_routed_at = datetime.now(UTC)
        await self._count()
        self.progress.set()
        self._rounds += 1
        if self._rounds % PRUNE_EVERY == 0:
            with contextlib.suppress(SQLAlchemyError):
                await asyncio.to_thread(self.store.prune_drained, datetime.now(UTC) - KEEP_DRAINED)
        if failures:
            raise failures[0]
        return len(drained)

    async def _refused(self, stored: StoredIntent, reason: str) -> bool:
        """Note Temporal's refusal of an intent; park it after `REFUSALS`: True when parked."""
        try:
            return await asyncio.to_thread(self.holds.refused, self.store, stored, reason, datetime.now(UTC))
        except SQLAlchemyError as error:
            raise store_stopped(error) from error

    async def _count(self) -> None:
        commits = self._commits
        with contextlib.suppress(SQLAlchemyError):
            self.parked = await asyncio.to_thread(self.store.parked_count)
            counted = await asyncio.to_thread(self.store.drain_backlog, self.drainer)
            if self._commits == commits:  # else routing committed more meanwhile: the next count says
                self.backlog, self.oldest = counted
                self.counted = True

    def _maybe_repeated(self, stored: StoredIntent) -> bool:
        """A start that may have been carried out already: looked up before it is carried out."""
        if stored.intent.get("kind") != "start":
            return False
        return stored.id in self._unmarked or stored.created_at is None or stored.created_at < self._since

    async def _call(self, intent: Intent | None, *, repeated: bool = False) -> None:
        """Start or signal a journey (a start that may be `repeated`: not when its journey was started
        by it already); None: wake the scheduler of time triggers."""
        try:
            async with asyncio.timeout(self.limits.routing_timeout_seconds):
                if intent is None:
                    await self.core.wake_scheduler()
                elif repeated and isinstance(intent, StartJourney) and await self.core.starter.started_by(intent):
                    log.info("journey %s/%s was started by intent %s already: not started again",
                             intent.playbook, intent.account, intent.origin)
                else:
                    await self.core.carry_out([intent])
        except Exception as error:  # Temporal late, refusing or unreachable; the store unavailable
            reason = None if intent is None else refusal_of(error)
            if reason is not None:
                raise IntentRefused(reason) from error
            raise stopped_by(error, self.limits.routing_timeout_seconds) from error
