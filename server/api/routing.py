"""From a request to journeys: store first and answer, route behind.

`Dispatcher.ingest` stores a batch (accepted = stored durably) and returns at once; the request
is answered 202 without waiting for Temporal. A background task of the API process, the
*router loop*, then drives the routing core (`engine.routing.RoutingCore`) over the stored
changes strictly in the order they were stored (the router's edge-triggered conditions need that
order): a run of up to `RUN` changes is routed in a worker thread, through the core's cache with
a per-run lifetime (what the run needs is read ahead with a few queries and forgotten after the
run, as other processes write the store), the intents are carried out change by change, and the
run is marked routed in the store with one statement (every `MARK_EVERY` changes while it starts
journeys). This module keeps only the queue, the backlog, retries and the tickets; where routing
stands is `routing_status`, the takeover at start `routing_takeover`, and the router's yielding
to requests `request_priority`.

- It wakes as soon as a batch is stored, so a `signed` starts its journey within moments.
- When Temporal is unavailable (or answers slower than `routing_timeout_seconds`), or the store
  is, the changes stay queued, down to the intent where it stopped, and the loop tries again
  after a pause that doubles from `retry_min_seconds` to `retry_max_seconds`: routing resumes
  by itself once Temporal is back. Nothing needs re-sending. A change the router itself fails
  on `MAX_ROUTE_ATTEMPTS` times in a row is left unrouted in the store (and logged).
- At start it takes over every change stored before it and never marked routed (the process
  stopped or crashed), oldest first, before the changes stored since.
- Back-pressure: while the backlog (stored changes not yet routed) is at `max_routing_backlog`
  or over, `ingest` refuses a batch with 503 and `Retry-After` *before storing anything*.
- `status()` says where routing stands (backlog, last failure, last routed time) for
  `/healthz` and `/v1/status`; `wait_routed(ticket)` lets a caller wait until what it stored has
  been routed (`POST /v1/events?wait=true`).

Routing is at-least-once and idempotent: a change routed again after a crash starts nothing
twice (deterministic keys in the store, one workflow id per journey in Temporal).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dsl import ir
from engine.intake.ingestion import Ingestor, ParsedLine
from engine.records import Change, Intent, JourneySignal
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.semantics.time_rules import DEFAULT_HORIZON
from engine.store import Store
from server.api.request_priority import RequestPriority
from server.api.routing_status import RoutingRecord, RoutingStopped, iso, stopped_by, store_stopped
from server.api.routing_takeover import Takeover
from server.web.errors import ApiError
from server.web.limits import Limits
from server.web.state import Outcome

__all__ = ["Dispatcher", "Outcome"]

log = logging.getLogger("playbook.api")

MAX_ROUTE_ATTEMPTS = 3  # a change the router itself fails on this often is left unrouted (and logged)
RUN = 500  # changes routed in one go (one thread hop for the router, one statement to mark them)
MARK_EVERY, MARK_SECONDS = 100, 0.5  # while a run starts journeys, what is done is marked this often
INGEST_BATCH = 5_000  # objects stored per transaction: a whole request of `playbook ingest`
STORE_RETRY_AFTER_SECONDS = 5
STOP_WAIT_SECONDS = 30  # at shutdown, the longest wait for the router's call under way in a thread


@dataclass
class _Pending:
    change: Change
    ticket: int = 0  # 0: taken over from the store at start
    intents: list[Intent] | None = None  # None: not routed yet; else what is left to carry out
    attempts: int = 0


class Dispatcher:
    def __init__(self, store: Store, bundle: ir.Bundle, starter: JourneyStarter, limits: Limits, *,
                 horizon: timedelta = DEFAULT_HORIZON) -> None:
        self.store = store
        self.horizon = horizon
        self.bundle = bundle
        self.limits = limits
        self.ingestor = Ingestor(store, bundle.model, batch_size=INGEST_BATCH)
        self.core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle, starter, horizon=horizon)
        self._queue: deque[_Pending] = deque()  # stored by this process, not routed yet, in stored order
        self._run: list[_Pending] = []  # the run under way, taken from the front of the queue
        self._state = RoutingRecord()
        self._takeover = Takeover(store, self._state.started_at)
        self._issued = 0  # tickets handed out (one per stored change)
        self._done = 0  # every ticket up to this one is routed (or given up)
        self._loop_of: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._storing = asyncio.Lock()  # one batch stored and queued at a time: the queue keeps stored order
        self._task: asyncio.Task[None] | None = None
        self._in_thread: asyncio.Future[Any] | None = None  # the router loop's call in a worker thread
        self._priority = RequestPriority()  # the router yields to requests storing batches

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the router loop in the running event loop (again after `stop`); idempotent."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop_of:
            # another event loop than before (a test client's own loop per request, a server started
            # again): the loop's primitives belong to it, and a task of a closed loop never runs again
            self._loop_of = loop
            self._wake, self._progress, self._storing = asyncio.Event(), asyncio.Event(), asyncio.Lock()
            self._task = None
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._loop(), name="playbook-router")

    async def stop(self) -> None:
        """Stop the router loop; what is not routed stays stored and is taken over at the next start."""
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

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done() and not self._task.get_loop().is_closed()

    # ------------------------------------------------------------------ ingestion

    @property
    def backlog(self) -> int:
        """Stored changes not routed yet (those taken over at start included)."""
        return len(self._queue) + len(self._run) + self._takeover.left

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
        await self._takeover.count()
        if self.backlog >= self.limits.max_routing_backlog:
            self._state.refused += 1
            raise ApiError(
                503, "routing backlog full",
                f"{self.backlog:,} stored events wait to be routed (the limit is "
                f"{self.limits.max_routing_backlog:,}, PLAYBOOK_API_MAX_ROUTING_BACKLOG){self._state.why()}. "
                "Nothing of this request was stored: send it again after Retry-After.",
                headers={"Retry-After": str(self._state.retry_after())},
                extra={"backlog": self.backlog})
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
                self._issued += 1
                self._queue.append(_Pending(change, ticket=self._issued))
        if result.accepted:
            self._wake.set()
        return Outcome(result=result, ticket=self._issued)

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

    async def wait_routed(self, ticket: int, timeout: float) -> bool:
        """Wait until every change up to `ticket` is routed; False when `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        while self._done < ticket and self.running:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), left)
        return self._done >= ticket

    # ------------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        return self._state.status(running=self.running, backlog=self.backlog,
                                  max_backlog=self.limits.max_routing_backlog)

    # ------------------------------------------------------------------ the router loop

    def _has_work(self) -> bool:
        return bool(self._run or self._queue or self._takeover.pending)

    async def _loop(self) -> None:
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
                self._run = [_Pending(change) for change in changes]
                return
        while self._queue and len(self._run) < RUN:
            self._run.append(self._queue.popleft())

    async def _route_run(self) -> None:
        await self._fill_run()
        if not self._run:
            return
        unrouted = [item for item in self._run if item.intents is None]
        if unrouted:
            await self._thread(self._route_all, unrouted)
            if self.core.moves_time_triggers(item.change for item in unrouted):
                await self._carry_out(None)  # the scheduler looks again
        done: list[_Pending] = []
        marked = time.monotonic()
        try:
            for item in list(self._run):
                if item.intents is None:  # the router failed on it (see `_route_all`)
                    if item.attempts < MAX_ROUTE_ATTEMPTS:
                        raise RoutingStopped(f"routing change {item.change.seq} failed")
                    log.error("giving up routing change %d of account %s after %d attempts; it stays stored "
                              "and unrouted", item.change.seq, item.change.account, item.attempts)
                    self._state.given_up += 1
                    done.append(item)
                    continue
                if item.intents:
                    while item.intents:
                        await self._carry_out(item.intents[0])
                        item.intents.pop(0)
                    if len(done) >= MARK_EVERY or time.monotonic() - marked > MARK_SECONDS:
                        # a run that talks to Temporal takes a while: say what is done as it goes
                        await self._finish(done)
                        done, marked = [], time.monotonic()
                done.append(item)
        finally:
            await self._finish(done)

    def _route_all(self, items: list[_Pending]) -> None:
        """Route each as one run, in order (in a worker thread); stops at the first failure."""
        with self.core.run([item.change for item in items]):
            self._route_each(items)

    def _route_each(self, items: list[_Pending]) -> None:
        for item in items:
            self._priority.yield_to_requests()
            try:
                item.intents = self.core.route(item.change)
            except Exception:
                item.attempts += 1
                log.exception("routing change %d of account %s failed (attempt %d)", item.change.seq,
                              item.change.account, item.attempts)
                if item.attempts < MAX_ROUTE_ATTEMPTS:
                    return  # the next ones wait: they come after it

    async def _finish(self, done: list[_Pending]) -> None:
        """Mark the finished changes routed (one statement) and take them off the run."""
        if not done:
            return
        now = datetime.now(UTC)
        routed = [item.change.seq for item in done if item.intents is not None]
        try:
            await self._thread(self.store.mark_routed, routed, now)
        except SQLAlchemyError as error:
            # carried out but not marked: routed again later, which routing's idempotence allows
            raise store_stopped(error) from error
        del self._run[:len(done)]
        for item in done:
            if item.ticket:
                self._done = max(self._done, item.ticket)
        self._state.routed += len(routed)
        self._state.last_routed_at = now
        self._progress.set()

    async def _carry_out(self, intent: Intent | None) -> None:
        """Start or signal a journey; None: wake the scheduler of time triggers."""
        try:
            async with asyncio.timeout(self.limits.routing_timeout_seconds):
                if intent is None:
                    await self.core.wake_scheduler()
                else:
                    await self.core.carry_out([intent])
        except Exception as error:  # Temporal late, refusing or unreachable; the store unavailable
            raise stopped_by(error, self.limits.routing_timeout_seconds) from error
