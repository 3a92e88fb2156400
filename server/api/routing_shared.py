"""Routing shared by several API processes on one PostgreSQL database (`api_routing_shared`).

Each process's router loop, instead of routing what this process stored, takes turns on the
store's shared routing queue (`engine.store.routing_queue`): a `cycle` claims some partitions of
the accounts that have work (no other router holds them meanwhile), drains their intents left
to carry out (the journeys' starts and signals of changes routed before, oldest first), then
routes their next stored changes and commits, in one transaction, the routing's writes, the
intents and the routed marks. Each account is routed by one router at a time, in the order its
changes were stored; a router killed mid-batch leaves nothing of it, and the next holder of the
partition routes it once. The intents committed in one cycle are drained at the next.

An intent Temporal refuses for a reason that is not an outage is handled as by the single
process's drain (`server.api.intent_refusals`): its account's later intents wait while it is tried
again after a doubling pause, and after `REFUSALS` refusals it is parked and they go on; the
cycle's read leaves out the accounts held meanwhile. An outage stops the cycle, tried again later.

A cycle runs in a worker thread; the calls to Temporal it drains run on the API's event loop,
the thread waiting for each (at most `routing_timeout_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.records import Change, StartJourney
from engine.routing import RoutingCore
from engine.store import Store
from server.api.intent_refusals import Holds
from server.api.routing_drain import as_carried_out
from server.api.routing_status import RoutingRecord, refusal_of, stopped_by
from server.web.limits import Limits

__all__ = ["CLAIM", "SharedRouter"]

log = logging.getLogger("playbook.api")

POLL_SECONDS = 0.5  # how often an idle router looks at the store
CLAIM = 16  # partitions (of 64) a router holds in one cycle: about four routers share the work
RUN = 500  # changes routed in one cycle
DRAIN = 200  # intents carried out in one cycle, at most
MAX_ROUTE_ATTEMPTS = 3  # a change the router fails on this often is marked routed without intents (logged)
PRUNE_EVERY, KEEP_DRAINED = 200, timedelta(hours=1)  # drained intents are kept an hour, pruned now and then


class SharedRouter:
    def __init__(self, store: Store, core: RoutingCore, timeout_seconds: float, *,
                 loop: asyncio.AbstractEventLoop | None = None,
                 before_commit: Callable[[list[Change]], None] | None = None, run: int = RUN,
                 limits: Limits | None = None) -> None:
        self.store = store
        self.core = core
        self.loop = loop  # where the calls to Temporal run (`serve` sets it to its own)
        self.timeout_seconds = timeout_seconds
        self.before_commit = before_commit  # called with the changes routed, before the commit
        self.run = run
        self._attempts: dict[int, int] = {}
        self.routed = 0  # changes routed (committed) by this router
        self.drained = 0  # intents carried out by this router
        self.given_up = 0
        self.backlog = 0  # stored changes not routed yet, by any router (as last counted)
        self.drain_backlog: tuple[int, datetime | None] = (0, None)  # intents not drained, by any router
        self.parked: int | None = None  # intents parked (refused too often), by any router, as last counted
        self.holds = Holds(limits or Limits())  # accounts whose refused intent waits for its next try
        self._cycles = 0

    async def serve(self, record: RoutingRecord, limits: Limits, wake: asyncio.Event, progress: asyncio.Event,
                    thread: Callable[[Callable[[], int]], Awaitable[int]]) -> None:
        """The API's router loop when routing is shared: cycles, each in a worker thread (`thread`);
        with nothing to do, it waits for a batch stored here (`wake`) or `POLL_SECONDS` (other
        processes store too). Failures are retried after a pause that doubles, as `record` says."""
        self.loop = asyncio.get_running_loop()
        pause = limits.retry_min_seconds
        while True:
            try:
                done = await thread(self.cycle)
                self.backlog = await asyncio.to_thread(self.store.unrouted_count)
                count, oldest = await asyncio.to_thread(self.store.drain_backlog)
                self.drain_backlog = (count, oldest)
                self.parked = await asyncio.to_thread(self.store.parked_count)
            except Exception as error:  # Temporal or the store unavailable, or a bug: keep routing alive
                reason = stopped_by(error, limits.routing_timeout_seconds).reason
                if record.failed(reason, pause):
                    log.warning("routing stopped: %s; retrying in %g s", reason, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, limits.retry_max_seconds)
                continue
            record.failing_since = record.next_retry_at = None
            pause = limits.retry_min_seconds
            record.routed, record.given_up = self.routed, self.given_up
            if done:
                record.last_routed_at = datetime.now(UTC)
                progress.set()
                continue
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL_SECONDS)

    async def wait_routed(self, ticket: int, deadline: float, progress: asyncio.Event,
                          running: Callable[[], bool]) -> bool:
        """Until the store says the changes up to `ticket` (a seq) are routed and their intents
        drained, by whichever router; False when `deadline` (monotonic) came first."""
        while running():
            if await asyncio.to_thread(self.store.routed_through, ticket):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(progress.wait(), min(left, POLL_SECONDS))
        return False

    def cycle(self) -> int:
        """One claim (in a worker thread): how much it drained and routed (0: nothing to do)."""
        with self.store.claimed(CLAIM) as partitions:
            if not partitions:
                return 0
            drained = self._drain(partitions)
            changes = self.store.unrouted_of(partitions, self.run)
            if changes:
                self.store.lock_accounts({change.account for change in changes})
                self._route(changes)
                if self.before_commit is not None:
                    self.before_commit(changes)
        self.routed += len(changes)
        self._cycles += 1
        if self._cycles % PRUNE_EVERY == 0:
            self.store.prune_drained(datetime.now(UTC) - KEEP_DRAINED)
        if changes and self.core.moves_time_triggers(changes):
            self._call(self.core.wake_scheduler())
        return drained + len(changes)

    def _drain(self, partitions: Sequence[int]) -> int:
        """Carry out the partitions' waiting intents, in order per account: how many were (or were parked)."""
        done = 0
        waiting: set[str] = set()  # accounts whose intent was refused in this cycle: their later ones wait
        for stored in self.store.undrained(partitions, DRAIN, skip=self.holds.accounts()):
            if stored.account in waiting:
                continue
            try:
                self._call(self.core.carry_out([as_carried_out(stored)]))
            except Exception as error:
                reason = refusal_of(error)
                if reason is None:
                    raise  # an outage: the cycle stops, tried again after a pause
                # in a thread of its own, outside the claim: an outage later in the cycle rolls the claim back
                if not self._call(asyncio.to_thread(self.holds.refused, self.store, stored, reason, datetime.now(UTC))):
                    waiting.add(stored.account)
                    continue
                done += 1  # parked: the account's later intents go on
                continue
            self.holds.release(stored.account)
            self.store.mark_drained([stored.id], datetime.now(UTC))
            done += 1
        self.drained += done
        return done

    def _route(self, changes: list[Change]) -> None:
        rows: list[tuple[int, int, str, dict[str, Any]]] = []
        routed: list[int] = []
        # journeys other routers started that their workers may not have recorded yet hear these changes too
        self.core.router.started(StartJourney.model_validate(found) for found in
                                 self.store.start_intents_of({change.account for change in changes}))
        with self.core.run(changes):
            for change in changes:
                try:
                    intents = self.core.route(change)
                except Exception:
                    attempts = self._attempts[change.seq] = self._attempts.get(change.seq, 0) + 1
                    log.exception("routing change %d of account %s failed (attempt %d)", change.seq, change.account,
                                  attempts)
                    if attempts < MAX_ROUTE_ATTEMPTS:
                        raise  # the whole batch again, later: the changes after it come after it
                    log.error("giving up routing change %d of account %s after %d attempts", change.seq,
                              change.account, attempts)
                    self.given_up += 1
                    intents = []
                rows.extend((change.seq, position, change.account, intent.model_dump(mode="json"))
                            for position, intent in enumerate(intents))
                routed.append(change.seq)
        now = datetime.now(UTC)
        self.store.add_intents(rows, now)
        self.store.mark_routed(routed, now)
        for seq in routed:
            self._attempts.pop(seq, None)

    def _call(self, coroutine: Any) -> Any:
        """Run a call to Temporal on the event loop and wait for it (from the cycle's thread): its result."""
        assert self.loop is not None, "a shared router carries out calls on the loop it serves"
        return asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(coroutine, self.timeout_seconds), self.loop).result(self.timeout_seconds + 5)
