"""Each account's fields and events kept in memory from one run of live routing to the next, so
that routing a change costs the same whatever the account's history.

Live routing (the API's router) routes runs of stored changes; each run needs the history of its
accounts (fields as of a moment, events for metrics and `seen`). Reading it again for every run
costs as much as the history is long. `AccountHistories` keeps the histories it read, within a
memory budget (`PLAYBOOK_ROUTING_KEEP_MB`, estimated as `ACCOUNT_BYTES` per account and
`ROW_BYTES` per trait or event row; the least recently routed forgotten first; a history's rows are
counted when a run routes its account), and brings them up to date at the start of each run:

1. the run's own changes (stored moments ago) are added to the histories kept, unless already there;
2. one query reads the change counter of the run's accounts (`accounts.changes`, which the store's
   change insert keeps: a read by primary key per account, whatever its history); a history whose
   number of changes differs from the store's (another process stored a change of the account, a
   change arrived out of time order, the account was erased) is read again whole, as is a history
   not kept yet, unless the run holds every change of the account (one just created, routed as
   it comes): its history is then built from them.

So what another process writes is seen from the next run on, and an account routed over and over
is read once. A history is kept compactly: field and event names shared (interned), one time
object per stored moment, payloads as stored text decoded when asked for, its changes' seqs in an
array.
"""

from __future__ import annotations

import functools
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.records import Change
from engine.store import Store
from engine.store.types import to_utc

__all__ = ["ACCOUNT_BYTES", "ROW_BYTES", "AccountHistories", "History", "configured_keep_bytes"]

# Memory of a kept history, as tracemalloc measures it on the bench timeline (10.7 KB for an account
# of 22 changes, 47 trait and event rows, its metric index built): per account and per row, rounded up.
ACCOUNT_BYTES = 600
ROW_BYTES = 240


@functools.cache
def configured_keep_bytes() -> int:
    """The memory budget of kept histories (`PLAYBOOK_ROUTING_KEEP_MB`), read once per process."""
    from engine.settings import Settings

    return Settings().routing_keep_mb * 1024 * 1024


@dataclass
class History:
    """One account's trait history (field, value, at) and named events (name, at, data), in time
    order; an event's data as the store read it (`engine.store.routing.event_data` decodes it)."""

    traits: list[tuple[str, Any, datetime]] = field(default_factory=list)
    trait_times: list[datetime] = field(default_factory=list)
    events: list[tuple[str, datetime, Any]] = field(default_factory=list)
    event_times: list[datetime] = field(default_factory=list)
    latest: datetime | None = None  # the latest time in `traits` and `events`
    fields: dict[str, Any] = field(default_factory=dict)  # the fields as of `latest`
    seqs: array[int] = field(default_factory=lambda: array("q"))  # the stored changes it holds, in order
    # (name, at) of `events`, and their times by name: built when first asked for, then kept up to date
    stamps: list[tuple[str, datetime]] | None = None
    times_by_name: dict[str, list[datetime]] | None = None

    def stamp_index(self) -> tuple[list[tuple[str, datetime]], dict[str, list[datetime]]]:
        """The events' (name, at) in time order, and each name's times in order (metric windows are
        counted on them by bisection: `engine.semantics.metrics.indexed_metric_values`)."""
        if self.stamps is None or self.times_by_name is None:
            self.stamps = [(name, at) for name, at, _ in self.events]
            self.times_by_name = {}
            for name, at in self.stamps:
                self.times_by_name.setdefault(name, []).append(at)
        return self.stamps, self.times_by_name

    def add(self, change: Change) -> bool:
        """Add a stored change after the others; False when it is older than the latest (the
        history must then be read again)."""
        place = bisect_left(self.seqs, change.seq)
        if place < len(self.seqs) and self.seqs[place] == change.seq:
            return True
        at = to_utc(change.at)
        if self.latest is not None and at < self.latest:
            return False
        self.seqs.insert(place, change.seq)
        self.latest = at
        for name, value in change.traits.items():
            self.traits.append((name, value, at))
            self.trait_times.append(at)
            if value is None:
                self.fields.pop(name, None)
            else:
                self.fields[name] = value
        if change.event is not None:
            self.events.append((change.event, at, dict(change.data)))
            self.event_times.append(at)
            if self.stamps is not None and self.times_by_name is not None:
                self.stamps.append((change.event, at))
                self.times_by_name.setdefault(change.event, []).append(at)
        return True


