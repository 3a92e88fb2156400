"""Accounts, their trait history and their events.

Traits follow the last writer by time: a value observed at `at` replaces the current one unless
the field was already observed later (a late, older value then goes only into the history, so
`fields_at` for past times sees it). The history records changes, not repeats of the same value.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from engine.records import Change
from engine.store.database import StoreSection
from engine.store.driver import Driver, sqlite_json, sqlite_time
from engine.store.reserved import RESERVED_EVENTS, apply_reserved_event
from engine.store.rows import NewChange
from engine.store.schema import accounts, events
from engine.store.types import fast_json, to_utc

__all__ = ["AccountSection", "same_value"]

_MISSING = object()
ID_CHUNK = 500  # ids per `IN (…)` of a batch's reads: well under every database's limit of parameters
_Lookup = tuple[str, str, datetime]  # (account, field, at): a late value's question to the history

# Built once, run with parameters (see `engine.store.database`).
_EVENTS_UNTIL = (
    select(events.c.name, events.c.at, events.c.data)
    .where(events.c.account == bindparam("account"), events.c.name.is_not(None),
           events.c.at <= bindparam("at"))
    .order_by(events.c.at, events.c.seq)
)
_NAMED_EVENTS_UNTIL = _EVENTS_UNTIL.where(events.c.name.in_(bindparam("names", expanding=True)))


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON values: `1 == 1.0`, but `True` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


class AccountSection(StoreSection):
    def add_change(
        self,
        account: str,
        at: datetime,
        *,
        event: str | None,
        data: dict[str, Any],
        traits: dict[str, Any],
        event_id: str | None,
        source: str = "ingest",
    ) -> Change | None:
        """Store one input object; None when `event_id` was stored before (nothing changes).

        One transaction: the event row, the traits that changed (with their history), and the
        effect of a reserved event (`engine.store.reserved`).
        """
        new = NewChange(account=account, at=at, event=event, data=data, traits=traits, event_id=event_id,
                        source=source)
        return self.add_changes([new])[0]

    def add_changes(self, changes: Sequence[NewChange], received_at: datetime | None = None) -> list[Change | None]:
        """`add_change` for each, in order, in one transaction: set-based (see `_Batch`).

        The result has one entry per input: the stored `Change`, or None for an `event_id` stored
        before or repeated earlier in the same batch. `received_at` is the arrival moment stored
        with them (default: the wall clock; a simulation or a process on another clock gives its own).
        """
        if not changes:
            return []
        now = to_utc(received_at) if received_at is not None else datetime.now(UTC)
        with self._db.write(*{new.account for new in changes}) as conn:
            return _Batch(conn, now).store(changes)


    def account_ids(self) -> list[str]:
        with self._db.read() as conn:
            return list(conn.execute(select(accounts.c.id).order_by(accounts.c.id)).scalars())

    def current_fields(self, account: str) -> dict[str, Any]:
        """The account's fields now; an unknown account has none."""
        with self._db.read() as conn:
            traits = conn.execute(select(accounts.c.traits).where(accounts.c.id == account)).scalar()
        return dict(traits or {})

    def all_fields(self) -> dict[str, dict[str, Any]]:
        """Every account's current fields, by account id."""
        with self._db.read() as conn:
            rows = conn.execute(select(accounts.c.id, accounts.c.traits).order_by(accounts.c.id))
            return {row.id: dict(row.traits) for row in rows}

    def fields_at(self, account: str, at: datetime) -> dict[str, Any]:
        """The account's fields as they stood at `at`, from the trait history."""
        with self._db.read() as conn:
            return _fields_at(Driver(conn), account, at)

    def fields_and_event_stamps(self, account: str, at: datetime) -> tuple[dict[str, Any], list[tuple[str, datetime]]]:
        """`fields_at` and `event_stamps_until`, read together: what a snapshot is made of."""
        with self._db.read() as conn:
            driver = Driver(conn)
            return _fields_at(driver, account, at), _event_stamps_until(driver, account, at)

    def events_until(
        self, account: str, at: datetime, names: set[str] | None = None
    ) -> list[tuple[str, datetime, dict[str, Any]]]:
        """The account's named events at or before `at`, oldest first."""
        parameters: dict[str, Any] = {"account": account, "at": to_utc(at)}
        if names is not None:
            parameters["names"] = sorted(names)
        with self._db.read() as conn:
            rows = conn.execute(_EVENTS_UNTIL if names is None else _NAMED_EVENTS_UNTIL, parameters)
            return [(row.name, row.at, dict(row.data)) for row in rows]

    def event_stamps_until(self, account: str, at: datetime) -> list[tuple[str, datetime]]:
        """The names and times of the account's events at or before `at`, oldest first: what a
        snapshot reads of them (`events_until` without the payloads)."""
        with self._db.read() as conn:
            return _event_stamps_until(Driver(conn), account, at)


