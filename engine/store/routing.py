"""Which stored events have been routed: so an event stored while the engine was down is not lost.

Ingestion stores first and routes second. A change is marked routed once its journeys were
started or signalled; `unrouted()` lists the ones that never were (the process stopped, Temporal
was unreachable), oldest first, for a sweep to route again. Routing is idempotent, so a change
routed twice starts nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from sys import intern
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from engine.records import Change
from engine.store.database import StoreSection
from engine.store.driver import Driver
from engine.store.schema import cursors, events, tasks, trait_history
from engine.store.types import to_utc

__all__ = ["RoutingSection", "event_data"]

CHUNK = 500  # accounts per `IN (…)` of a read about many accounts
# Built once, run with parameters (see `engine.store.database`).
_MARK_ROUTED = update(events).where(events.c.seq == bindparam("change")).values(routed_at=bindparam("routed"))
_TRAITS_OF = (
    select(trait_history.c.account, trait_history.c.field, trait_history.c.value, trait_history.c.at)
    .where(trait_history.c.account.in_(bindparam("accounts", expanding=True)),
           trait_history.c.at <= bindparam("until"))
    .order_by(trait_history.c.account, trait_history.c.at, trait_history.c.seq)
)
_EVENTS_OF = (
    select(events.c.account, events.c.name, events.c.at, events.c.data)
    .where(events.c.account.in_(bindparam("accounts", expanding=True)), events.c.name.is_not(None),
           events.c.at <= bindparam("until"))
    .order_by(events.c.account, events.c.at, events.c.seq)
)

# Read ahead for a run of routing, many accounts at once: on the driver's cursor (`engine.store.driver`).
_TRAITS_SQL = "SELECT account, field, value, at FROM trait_history WHERE account IN ({marks}) ORDER BY account, at, seq"
_CHANGES_SQL = "SELECT account, seq, name, at, data FROM events WHERE account IN ({marks}) ORDER BY account, at, seq"
_COUNTS_SQL = "SELECT id, changes FROM accounts WHERE id IN ({marks})"  # kept by the change insert (0018)
_MARK_SQL = "UPDATE events SET routed_at = ? WHERE seq IN ({marks})"

TraitRows = list[tuple[str, Any, datetime]]
EventRows = list[tuple[str, datetime, Any]]

_EMPTY = "{}"  # an empty payload as SQLite stores it: one object for all of them in memory
_MARK_CHUNK = 500  # seqs per UPDATE: under every database's limit of parameters


class RoutingSection(StoreSection):
    def mark_routed(self, seqs: Sequence[int], at: datetime) -> None:
        """Mark the changes routed, in one transaction whatever their number."""
        if not seqs:
            return
        ordered = sorted(set(seqs))
        with self._db.write() as conn:
            driver = Driver(conn)  # 500 parameters cost SQLAlchemy more than SQLite
            routed = driver.micros_time(at)  # `routed_at` is `UtcMicros`
            for first in range(0, len(ordered), _MARK_CHUNK):
                chunk = ordered[first:first + _MARK_CHUNK]
                driver.execute(_MARK_SQL.format(marks=", ".join("?" * len(chunk))), [routed, *chunk])

    def mark_routed_each(self, marks: Sequence[tuple[int, datetime]]) -> None:
        """`mark_routed` for many changes, each with its own time: (seq, routed at), one transaction."""
        if not marks:
            return
        with self._db.write() as conn:
            conn.execute(_MARK_ROUTED, [{"change": seq, "routed": to_utc(at)} for seq, at in marks])

    def histories_of(
        self, accounts: Sequence[str], until: datetime
    ) -> tuple[dict[str, list[tuple[str, Any, datetime]]], dict[str, list[tuple[str, datetime, dict[str, Any]]]]]:
        """What `fields_at` and `events_until` read, for many accounts up to `until` in one read: each
        account's trait history (field, value, at) in the order of `at` and id, and its named events
        (name, at, data) in the order of `at` and seq."""
        names = sorted(set(accounts))
        traits: dict[str, list[tuple[str, Any, datetime]]] = {name: [] for name in names}
        named: dict[str, list[tuple[str, datetime, dict[str, Any]]]] = {name: [] for name in names}
        stop = to_utc(until)
        with self._db.read() as conn:
            for first in range(0, len(names), CHUNK):
                parameters = {"accounts": names[first:first + CHUNK], "until": stop}
                for row in conn.execute(_TRAITS_OF, parameters):
                    traits[row.account].append((row.field, row.value, row.at))
                for row in conn.execute(_EVENTS_OF, parameters):
                    named[row.account].append((row.name, row.at, dict(row.data)))
        return traits, named

    def change_histories_of(self, accounts: Sequence[str]) -> dict[str, tuple[TraitRows, EventRows, set[int]]]:
        """Every stored change of many accounts, in one read: each account's trait history (field,
        value, at) and named events (name, at, data as read: `event_data` decodes it) in time order,
        and the seqs of all its changes."""
        names = sorted(set(accounts))
        found: dict[str, tuple[TraitRows, EventRows, set[int]]] = {name: ([], [], set()) for name in names}
        with self._db.read() as conn:
            driver = Driver(conn)
            for first in range(0, len(names), CHUNK):
                chunk = names[first:first + CHUNK]
                marks = ", ".join("?" * len(chunk))
                times = _Times(driver)
                for account, field, value, at in driver.execute(_TRAITS_SQL.format(marks=marks), chunk).fetchall():
                    found[account][0].append((intern(field), driver.read_json(value), times.read(at)))
                for account, seq, name, at, data in driver.execute(_CHANGES_SQL.format(marks=marks), chunk).fetchall():
                    _, named, seqs = found[account]
                    seqs.add(seq)
                    if name is not None:  # the payload as read: decoded only when asked for (`event_data`)
                        named.append((intern(name), times.read(at), _EMPTY if data == _EMPTY else data))
        return found

    def change_counts_of(self, accounts: Sequence[str]) -> dict[str, int]:
        """How many changes are stored for each of the accounts (absent: none): the counter the store's
        change insert keeps on each account's row, read by primary key (not a count of its events)."""
        names = sorted(set(accounts))
        found: dict[str, int] = {}
        with self._db.read() as conn:
            driver = Driver(conn)
            for first in range(0, len(names), CHUNK):
                chunk = names[first:first + CHUNK]
                cursor = driver.execute(_COUNTS_SQL.format(marks=", ".join("?" * len(chunk))), chunk)
                found.update((account, int(number)) for account, number in cursor.fetchall())
        return found

    def unrouted(self, limit: int = 1000, *, received_before: datetime | None = None,
                 after: int | None = None, accounts: Sequence[str] | None = None) -> list[Change]:
        """Stored changes never marked routed, oldest first (the traits as they were sent), with a
        `seq` over `after` when given, of `accounts` when given. A `task_completed` comes back
        with the tasks it closed."""
        query = select(events).where(events.c.routed_at.is_(None)).order_by(events.c.seq).limit(limit)
        if accounts is not None:
            query = query.where(events.c.account.in_(list(accounts)))
        if received_before is not None:
            query = query.where(events.c.received_at < to_utc(received_before))
        if after is not None:
            query = query.where(events.c.seq > after)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
            return [Change(seq=row.seq, event_id=row.id, account=row.account, at=row.at, event=row.name,
                           data=dict(row.data or {}), traits=dict(row.traits or {}), source=row.source,
                           received_at=row.received_at,
                           closed_tasks=_closed_by(conn, row) if row.name == "task_completed" else [])
                    for row in rows]

    def cursor(self, name: str) -> datetime | None:
        """How far the periodic work `name` has gone (None: it never ran on this store)."""
        with self._db.read() as conn:
            return conn.execute(select(cursors.c.at).where(cursors.c.name == name)).scalar()

    def set_cursor(self, name: str, at: datetime) -> None:
        """Move the cursor `name` forward to `at` (never back)."""
        with self._db.write() as conn:
            found = conn.execute(select(cursors.c.at).where(cursors.c.name == name)).scalar()
            if found is None:
                conn.execute(insert(cursors).values(name=name, at=to_utc(at)))
            elif to_utc(found) < to_utc(at):
                conn.execute(update(cursors).where(cursors.c.name == name).values(at=to_utc(at)))

    def unrouted_count(self, *, received_before: datetime | None = None) -> int:
        query = select(func.count()).select_from(events).where(events.c.routed_at.is_(None))
        if received_before is not None:
            query = query.where(events.c.received_at < to_utc(received_before))
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())


