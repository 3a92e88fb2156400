"""From a request to journeys: ingest (store first), then route each change and carry out its
intents with the journey starter, in order.

No event is lost: the changes are stored before anything talks to Temporal. When routing fails
(Temporal unreachable, too slow, refusing), the changes not yet carried out stay *pending* in
this process, down to the intent where it stopped, and the caller answers 503. Every later
batch first carries out what is pending, so re-sending the same batch (same ids: stored once,
counted as duplicates) routes what was not routed, and so does any other batch.

A change is marked routed in the store once its intents were carried out. At start, the
dispatcher takes up every stored change never marked routed (the process stopped during an
outage), so a restart loses nothing either.

Concurrent requests store their batches independently (storing never waits for Temporal);
within one batch, changes are routed in the order of its lines.

Routing is serialised by a lock: changes are routed in the order they were stored, which the
router's edge-triggered conditions need.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError
from temporalio.service import RPCError

from dsl import ir
from engine.ingestion import Ingestor, ParsedLine
from engine.records import Change, IngestResult, Intent
from engine.router import Router
from engine.starter import JourneyStarter
from engine.store import Store
from workers.api.errors import ApiError

__all__ = ["Dispatcher", "Outcome"]

log = logging.getLogger("playbook.api")

MAX_ROUTE_ATTEMPTS = 3  # a change the router itself fails on this often is dropped (and logged)


@dataclass
class _Pending:
    change: Change
    intents: list[Intent] | None = None  # None: not routed yet; else what is left to carry out
    attempts: int = 0


@dataclass
class Outcome:
    """What one batch came to: the ingestion result, and why routing stopped if it did."""

    result: IngestResult
    unrouted: int = 0
    failure: str | None = None


class _RoutingStopped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Dispatcher:
    def __init__(self, store: Store, bundle: ir.Bundle, starter: JourneyStarter, timeout_seconds: float) -> None:
        self.store = store
        self.bundle = bundle
        self.starter = starter
        self.timeout_seconds = timeout_seconds
        self.ingestor = Ingestor(store, bundle.model)
        self.router = Router(store, bundle)
        self._pending: OrderedDict[int, _Pending] = OrderedDict()
        self._lock = asyncio.Lock()
        for change in store.unrouted(limit=100_000):
            self._pending[change.seq] = _Pending(change)

    @property
    def pending(self) -> int:
        """Stored changes whose routing is not finished."""
        return len(self._pending)

    async def ingest(self, parsed: list[ParsedLine], now: datetime) -> Outcome:
        """Store the good objects of `parsed`, then route everything pending, oldest first."""
        try:
            result = await asyncio.to_thread(self.ingestor.ingest_parsed, parsed, now)
        except DBAPIError as error:  # the database is down or refused: retryable, nothing half-stored
            log.warning("the store is unavailable: %s", error.orig or error)
            raise ApiError(503, "store unavailable",
                           "the database cannot be reached right now; send the same batch again (ids make it safe)",
                           headers={"Retry-After": "5"}) from error
        async with self._lock:
            earlier = len(self._pending)
            for change in result.accepted:
                self._pending[change.seq] = _Pending(change)
            try:
                await self._drain()
            except _RoutingStopped as failure:
                log.warning("routing stopped, %d stored changes wait for a retry: %s",
                            len(self._pending), failure.reason)
                return Outcome(result=result, unrouted=len(self._pending), failure=failure.reason)
            if earlier:
                log.info("routed %d stored change(s) left over from an earlier failure", earlier)
            return Outcome(result=result)

    async def _drain(self) -> None:
        deadline = asyncio.get_running_loop().time() + self.timeout_seconds
        while self._pending:
            seq, item = next(iter(self._pending.items()))
            if item.intents is None:
                try:
                    routed = await asyncio.to_thread(self.router.route, item.change)
                except Exception as error:
                    item.attempts += 1
                    if item.attempts >= MAX_ROUTE_ATTEMPTS:
                        log.exception("giving up routing change %d of account %s after %d attempts",
                                      seq, item.change.account, item.attempts)
                        del self._pending[seq]
                        continue
                    log.exception("routing change %d of account %s failed", seq, item.change.account)
                    raise _RoutingStopped(f"routing failed: {type(error).__name__}: {error}") from error
                item.intents = list(routed.intents)
            while item.intents:
                await self._carry_out(item.intents[0], deadline)
                item.intents.pop(0)
            del self._pending[seq]
            await asyncio.to_thread(self.store.mark_routed, [seq], datetime.now(UTC))

    async def _carry_out(self, intent: Intent, deadline: float) -> None:
        try:
            async with asyncio.timeout_at(deadline):
                await self.starter.execute(self.bundle, [intent])
        except TimeoutError as error:
            raise _RoutingStopped(f"Temporal did not answer within {self.timeout_seconds:g} s") from error
        except RPCError as error:
            raise _RoutingStopped(f"Temporal refused or could not take the call ({error.status.name}: "
                                 f"{error.message})") from error
        except Exception as error:
            raise _RoutingStopped(f"Temporal is unreachable ({type(error).__name__}: {error})") from error
