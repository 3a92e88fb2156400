"""An index of each account's next time-trigger instant, kept in step with the accounts it has seen change.

`TimeTriggers.next_due` looks at every account; a simulation asks "when is this account's next
time trigger?" for every account at every step of its timeline, each account after a moment of
its own. So it keeps this index instead: each account's fields as last read and its next instant
after the moment it was last asked about, read again only for accounts whose date fields or time
zone changed (or that are new).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dsl import ir
from engine.records import Change
from engine.routing.schedule import TimeTriggers

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["TimeIndex"]

BULK_READ = 50  # more accounts than this to read at once: read every account's fields in one query


class TimeIndex:
    def __init__(self, store: Store, bundle: ir.Bundle) -> None:
        self.store = store
        self.triggers = TimeTriggers(store, bundle)
        self.watched = {"timezone"} | {
            playbook.trigger.field for playbook in self.triggers.playbooks
            if isinstance(playbook.trigger, ir.DateTrigger)
        }
        self._fields: dict[str, dict[str, Any]] = {}
        self._stale: set[str] = set(store.account_ids()) if self.triggers.playbooks else set()
        self._next: dict[str, tuple[datetime, datetime | None]] = {}  # account -> (after, instant)

    def note(self, changes: Iterable[Change]) -> None:
        """Accounts that are new or whose date fields or time zone changed need a new look."""
        if not self.triggers.playbooks:
            return
        for change in changes:
            if change.account not in self._fields or self.watched & set(change.traits):
                self._stale.add(change.account)
                self._next.pop(change.account, None)

    def accounts(self) -> set[str]:
        """The accounts the index knows (those in the store when it was made, and those noted since)."""
        return set(self._fields) | self._stale

    def next_for(self, account: str, after: datetime) -> datetime | None:
        """The account's earliest instant strictly after `after` at which a time trigger may fire."""
        if not self.triggers.playbooks:
            return None
        cached = self._next.get(account)
        if cached is not None and cached[0] == after:
            return cached[1]
        if self._stale:
            self._read()
        fields = self._fields.get(account)
        instant = None if fields is None else self.triggers.next_for(account, fields, after)
        self._next[account] = (after, instant)
        return instant

    def _read(self) -> None:
        if len(self._stale) > BULK_READ:
            everyone = self.store.all_fields()
            for account in self._stale:
                if account in everyone:
                    self._fields[account] = everyone[account]
        else:
            for account in self._stale:
                self._fields[account] = self.store.current_fields(account)
        self._stale.clear()