class _Times:
    """Times as read, the same object for the same stored time in a row (a change's traits share
    its time): histories kept in memory hold one object per moment, not one per row."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.stored: Any = None
        self.last: datetime | None = None

    def read(self, stored: Any) -> datetime:
        if stored != self.stored or self.last is None:
            self.stored, self.last = stored, self.driver.read_time(stored)
        return self.last


def event_data(data: Any) -> dict[str, Any]:
    """An event's payload as `change_histories_of` hands it over (SQLite's JSON text, PostgreSQL's
    decoded jsonb, or a payload in memory): a fresh dict."""
    return dict(json.loads(data)) if isinstance(data, str) else dict(data)


def _closed_by(conn: Any, row: Any) -> list[str]:
    """The tasks a stored `task_completed` closed: done at its time, the one it names or its playbook's."""
    data = row.data or {}
    query = select(tasks.c.id).where(tasks.c.account == row.account, tasks.c.status == "done",
                                     tasks.c.completed_at == row.at)
    if isinstance(data.get("task"), str):
        query = query.where(tasks.c.id == data["task"])
    elif isinstance(data.get("playbook"), str):
        query = query.where(tasks.c.playbook == data["playbook"])
    else:
        return []
    return list(conn.execute(query.order_by(tasks.c.created_at, tasks.c.id)).scalars())
