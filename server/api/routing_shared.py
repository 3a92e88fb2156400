"""Routing shared by several API processes on one PostgreSQL database (`api_routing_shared`).

Each process's router loop, instead of routing what this process stored, takes turns on the
store's shared routing queue (`engine.store.routing_queue`): a `cycle` claims some partitions of
the accounts that have work (no other router holds them meanwhile), drains their intents left
to carry out (the journeys' starts and signals of changes routed before, oldest first), then
routes their next stored changes and commits, in one transaction, the routing's writes, the
intents and the routed marks. Each account is routed by one router at a time, in the order its
changes were stored; a router killed mid-batch leaves nothing of it, and the next holder of the
partition routes it once. The intents committed in one cycle are drained at the next.

A cycle runs in a worker thread; the calls to Temporal it drains run on the API's event loop,
the thread waiting for each (at most `routing_timeout_seconds`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from engine.records import Change, Intent, StartJourney
from engine.routing import RoutingCore
from engine.store import Store

__all__ = ["CLAIM", "SharedRouter"]

log = logging.getLogger("playbook.api")

CLAIM = 16  # partitions (of 64) a router holds in one cycle: about four routers share the work
RUN = 500  # changes routed in one cycle
DRAIN = 200  # intents carried out in one cycle, at most
MAX_ROUTE_ATTEMPTS = 3  # a change the router fails on this often is marked routed without intents (logged)
PRUNE_EVERY, KEEP_DRAINED = 200, timedelta(hours=1)  # drained intents are kept an hour, pruned now and then
_INTENT: TypeAdapter[Intent] = TypeAdapter(Intent)


class SharedRouter:
    def __init__(self, store: Store, core: RoutingCore, loop: asyncio.AbstractEventLoop, timeout_seconds: float,
                 *, before_commit: Callable[[list[Change]], None] | None = None, run: int = RUN) -> None:
        self.store = store
        self.core = core
        self.loop = loop
        self.timeout_seconds = timeout_seconds
        self.before_commit = before_commit  # called with the changes routed, before the commit
        self.run = run
        self._attempts: dict[int, int] = {}
        self.routed = 0  # changes routed (committed) by this router
        self.drained = 0  # intents carried out by this router
        self.given_up = 0
        self._cycles = 0

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
        done = 0
        for id, found in self.store.undrained(partitions, DRAIN):
            self._call(self.core.carry_out([_INTENT.validate_python(found)]))
            self.store.mark_drained([id], datetime.now(UTC))
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

    def _call(self, coroutine: Any) -> None:
        """Run a call to Temporal on the event loop and wait for it (from the cycle's thread)."""
        asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(coroutine, self.timeout_seconds), self.loop).result(self.timeout_seconds + 5)