# A snapshot's reads: on the driver's cursor (`engine.store.driver`), once per journey step.
_FIELDS_AT_SQL = "SELECT field, value FROM trait_history WHERE account = ? AND at <= ? ORDER BY at, id"
_EVENT_STAMPS_SQL = ("SELECT name, at FROM events WHERE account = ? AND name IS NOT NULL AND at <= ? "
                     "ORDER BY at, seq")


def _fields_at(driver: Driver, account: str, at: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for field, stored in driver.execute(_FIELDS_AT_SQL, (account, driver.time(at))).fetchall():
        value = driver.read_json(stored)
        if value is None:
            fields.pop(field, None)
        else:
            fields[field] = value
    return fields


def _event_stamps_until(driver: Driver, account: str, at: datetime) -> list[tuple[str, datetime]]:
    rows = driver.execute(_EVENT_STAMPS_SQL, (account, driver.time(at))).fetchall()
    return [(name, driver.read_time(stamp)) for name, stamp in rows]


class _Batch:
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
    (`_Sqlite`, `_Postgres`): they encode values exactly as the store's column types do
    (`engine.store.types`), at a fraction of the cost per row.
    """

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.sql: _Sqlite | _Postgres = _Postgres(conn) if conn.dialect.name == "postgresql" else _Sqlite(conn)
        self.history: list[tuple[str, str, Any, datetime, int, str]] = []
        self.accounts: dict[str, _Account] = {}
        self.stored_at: dict[_Lookup, tuple[datetime, Any]] = {}
        self.written: dict[tuple[str, str], list[tuple[datetime, Any]]] = {}  # the batch's history, by field

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
                self.accounts[name] = _Account(traits, traits_at, exists=True)
        for first in range(0, len(others), ID_CHUNK):
            for name in self.sql.existing_accounts(others[first:first + ID_CHUNK]):
                self.accounts[name] = _Account({}, {}, exists=True, loaded=False)
        for name in (*with_traits, *others):
            if name not in self.accounts:
                self.accounts[name] = _Account({}, {}, exists=False)

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
        self.history.append((new.account, field, value, at, seq, new.source))
        self.written.setdefault((new.account, field), []).append((at, value))

    def _look_up_late_values(self, changes: list[tuple[NewChange, datetime]]) -> None:
        """Find the values that arrive late (older than the field's last observation), in a dry run
        of the trait rules, and read the stored value then in effect for each, in one query."""
        observed: dict[str, dict[str, str]] = {}
        wanted: list[_Lookup] = []
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


class _Account:
    """An account's traits as the batch changes them."""

    __slots__ = ("exists", "loaded", "touched", "traits", "traits_at")

    def __init__(self, traits: dict[str, Any], traits_at: dict[str, str], *, exists: bool,
                 loaded: bool = True) -> None:
        self.traits = traits
        self.traits_at = traits_at
        self.exists = exists
        self.loaded = loaded  # False: an existing account whose traits this batch neither read nor changes
        self.touched = False


def _json(value: Any) -> str:
    return fast_json(value)


def _ids(rows: Any) -> list[str]:
    return [row[0] for row in rows]


class _Sqlite:
    """The batch's statements on SQLite's DBAPI cursor. Times are stored as SQLAlchemy stores them
    there (naive UTC text with microseconds, `types.UtcDateTime`), JSON as `dumps_json` text."""

    def __init__(self, conn: Connection) -> None:
        self.cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    time = staticmethod(sqlite_time)  # as `UtcDateTime` stores it on SQLite

    @staticmethod
    def _marks(count: int) -> str:
        return ", ".join("?" * count)

    def stored_ids(self, ids: list[str]) -> list[str]:
        return _ids(self.cursor.execute(f"SELECT id FROM events WHERE id IN ({self._marks(len(ids))})", ids))

    def allocate(self, count: int) -> list[int]:
        last = self.cursor.execute("SELECT max(seq) FROM events").fetchone()[0] or 0
        return list(range(last + 1, last + 1 + count))

    def insert_events(self, rows: list[tuple[int, NewChange, datetime]], now: datetime) -> set[int] | None:
        """Insert the rows; None: every one was inserted (the write lock is held: no id was stored since)."""
        received = self.time(now)
        self.cursor.executemany(
            "INSERT INTO events (seq, id, account, name, at, data, traits, source, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(seq, new.event_id, new.account, new.event, self.time(at), _json(new.data), _json(new.traits),
              new.source, received) for seq, new, at in rows])
        return None

    def account_traits(self, names: list[str]) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
        marks = self._marks(len(names))
        rows = self.cursor.execute(f"SELECT id, traits, traits_at FROM accounts WHERE id IN ({marks})", names)
        return [(name, sqlite_json(traits), sqlite_json(traits_at)) for name, traits, traits_at in rows]

    def existing_accounts(self, names: list[str]) -> list[str]:
        return _ids(self.cursor.execute(f"SELECT id FROM accounts WHERE id IN ({self._marks(len(names))})", names))

    def values_at(self, wanted: list[_Lookup]) -> dict[_Lookup, tuple[datetime, Any]]:
        """For each (account, field, at): the latest stored history entry at or before `at`, as (its
        time, its value)."""
        found: dict[_Lookup, tuple[datetime, Any]] = {}
        for first in range(0, len(wanted), ID_CHUNK // 4):
            chunk = wanted[first:first + ID_CHUNK // 4]
            rows = self.cursor.execute(
                "WITH q(k, account, field, at) AS (VALUES " + ", ".join("(?, ?, ?, ?)" for _ in chunk) + ") "
                "SELECT q.k, h.at, h.value FROM q JOIN trait_history AS h ON h.id = ("
                "SELECT id FROM trait_history WHERE account = q.account AND field = q.field AND at <= q.at "
                "ORDER BY at DESC, id DESC LIMIT 1)",
                [item for k, (account, field, at) in enumerate(chunk) for item in (k, account, field, self.time(at))])
            for k, at, value in rows:
                found[chunk[k]] = (datetime.fromisoformat(at).replace(tzinfo=UTC), sqlite_json(value))
        return found

    def insert_history(self, rows: list[tuple[str, str, Any, datetime, int, str]]) -> None:
        self.cursor.executemany(
            "INSERT INTO trait_history (account, field, value, at, seq, source) VALUES (?, ?, ?, ?, ?, ?)",
            [(account, field, _json(value), self.time(at), seq, source)
             for account, field, value, at, seq, source in rows])

    def write_accounts(self, accounts: dict[str, _Account], now: datetime) -> None:
        stamp = self.time(now)
        created = [(name, _json(a.traits), _json(a.traits_at), stamp, stamp)
                   for name, a in accounts.items() if not a.exists]
        updated = [(_json(a.traits), _json(a.traits_at), stamp, name)
                   for name, a in accounts.items() if a.exists and a.touched]
        if created:
            self.cursor.executemany("INSERT INTO accounts (id, traits, traits_at, created_at, updated_at) "
                                    "VALUES (?, ?, ?, ?, ?)", created)
        if updated:
            self.cursor.executemany("UPDATE accounts SET traits = ?, traits_at = ?, updated_at = ? WHERE id = ?",
                                    updated)


class _Postgres:
    """The batch's statements on psycopg's cursor: each one statement over arrays (`unnest`), so a
    batch costs a few round trips. Arrays go in binary (`%b`: no quoting and escaping of each
    element); JSON as `dumps_json` text cast to jsonb."""

    def __init__(self, conn: Connection) -> None:
        self.cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def stored_ids(self, ids: list[str]) -> list[str]:
        return _ids(self.cursor.execute("SELECT id FROM events WHERE id = ANY(%b::text[])", (ids,)))

    def allocate(self, count: int) -> list[int]:
        rows = self.cursor.execute("SELECT nextval(pg_get_serial_sequence('events', 'seq')) "
                                   "FROM generate_series(1, %s)", (count,))
        return sorted(row[0] for row in rows)

    def insert_events(self, rows: list[tuple[int, NewChange, datetime]], now: datetime) -> set[int]:
        """Insert the rows; the `seq`s inserted (another writer, locking other accounts, may have
        stored one of the ids since they were checked)."""
        columns: list[list[Any]] = [[], [], [], [], [], [], [], []]
        for seq, new, at in rows:
            for column, value in zip(columns, (seq, new.event_id, new.account, new.event, at, _json(new.data),
                                               _json(new.traits), new.source), strict=True):
                column.append(value)
        self.cursor.execute(
            "INSERT INTO events (seq, id, account, name, at, data, traits, source, received_at) "
            "SELECT seq, id, account, name, at, data::jsonb, traits::jsonb, source, %s "
            "FROM unnest(%b::int[], %b::text[], %b::text[], %b::text[], %b::timestamptz[], %b::text[], %b::text[], "
            "%b::text[]) AS u(seq, id, account, name, at, data, traits, source) "
            "ON CONFLICT DO NOTHING RETURNING seq", (now, *columns))
        return {row[0] for row in self.cursor.fetchall()}

    def account_traits(self, names: list[str]) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
        rows = self.cursor.execute("SELECT id, traits, traits_at FROM accounts WHERE id = ANY(%b::text[])", (names,))
        return [(name, traits, traits_at) for name, traits, traits_at in rows]  # jsonb comes decoded

    def existing_accounts(self, names: list[str]) -> list[str]:
        return _ids(self.cursor.execute("SELECT id FROM accounts WHERE id = ANY(%b::text[])", (names,)))

    def values_at(self, wanted: list[_Lookup]) -> dict[_Lookup, tuple[datetime, Any]]:
        """For each (account, field, at): the latest stored history entry at or before `at`, as (its
        time, its value)."""
        rows = self.cursor.execute(
            "SELECT q.k, h.at, h.value FROM unnest(%b::int[], %b::text[], %b::text[], %b::timestamptz[]) "
            "AS q(k, account, field, at) JOIN LATERAL (SELECT at, value FROM trait_history "
            "WHERE account = q.account AND field = q.field AND at <= q.at ORDER BY at DESC, id DESC LIMIT 1) "
            "AS h ON true",
            [list(range(len(wanted))), *(list(column) for column in zip(*wanted, strict=True))])
        return {wanted[k]: (to_utc(at), value) for k, at, value in rows}  # jsonb comes decoded

    def insert_history(self, rows: list[tuple[str, str, Any, datetime, int, str]]) -> None:
        columns: list[list[Any]] = [[], [], [], [], [], []]
        for account, field, value, at, seq, source in rows:
            for column, item in zip(columns, (account, field, _json(value), at, seq, source), strict=True):
                column.append(item)
        self.cursor.execute(
            "INSERT INTO trait_history (account, field, value, at, seq, source) "
            "SELECT account, field, value::jsonb, at, seq, source FROM unnest(%b::text[], %b::text[], %b::text[], "
            "%b::timestamptz[], %b::int[], %b::text[]) WITH ORDINALITY "
            "AS u(account, field, value, at, seq, source, n) ORDER BY n", columns)

    def write_accounts(self, accounts: dict[str, _Account], now: datetime) -> None:
        created = [(name, _json(a.traits), _json(a.traits_at)) for name, a in accounts.items() if not a.exists]
        updated = [(name, _json(a.traits), _json(a.traits_at))
                   for name, a in accounts.items() if a.exists and a.touched]
        if created:
            self.cursor.execute(
                "INSERT INTO accounts (id, traits, traits_at, created_at, updated_at) "
                "SELECT id, traits::jsonb, traits_at::jsonb, %s, %s FROM unnest(%b::text[], %b::text[], %b::text[]) "
                "AS u(id, traits, traits_at)", (now, now, *map(list, zip(*created, strict=True))))
        if updated:
            self.cursor.execute(
                "UPDATE accounts AS a SET traits = u.traits::jsonb, traits_at = u.traits_at::jsonb, updated_at = %s "
                "FROM unnest(%b::text[], %b::text[], %b::text[]) AS u(id, traits, traits_at) WHERE a.id = u.id",
                (now, *map(list, zip(*updated, strict=True))))


@functools.lru_cache(maxsize=8192)
def _parse_stamp(stamp: str) -> datetime:
    """A field's time of observation as kept in `accounts.traits_at` (ISO text)."""
    return datetime.fromisoformat(stamp)

