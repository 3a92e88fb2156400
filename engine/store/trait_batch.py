"""One batch of input objects stored set-based: the trait rules applied in Python over a handful
of statements (`engine.store.batch_statements`), whatever the batch's size.

Traits follow the last writer by time: a value observed at `at` replaces the current one unless
the field was already observed later (a late, older value then goes only into the history, so
`fields_at` for past times sees it). The history records changes, not repeats of the same value.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine.records import Change
from engine.store.account_cards import CARD_FIELDS, write_cards
from engine.store.batch_statements import (
    ID_CHUNK,
    BatchStatements,
    HistoryRow,
    Lookup,
    PostgresBatchStatements,
    SqliteBatchStatements,
)
from engine.store.reserved import RESERVED_EVENTS, apply_reserved_event
from engine.store.rows import BatchAccount, NewChange
from engine.store.types import to_utc

__all__ = ["BatchAccount", "TraitBatch", "same_value"]

_MISSING = object()


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON values: `1 == 1.0`, but `True` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


class TraitBatch:
    """One batch of input objects stored with a handful of statements, whatever its size.

    1. the ids already stored (one query per `ID_CHUNK` ids) and those repeated in the batch:
       those objects are duplicates and change nothing;
    2. the events, inserted with one statement, with their `seq`s allocated up front (so each
       row's `seq` is known without a round trip per row);
    3. the current traits of the batch's accounts that get traits (one query; the others are only
       checked to exist); the trait rules applied in Python in input order. A late value (older
       than the field's last observation) is compared with the value then in effect: the stored
       history's, read for all of the batch's late values in one query, or the batch's own;
    4. the history rows inserted with one statement, the accounts inserted and updated with one
       statement each; reserved events applied in input order as they come.

    Everything happens in the caller's write transaction, which holds the write lock (SQLite) or
    the batch's account locks (PostgreSQL). The hot statements go straight to the DBAPI cursor
    (`engine.store.batch_statements`): they encode values exactly as the store's column types do
    (`engine.store.types`), at a fraction of the cost per row.
    """

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.sql: BatchStatements = (PostgresBatchStatements(conn) if conn.dialect.name == "postgresql"
                                     else SqliteBatchStatements(conn))
        self.history: list[HistoryRow] = []
        self.accounts: dict[str, BatchAccount] = {}
        self.stored_at: dict[Lookup, tuple[datetime, Any]] = {}
        self.written: dict[tuple[str, str], list[tuple[datetime, Any]]] = {}  # the batch's history, by field
        self.carded: set[str] = set()  # accounts whose card changes: new, or a listed field changed

    def store(self, changes: Sequence[NewChange]) -> list[Change | None]:
        results: list[Change | None] = [None] * len(changes)
        fresh = self._fresh(changes)
        if not fresh:
            return results
        seqs = self.sql.allocate(len(fresh))
        ats = [to_utc(changes[index].at) for index in fresh]
        inserted = self.sql.insert_events(
            [(seq, changes[index], at) for seq, index, at in zip(seqs, fresh, ats, strict=True)], self.now)
        self._load_accounts([changes[index] for index in fresh])
        self._look_up_late_values([(changes[index], at) for seq, index, at in zip(seqs, fresh, ats, strict=True)
                                   if inserted is None or seq in inserted])
        for seq, index, at in zip(seqs, fresh, ats, strict=True):
            if inserted is not None and seq not in inserted:  # the same id, stored meanwhile by another writer
                continue
            new = changes[index]
            self.accounts[new.account].changes += 1
            changed, previous = self._apply_traits(new, at, seq) if new.traits else ({}, {})
            closed: list[str] = []
            if new.event in RESERVED_EVENTS:
                closed = apply_reserved_event(self.conn, new.account, new.event, new.data, at)
            results[index] = Change(
                seq=seq, event_id=new.event_id, account=new.account, at=at, event=new.event, data=new.data,
                traits=changed, previous=previous, source=new.source, closed_tasks=closed,
                received_at=self.now)
        self._flush_history()
        self.sql.write_accounts(self.accounts, self.now)
        carded = self.carded | {name for name, account in self.accounts.items() if not account.exists}
        write_cards(self.conn, {name: self.accounts[name].traits for name in sorted(carded)})
        return results

    def _fresh(self, changes: Sequence[NewChange]) -> list[int]:
        """The indexes of the changes to store: not stored before, not repeated earlier in the batch."""
        ids = list(dict.fromkeys(new.event_id for new in changes if new.event_id is not None))
        seen: set[str] = set()
        for first in range(0, len(ids), ID_CHUNK):
            seen.update(self.sql.stored_ids(ids[first:first + ID_CHUNK]))
        fresh: list[int] = []
        for index, new in enumerate(changes):
            if new.event_id is not None:
                if new.event_id in seen:
                    continue
                seen.add(new.event_id)
            fresh.append(index)
        return fresh

    def _load_accounts(self, changes: list[NewChange]) -> None:
        with_traits = sorted({new.account for new in changes if new.traits})
        others = sorted({new.account for new in changes} - set(with_traits))
        for first in range(0, len(with_traits), ID_CHUNK):
            for name, traits, traits_at in self.sql.account_traits(with_traits[first:first + ID_CHUNK]):
                self.accounts[name] = BatchAccount(traits, traits_at, exists=True)
        for first in range(0, len(others), ID_CHUNK):
            for name in self.sql.existing_accounts(others[first:first + ID_CHUNK]):
                self.accounts[name] = BatchAccount({}, {}, exists=True, loaded=False)
        for name in (*with_traits, *others):
            if name not in self.accounts:
                self.accounts[name] = BatchAccount({}, {}, exists=False)

    def _apply_traits(self, new: NewChange, at: datetime, seq: int) -> tuple[dict[str, Any], dict[str, Any]]:
        account = self.accounts[new.account]
        current, observed = account.traits, account.traits_at
        changed: dict[str, Any] = {}
        previous: dict[str, Any] = {}
        stamp = at.isoformat()
        for field, value in new.traits.items():
            last = observed.get(field)
            if last is not None and last != stamp and at < _parse_stamp(last):
                in_effect = self._value_at(new.account, field, at)
                if (in_effect is _MISSING and value is None) or same_value(in_effect, value):
                    continue
                self._history(new, field, value, at, seq)
                continue
            observed[field] = stamp
            old = current.get(field, _MISSING)
            if (old is _MISSING and value is None) or same_value(old, value):
                continue
            changed[field] = value
            if field in CARD_FIELDS:
                self.carded.add(new.account)
            if old is not _MISSING:
                previous[field] = old
            if value is None:
                del current[field]
            else:
                current[field] = value
            self._history(new, field, value, at, seq)
        account.touched = True
        return changed, previous

    def _history(self, new: NewChange, field: str, value: Any, at: datetime, seq: int) -> None:
        self.history.append((new.account, field, value, at, seq))
        self.written.setdefault((new.account, field), []).append((at, value))

    def _look_up_late_values(self, changes: list[tuple[NewChange, datetime]]) -> None:
        """Find the values that arrive late (older than the field's last observation), in a dry run
        of the trait rules, and read the stored value then in effect for each, in one query."""
        observed: dict[str, dict[str, str]] = {}
        wanted: list[Lookup] = []
        for new, at in changes:
            if not new.traits:
                continue
            stamps = observed.get(new.account)
            if stamps is None:
                stamps = observed[new.account] = dict(self.accounts[new.account].traits_at)
            stamp = at.isoformat()
            for field in new.traits:
                last = stamps.get(field)
                if last is not None and last != stamp and at < _parse_stamp(last):
                    wanted.append((new.account, field, at))
                else:
                    stamps[field] = stamp
        self.stored_at = self.sql.values_at(list(dict.fromkeys(wanted))) if wanted else {}

    def _value_at(self, account: str, field: str, at: datetime) -> Any:
        """The value of the field in effect at `at`: the latest history entry at or before it, the
        batch's own (later in the table than anything stored) included; `_MISSING` if none or null."""
        found = self.stored_at.get((account, field, at))
        for when, value in self.written.get((account, field), ()):
            if when <= at and (found is None or when >= found[0]):
                found = (when, value)
        if found is None or found[1] is None:
            return _MISSING
        return found[1]

    def _flush_history(self) -> None:
        if self.history:
            self.sql.insert_history(self.history)
            self.history = []


@functools.lru_cache(maxsize=8192)
def _parse_stamp(stamp: str) -> datetime:
    """A field's time of observation as kept in `accounts.traits_at` (ISO text)."""
    return datetime.fromisoformat(stamp)