class AccountHistories:
    def __init__(self, store: Store, *, keep_bytes: int | None = None) -> None:
        self.store = store
        self.keep_bytes = configured_keep_bytes() if keep_bytes is None else keep_bytes
        self._kept: OrderedDict[str, History] = OrderedDict()
        # estimated bytes of each history as last counted (at the end of `for_run`, the run's accounts), and the sum
        self._sizes: dict[str, int] = {}
        self._bytes = 0
        self.reads = 0  # histories read whole from the store (for tests and benchmarks)

    def __len__(self) -> int:
        return len(self._kept)

    def for_run(self, accounts: Collection[str], changes: Sequence[Change] = ()) -> dict[str, History]:
        """The histories of `accounts`, up to date with the store, for a run routing `changes`."""
        names = sorted(set(accounts))
        stale: set[str] = set()
        for change in changes:
            history = self._kept.get(change.account)
            if history is not None and not history.add(change):
                stale.add(change.account)
        counts = self.store.change_counts_of(names)
        for name in names:
            history = self._kept.get(name)
            if history is None or name in stale or len(history.seqs) != counts.get(name, 0):
                stale.add(name)
        stale -= self._built_from_run(stale, changes, counts)
        if stale:
            self._read(sorted(stale))
        found: dict[str, History] = {}
        for name in names:
            self._kept.move_to_end(name)
            history = found[name] = self._kept[name]
            size = ACCOUNT_BYTES + ROW_BYTES * (len(history.traits) + len(history.events))
            self._bytes += size - self._sizes.get(name, 0)  # counted for the run's accounts only: flat per run
            self._sizes[name] = size
        while self._kept and self._bytes > self.keep_bytes:
            forgotten, _ = self._kept.popitem(last=False)  # the run's own are last: kept unless alone too big
            self._bytes -= self._sizes.pop(forgotten, 0)
        return found

    def _built_from_run(self, stale: set[str], changes: Sequence[Change], counts: dict[str, int]) -> set[str]:
        """The accounts not kept whose every stored change is in the run (an account just created,
        routed as it comes): their histories built from the run's changes, in time order, instead of
        read; the others (and one whose changes are not in time order) are left to be read."""
        own: dict[str, list[Change]] = {}
        for change in changes:
            if change.account in stale and change.account not in self._kept:
                own.setdefault(change.account, []).append(change)
        built: set[str] = set()
        for name, found in own.items():
            if len({change.seq for change in found}) != counts.get(name, 0):
                continue
            history = History()
            if all(history.add(change) for change in sorted(found, key=lambda change: change.seq)):
                self._kept[name] = history
                built.add(name)
        return built

    def forget(self) -> None:
        self._kept.clear()
        self._sizes.clear()
        self._bytes = 0

    def _read(self, names: list[str]) -> None:
        self.reads += len(names)
        for name, (traits, events, seqs) in self.store.change_histories_of(names).items():
            history = History(traits=traits, trait_times=[at for _, _, at in traits], events=events,
                              event_times=[at for _, at, _ in events], seqs=array("q", sorted(seqs)))
            history.latest = max(history.trait_times[-1:] + history.event_times[-1:], default=None)
            for field_name, value, _ in traits:
                if value is None:
                    history.fields.pop(field_name, None)
                else:
                    history.fields[field_name] = value
            self._kept[name] = history
