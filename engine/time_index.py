"""An index of upcoming time-trigger instants, kept in step with the accounts it has seen change.

`TimeTriggers.next_due` and `firings` look at every account; a simulation asks "what is due
next?" at every step of its timeline, so it keeps this index instead: each account's next
instant in a heap, recomputed only for accounts whose date fields or time zone changed (or that
are new), and for accounts whose instant has just fired.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from dsl import ir
from engine.records import Change
from engine.schedule import TimeTriggers

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["TimeIndex"]


class TimeIndex:
    def __init__(self, store: Store, bundle: ir.Bundle) -> None:
        self.store = store
        self.triggers = TimeTriggers(store, bundle)
        self.watched = {"timezone"} | {
            playbook.trigger.field for playbook in self.triggers.playbooks
            if isinstance(playbook.trigger, ir.DateTrigger)
        }
        self._next: dict[str, datetime | None] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._dirty: set[str] = set(store.account_ids())
        self._after: datetime | None = None

    def note(self, changes: Iterable[Change]) -> None:
        """Accounts that are new or whose date fields or time zone changed need a new look."""
        for change in changes:
            if change.account not in self._next or self.watched & set(change.traits):
                self._dirty.add(change.account)

    def next_due(self, after: datetime) -> datetime | None:
        """The earliest instant strictly after `after` at which a time trigger may fire."""
        if not self.triggers.playbooks:
            return None
        if self._after is not None and after < self._after:
            self._dirty.update(self._next)  # asked about the past: start over
        self._after = after
        self._refresh(after)
        while self._heap:
            instant, account = self._heap[0]
            if self._next.get(account) != instant:
                heapq.heappop(self._heap)  # superseded
            elif instant <= after:
                heapq.heappop(self._heap)
                self._dirty.add(account)
                self._refresh(after)
            else:
                return instant
        return None

    def due_accounts(self, until: datetime) -> list[str]:
        """The accounts with an instant at or before `until`; they are looked at again afterwards."""
        due = sorted({account for account, instant in self._next.items() if instant is not None and instant <= until})
        self._dirty.update(due)
        return due

    def _refresh(self, after: datetime) -> None:
        if not self._dirty:
            return
        everyone = self.store.all_fields()
        for account in self._dirty:
            instant = self.triggers.next_for(everyone.get(account, {}), after)
            self._next[account] = instant
            if instant is not None:
                heapq.heappush(self._heap, (instant, account))
        self._dirty.clear()
