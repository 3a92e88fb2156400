"""The takeover at start: the changes stored before this process started and never marked routed
(the process that stored them stopped or crashed), which the router routes first, oldest first,
before the changes stored since (`server.api.routing.Dispatcher`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from engine.records import Change
from engine.store import Store

__all__ = ["Takeover"]

log = logging.getLogger("playbook.api")


class Takeover:
    def __init__(self, store: Store, started_at: datetime) -> None:
        self.store = store
        self.started_at = started_at
        self.after: int | None = 0  # the last seq taken over from the store; None: done
        self.left = 0  # counted at start, not taken into a run yet
        self._counted = False

    @property
    def pending(self) -> bool:
        return self.after is not None

    async def count(self) -> None:
        """Count what is left to take over, once (for the backlog); a failure to count is logged."""
        if self._counted:
            return
        self._counted = True
        try:
            self.left = await asyncio.to_thread(self.store.unrouted_count, received_before=self.started_at)
        except SQLAlchemyError as error:
            log.warning("cannot count the changes left unrouted: %s", error)

    def read(self, limit: int) -> list[Change]:
        """The next changes to take over, oldest first (in a worker thread); `took` them after."""
        assert self.after is not None
        return self.store.unrouted(limit, after=self.after, received_before=self.started_at)

    def took(self, changes: list[Change]) -> None:
        """`changes` are in a run now; none: the takeover is done."""
        if changes:
            self.after = changes[-1].seq
            self.left = max(0, self.left - len(changes))  # now counted in the run
            log.info("taking over %d stored change(s) never routed", len(changes))
        else:
            self.after = None
            self.left = 0
