"""A run of the single router (`server.api.routing.Dispatcher`): routed in order and committed a
transaction at a time.

`RunRouter.route_all` routes a run of stored changes (in a worker thread) through the routing
core; every `TRANSACTION` changes, in one transaction (`Store.routing_batch`, the core's own
inside it), the routing's writes, the journeys' starts and signals the changes produced (rows of
`routing_intents`, named with this process as their owner) and the changes' marks `routed_at`
commit together. It stops at the first change the router fails on, after committing those
before it; one it fails on `MAX_ROUTE_ATTEMPTS` times is given up (left unrouted, logged).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from engine.records import Change, StartJourney
from engine.routing import RoutingCore
from engine.store import Store
from server.api.request_priority import RequestPriority
from server.api.routing_status import store_stopped

__all__ = ["MAX_ROUTE_ATTEMPTS", "TRANSACTION", "Committed", "Pending", "RunRouter"]

log = logging.getLogger("playbook.api")

MAX_ROUTE_ATTEMPTS = 3  # a change the router itself fails on this often is left unrouted (and logged)
TRANSACTION = 100  # changes routed, their intents and marks committed in one transaction; the router yields
# to requests between two


@dataclass
class Pending:
    change: Change
    taken_over: bool = False  # stored before this process started
    routed: bool = False  # routed and committed
    attempts: int = 0

    @property
    def given_up(self) -> bool:
        return not self.routed and self.attempts >= MAX_ROUTE_ATTEMPTS


@dataclass
class Committed:
    """What a run committed: intents, and whether one of its changes moved a time trigger."""

    intents: int = 0
    moves_time_triggers: bool = False


class RunRouter:
    def __init__(self, store: Store, core: RoutingCore, priority: RequestPriority, owner: str) -> None:
        self.store = store
        self.core = core
        self._priority = priority
        self.owner = owner  # names this process on the intents it commits

    def route_all(self, items: list[Pending], committed: Committed) -> None:
        """Route the run in order (in a worker thread), a transaction every `TRANSACTION` changes;
        stops at the first failure (after committing what came before it)."""
        changes = [item.change for item in items]
        # journeys an earlier process committed starts for, not recorded by their workers yet, hear these too
        self.core.router.started(StartJourney.model_validate(found) for found in
                                 self.store.start_intents_of({change.account for change in changes}))
        with self.core.run(changes):
            for first in range(0, len(items), TRANSACTION):
                self._priority.yield_to_requests()
                if not self._commit(items[first:first + TRANSACTION], committed):
                    return

    def _commit(self, items: list[Pending], committed: Committed) -> bool:
        """Route and commit `items` in one transaction: False when the router failed on one (those
        before it are committed)."""
        rows: list[tuple[int, int, str, dict[str, Any]]] = []
        done: list[Pending] = []
        went_on = True
        try:
            # the core's transaction (its account cards taken at its end) inside the batch's
            with self.store.routing_batch({item.change.account for item in items}), self.core.transaction():
                for item in items:
                    try:
                        intents = self.core.route(item.change)
                    except Exception:
                        item.attempts += 1
                        log.exception("routing change %d of account %s failed (attempt %d)", item.change.seq,
                                      item.change.account, item.attempts)
                        if item.attempts < MAX_ROUTE_ATTEMPTS:
                            went_on = False
                            break
                        log.error("giving up routing change %d of account %s after %d attempts; it stays stored "
                                  "and unrouted", item.change.seq, item.change.account, item.attempts)
                        continue
                    rows.extend((item.change.seq, position, item.change.account, intent.model_dump(mode="json"))
                                for position, intent in enumerate(intents))
                    done.append(item)
                now = datetime.now(UTC)
                self.store.add_intents(rows, now, self.owner)
                self.store.mark_routed([item.change.seq for item in done], now)
        except SQLAlchemyError as error:  # nothing of the transaction was kept
            raise store_stopped(error) from error
        for item in done:
            item.routed = True
        committed.intents += len(rows)
        committed.moves_time_triggers |= self.core.moves_time_triggers(item.change for item in done)
        return went_on
