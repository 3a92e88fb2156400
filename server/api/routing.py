"""From a request to journeys: store first and answer, route behind, carry out after.

`Dispatcher.ingest` stores a batch (accepted = stored durably) and returns at once; the request
is answered 202 without waiting for Temporal. Two background tasks of the API process then take
it to the journeys:

- the *router loop* drives the routing core (`engine.routing.RoutingCore`) over the stored
  changes strictly in the order they were stored (the router's edge-triggered conditions need
  that order): a run of up to `RUN` changes is routed in a worker thread, through the core's
  cache with a per-run lifetime (what the run needs is read ahead with a few queries and
  forgotten after the run, as other processes write the store; the accounts' histories are kept
  from run to run and brought up to date). Each `TRANSACTION` changes commit in one transaction
  (`Store.routing_batch`): the routing's writes, the journeys' starts and signals it produced
  (rows of `routing_intents`) and the changes' marks `routed_at`. *Routed* means that: decided
  and committed. The router talks to no one else, so it routes at the speed of the store.
- the *drain* (`server.api.routing_drain`) carries the committed intents out on Temporal, in
  order per account, a bounded number at once, at the rate Temporal takes them; at least once,
  harmlessly (one workflow id per journey; a signal repeated is ignored by the journey).

This module keeps the queue, retries and the tickets; a run's routing and commits are
`routing_runs`; the backlogs, the back-pressure (503 before storing anything while a backlog is
full), `status()`, `wait_routed(ticket)` and `wait_drained(ticket)` are `routing_progress`; the
record of failures `routing_status`, the takeover at start `routing_takeover`, and the router's
yielding to requests `request_priority`.

- It wakes as soon as a batch is stored, so a `signed` starts its journey within moments.
- When the store is unavailable, the changes stay queued and the loop tries again after a pause
  that doubles from `retry_min_seconds` to `retry_max_seconds`; when Temporal is, the drain does
  the same with the intents. Nothing needs re-sending. A change the router itself fails on
  `MAX_ROUTE_ATTEMPTS` times in a row is left unrouted in the store (and logged).
- At start it takes over every change stored before it and never marked routed (the process
  stopped or crashed), oldest first, before the changes stored since; the drain carries out
  every intent committed and not drained yet, whoever committed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dsl import ir
from engine.intake.ingestion import Ingestor, ParsedLine
from engine.records import JourneySignal
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.semantics.time_rules import DEFAULT_HORIZON
from engine.store import Store
from engine.store.routing_queue import Drainer
from server.api.request_priority import RequestPriority
from server.api.routing_drain import Drain
from server.api.routing_progress import RoutingProgress
from server.api.routing_runs import Committed, Pending, RunRouter
from server.api.routing_shared import SharedRouter
from server.api.routing_status import RoutingRecord, RoutingStopped, iso, store_stopped
from server.api.routing_takeover import Takeover
from server.web.errors import ApiError
from server.web.limits import Limits
from server.web.state import Outcome

__all__ = ["Dispatcher", "Outcome"]

log = logging.getLogger("playbook.api")

RUN = 500  # changes routed in one go (one thread hop for the router, one statement to mark them)
INGEST_BATCH = 5_000  # objects stored per transaction: a whole request of `playbook ingest`
STORE_RETRY_AFTER_SECONDS = 5
STOP_WAIT_SECONDS = 30  # at shutdown, the longest wait for the router's call under way in a thread
STOP_CANCEL_SECONDS = 0.5  # at shutdown, how often the drain is cancelled again until it stopped


class Dispatcher(RoutingProgress):
    def __init__(self, store: Store, bundle: ir.Bundle, starter: JourneyStarter, limits: Limits, *,
                 horizon: timedelta = DEFAULT_HORIZON, shared: bool = False) -> None:
        self.store = store
        self.horizon = horizon
        self.bundle = bundle
        self.limits = limits
        self.ingestor = Ingestor(store, bundle.model, batch_size=INGEST_BATCH)
        self.core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle, starter, horizon=horizon)
        self._queue: deque[Pending] = deque()  # stored by this process, not routed yet, in stored order
        self._run: list[Pending] = []  # the run under way, taken from the front of the queue
        self._state = RoutingRecord()
        self._takeover = Takeover(store, self._state.started_at)
        self._issued = 0  # the last ticket handed out: the seq of the last change stored here
        self._done = 0  # every change stored here up to this seq is routed (or given up)
        self._loop_of: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._storing = asyncio.Lock()  # one batch stored and queued at a time: the queue keeps stored order
        self._task: asyncio.Task[None] | None = None
        self._in_thread: asyncio.Future[Any] | None = None  # the router loop's call in a worker thread
        self._priority = RequestPriority()  # the router yields to requests storing batches
        # Routing shared with other processes on PostgreSQL (`server.api.routing_shared`): the store's
        # queue instead of this process's; tickets are then the seqs stored
        self.shared = shared
        self._shared = SharedRouter(store, self.core, limits.routing_timeout_seconds, limits=limits)
        # a single router's intents go to Temporal through the drain (`server.api.routing_drain`)
        self.drainer = Drainer(uuid.uuid4().hex, self._state.started_at)
        self.drain = Drain(store, self.core, limits, in_flight=limits.drain_in_flight, drainer=self.drainer)
        self._runs = RunRouter(store, self.core, self._priority, self.drainer.owner)
        self._drain_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the router loop in the running event loop (again after `stop`); idempotent."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop_of:
            # another event loop than before (a test client's own loop per request, a server started
            # again): the loop's primitives belong to it, and a task of a closed loop never runs again
            self._loop_of = loop
            self._wake, self._progress, self._storing = asyncio.Event(), asyncio.Event(), asyncio.Lock()
            self.drain.renew()
            self._task = self._drain_task = None
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._loop(), name="playbook-router")
        if not self.shared and (self._drain_task is None or self._drain_task.done()):
            self._drain_task = loop.create_task(self.drain.serve(), name="playbook-drain")

    async def stop(self) -> None:
        """Stop the router loop and the drain; what is not routed stays stored and is taken over at the
        next start, and what is not drained is drained then."""
        drain, self._drain_task = self._drain_task, None
        if drain is not None and self._loop_of is asyncio.get_running_loop():
            # cancelled again until done: a cancellation that meets a call's timeout at the same
            # moment can be taken for the timeout (`asyncio.timeout`), and the drain would go on
            deadline = time.monotonic() + STOP_WAIT_SECONDS
            while not drain.done() and time.monotonic() < deadline:
                drain.cancel()
                await asyncio.wait({drain}, timeout=STOP_CANCEL_SECONDS)
            if not drain.done():
                log.error("the drain did not stop within %d s", STOP_WAIT_SECONDS)
            elif not drain.cancelled() and drain.exception() is not None:
                log.error("the drain had failed: %s", drain.exception())
        task, self._task = self._task, None
        if task is not None and not task.done() and self._loop_of is asyncio.get_running_loop():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            call = self._in_thread
            if call is not None and not call.done():  # a thread cannot be cancelled: let it finish with the store
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(call), STOP_WAIT_SECONDS)

    async def _thread(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """`function(*args, **kwargs)` in a worker thread, known to `stop` so that it waits for it."""
        self._in_thread = asyncio.ensure_future(asyncio.to_thread(function, *args, **kwargs))
        return await asyncio.shield(self._in_thread)

    # ------------------------------------------------------------------ ingestion

    def foreground(self) -> contextlib.AbstractContextManager[None]:
        """Around a request's reading and storing of a batch: the router pauses for it
        (`server.api.request_priority`)."""
        return self._priority.foreground()

    async def ingest(self, parsed: list[ParsedLine], now: datetime, *, horizon: timedelta | None = None,
                     backfill: bool = False) -> Outcome:
        """Store the good objects of `parsed` as arriving `now` and queue them for routing; 503 when
        the backlog is full or the store is unavailable (nothing stored then). Objects older than
        `horizon` (default: the process's trigger horizon), or all with `backfill`, are history."""
        horizon = self.horizon if horizon is None else horizon
        self.start()
        if not self.shared:
            await self._takeover.count()
        self._refuse_when_full()
        async with self._storing:
            try:
                with self.foreground():
                    result = await asyncio.to_thread(self.ingestor.ingest_parsed, parsed, now, horizon=horizon,
                                                     backfill=backfill)
            except DBAPIError as error:  # the database is down or refused: retryable, nothing half-stored
                log.warning("the store is unavailable: %s", error.orig or error)
                raise ApiError(503, "store unavailable",
                               "the database cannot be reached right now; send the same batch again (ids make it "
                               "safe)", headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)}) from error
            for change in result.accepted:
                self._issued = max(self._issued, change.seq)
                if self.shared:
                    self._shared.backlog += 1
                else:
                    self._queue.append(Pending(change))
        if result.accepted:
            self._wake.set()
        return Outcome(result=result, ticket=self._issued)

    def drain_again(self) -> None:
        """An operator gave a parked intent back (or dropped one): the drain looks at once."""
        if self.shared:
            self._wake.set()
        else:
            self.drain.wake.set()

    async def tell(self, signal: JourneySignal) -> bool:
        """Tell a running journey something a person did that is kept in the store already (a draft
        answered): at once, not through the routing queue. False when Temporal could not be told;
        the journey then finds it in the store at its next moment (the draft's deadline)."""
        try:
            async with asyncio.timeout(self.limits.routing_timeout_seconds):
                await self.core.carry_out([signal])
        except Exception as error:  # Temporal late, refusing or unreachable
            log.warning("could not tell journey %s/%s: %s", signal.playbook, signal.account, error)
            return False
        return True

    # ------------------------------------------------------------------ the router loop

    def _has_work(self) -> bool:
        return bool(self._run or self._queue or self._takeover.pending)

    async def _loop(self) -> None:
        if self.shared:
            await self._shared.serve(self._state, self.limits, self._wake, self._progress, self._thread)
            return
        await self._takeover.count()
        pause = self.limits.retry_min_seconds
        while True:
            if not self._has_work():
                self._wake.clear()
                if not self._has_work():
                    await self._wake.wait()
                continue
            try:
                await self._route_run()
            except RoutingStopped as stopped:
                if self._state.failed(stopped.reason, pause):
                    log.warning("routing stopped, %d stored change(s) wait: %s; retrying in %g s",
                                self.backlog, stopped.reason, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.limits.retry_max_seconds)
                continue
            except Exception:  # a bug: keep routing alive, say so loudly
                log.exception("the router loop failed; retrying in %g s", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.limits.retry_max_seconds)
                continue
            if self._state.failing_since is not None:
                log.info("routing resumed after failing since %s", iso(self._state.failing_since))
            self._state.failing_since = None
            self._state.next_retry_at = None
            pause = self.limits.retry_min_seconds

    async def _fill_run(self) -> None:
        """The next run: changes taken over from the store first, then those stored since start."""
        if self._run:
            return
        if self._takeover.pending:
            try:
                changes = await self._thread(self._takeover.read, RUN)
            except SQLAlchemyError as error:
                raise store_stopped(error) from error
            self._takeover.took(changes)
            if changes:
                self._run = [Pending(change, taken_over=True) for change in changes]
                return
        while self._queue and len(self._run) < RUN:
            self._run.append(self._queue.popleft())

    async def _route_run(self) -> None:
        await self._fill_run()
        if not self._run:
            return
        committed = Committed()
        try:
            await self._thread(self._runs.route_all, [item for item in self._run if not item.routed], committed)
        except SQLAlchemyError as error:  # reading ahead failed: the store unavailable
            raise store_stopped(error) from error
        finally:
            self._finish(committed)
        if self._run:  # the router failed on its first change: the next ones wait, they come after it
            raise RoutingStopped(f"routing change {self._run[0].change.seq} failed")

    def _finish(self, committed: Committed) -> None:
        """Take the routed (or given up) changes off the front of the run; the drain takes their intents."""
        finished = 0
        for item in self._run:
            if not (item.routed or item.given_up):
                break
            finished += 1
            if item.given_up:
                self._state.given_up += 1
            else:
                self._state.routed += 1
            if not item.taken_over:
                self._done = max(self._done, item.change.seq)
        if not finished:
            return
        del self._run[:finished]
        now = datetime.now(UTC)
        self._state.last_routed_at = now
        self.drain.committed(committed.intents, now, moves_time_triggers=committed.moves_time_triggers)
        self._progress.set()
