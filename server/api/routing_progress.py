"""Where routing stands and waiting for it: the part of `server.api.routing.Dispatcher` that reads
its queues and its drain and answers for them.

- `backlog`: stored changes not routed yet; the drain's backlog (intents committed, not carried
  out on Temporal yet) as last counted; both shared by every router with shared routing.
- Back-pressure: while the backlog (stored changes not yet routed) is at `max_routing_backlog`
  or over, `ingest` refuses a batch with 503 and `Retry-After` *before storing anything*; so it does
  while the drain's backlog (intents committed, not carried out on Temporal yet) is at
  `drain_backlog_max` or over (Temporal down for long): nothing stored before is lost.
- `status()` says where routing and the drain stand (backlogs, the oldest waiting intent's age,
  the intents parked, those for a playbook no longer loaded, last failure) for `/healthz` and
  `/v1/status`.
- `wait_routed(ticket)` lets a caller wait until what it stored is routed, `wait_drained(ticket)`
  until its journeys are started and signalled too (`POST /v1/events?wait=true`). A ticket is the
  last seq stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from engine.routing import RoutingCore
from engine.store import Store
from engine.store.routing_queue import Drainer
from server.api.routing_drain import Drain
from server.api.routing_runs import Pending
from server.api.routing_shared import SharedRouter
from server.api.routing_status import RoutingRecord, combined
from server.api.routing_takeover import Takeover
from server.web.errors import ApiError
from server.web.limits import Limits

__all__ = ["RoutingProgress"]


class RoutingProgress:
    """Mixed into `Dispatcher`, which sets these."""

    store: Store
    core: RoutingCore
    limits: Limits
    shared: bool
    drain: Drain
    drainer: Drainer
    _shared: SharedRouter
    _state: RoutingRecord
    _takeover: Takeover
    _queue: deque[Pending]
    _run: list[Pending]
    _done: int
    _progress: asyncio.Event
    _task: asyncio.Task[None] | None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done() and not self._task.get_loop().is_closed()

    @property
    def backlog(self) -> int:
        """Stored changes not routed yet (those taken over at start included; shared: by any router)."""
        if self.shared:
            return self._shared.backlog
        return len(self._queue) + len(self._run) + self._takeover.left

    def _refuse_when_full(self) -> None:
        """503 (`ApiError`) when the backlog or the drain's backlog is full: nothing is stored then."""
        if self.backlog >= self.limits.max_routing_backlog:
            self._state.refused += 1
            raise ApiError(
                503, "routing backlog full",
                f"{self.backlog:,} stored events wait to be routed (the limit is "
                f"{self.limits.max_routing_backlog:,}, PLAYBOOK_API_MAX_ROUTING_BACKLOG){self._state.why()}. "
                "Nothing of this request was stored: send it again after Retry-After.",
                headers={"Retry-After": str(self._state.retry_after())},
                extra={"backlog": self.backlog})
        waiting = self._drain_waiting()
        if waiting >= self.limits.drain_backlog_max:
            self._state.refused += 1
            raise ApiError(
                503, "drain backlog full",
                f"{waiting:,} routed intents wait to be carried out on Temporal (the limit is "
                f"{self.limits.drain_backlog_max:,}, PLAYBOOK_API_DRAIN_BACKLOG_MAX){self._drain_why()}. "
                "Nothing of this request was stored, nothing stored before is lost: send it again after "
                "Retry-After.",
                headers={"Retry-After": str(self._drain_retry_after())}, extra={"drain_backlog": waiting})

    def _drain_waiting(self) -> int:
        """Intents committed and not carried out yet, as last counted (shared: by any router)."""
        return self._shared.drain_backlog[0] if self.shared else self.drain.backlog

    def _drain_why(self) -> str:
        return "" if self.shared else self.drain.record.why().replace("routing has", "the drain has")

    def _drain_retry_after(self) -> int:
        return self._state.retry_after() if self.shared else self.drain.record.retry_after()

    async def wait_routed(self, ticket: int, timeout: float) -> bool:
        """Wait until every change stored here up to `ticket` is routed (committed, its intents too);
        False when `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        if self.shared:
            return await self._shared.wait_routed(ticket, deadline, self._progress, lambda: self.running)
        return await self._until_routed(ticket, deadline)

    async def wait_drained(self, ticket: int, timeout: float) -> bool:
        """Wait until every change stored here up to `ticket` is routed and its intents carried out
        (the journeys started and signalled); False when `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        if self.shared:  # a shared router's `routed` is drained too
            return await self._shared.wait_routed(ticket, deadline, self._progress, lambda: self.running)
        if not await self._until_routed(ticket, deadline):
            return False
        progress = self.drain.progress
        while self.running:
            try:
                if await asyncio.to_thread(self.store.drained_through, ticket, self.drainer):
                    return True
            except SQLAlchemyError:
                pass  # the store unavailable: the drain says so; wait on
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(progress.wait(), min(left, 1.0))
        return False

    async def _until_routed(self, ticket: int, deadline: float) -> bool:
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
        routing = self._state.status(running=self.running, backlog=self.backlog,
                                     max_backlog=self.limits.max_routing_backlog)
        routing["drain_backlog_max"] = self.limits.drain_backlog_max
        routing["drain_backlog_full"] = self._drain_waiting() >= self.limits.drain_backlog_max
        routing["parked"] = self._shared.parked if self.shared else self.drain.parked  # refused too often, kept
        routing["not_loaded"] = self.core.starter.not_loaded  # for a playbook no longer loaded (this process)
        if self.shared:
            return combined(routing, None, self._shared.drain_backlog)
        return combined(routing, self.drain.record, (self.drain.backlog, self.drain.oldest),
                        counted=self.drain.counted)
