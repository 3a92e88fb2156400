"""The statements of a batch of input objects (`engine.store.trait_batch`), on each database's
own DBAPI cursor: `SqliteBatchStatements` and `PostgresBatchStatements` answer the same questions
and make the same writes, each in the fewest round trips its database allows.

`accounts.traits_at` (when each field was last observed) is stored packed, by time: `{"<ISO
time>": [field, ...]}`, since most fields of an account arrive together; the batch works on it
unpacked (`{field: ISO time}`). A row written before packing (values are text) reads as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from engine.store.driver import sqlite_json, sqlite_time
from engine.store.rows import BatchAccount, NewChange
from engine.store.types import fast_json, micros, to_utc

__all__ = ["ID_CHUNK", "BatchStatements", "HistoryRow", "Lookup", "PostgresBatchStatements", "SqliteBatchStatements",
           "pack_stamps", "unpack_stamps"]

ID_CHUNK = 500  # ids per `IN (…)` of a batch's reads: well under every database's limit of parameters
Lookup = tuple[str, str, datetime]  # (account, field, at): a late value's question to the history
HistoryRow = tuple[str, str, Any, datetime, int]  # (account, field, value, at, seq): a trait_history row


def _json(value: Any) -> str:
    return fast_json(value)


def _ids(rows: Any) -> list[str]:
    return [row[0] for row in rows]


def pack_stamps(stamps: dict[str, str]) -> dict[str, list[str]]:
    """`{field: time}` as stored: `{time: [fields]}`."""
    packed: dict[str, list[str]] = {}
    for field, stamp in stamps.items():
        packed.setdefault(stamp, []).append(field)
    return packed


def unpack_stamps(stored: dict[str, Any]) -> dict[str, str]:
    """The stored `traits_at`, packed or not, as `{field: time}`."""
    unpacked: dict[str, str] = {}
    for key, value in stored.items():
        if isinstance(value, list):
            for field in value:
                unpacked[field] = key
        else:
            unpacked[key] = value
    return unpacked


class SqliteBatchStatements:
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
        received = micros(now)  # `received_at` is `UtcMicros`
        self.cursor.executemany(
            "INSERT INTO events (seq, id, account, name, at, data, traits, source, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(seq, new.event_id, new.account, new.event, self.time(at), _json(new.data), _json(new.traits),
              new.source, received) for seq, new, at in rows])
        return None

    def account_traits(self, names: list[str]) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
        marks = self._marks(len(names))
        rows = self.cursor.execute(f"SELECT id, traits, traits_at FROM accounts WHERE id IN ({marks})", names)
        return [(name, sqlite_json(traits), unpack_stamps(sqlite_json(traits_at))) for name, traits, traits_at in rows]

    def existing_accounts(self, names: list[str]) -> list[str]:
        return _ids(self.cursor.execute(f"SELECT id FROM accounts WHERE id IN ({self._marks(len(names))})", names))

    def values_at(self, wanted: list[Lookup]) -> dict[Lookup, tuple[datetime, Any]]:
        """For each (account, field, at): the latest stored history entry at or before `at`, as (its
        time, its value)."""
        found: dict[Lookup, tuple[datetime, Any]] = {}
        for first in range(0, len(wanted), ID_CHUNK // 4):
            chunk = wanted[first:first + ID_CHUNK // 4]
            rows = self.cursor.execute(
                "WITH q(k, account, field, at) AS (VALUES " + ", ".join("(?, ?, ?, ?)" for _ in chunk) + ") "
                "SELECT q.k, h.at, h.value FROM q JOIN trait_history AS h ON h.account = q.account "
                "AND h.field = q.field AND (h.at, h.seq) = (SELECT at, seq FROM trait_history WHERE "
                "account = q.account AND field = q.field AND at <= q.at ORDER BY at DESC, seq DESC LIMIT 1)",
                [item for k, (account, field, at) in enumerate(chunk) for item in (k, account, field, self.time(at))])
            for k, at, value in rows:
                found[chunk[k]] = (datetime.fromisoformat(at).replace(tzinfo=UTC), sqlite_json(value))
        return found

    def insert_history(self, rows: list[HistoryRow]) -> None:
        self.cursor.executemany(
            "INSERT INTO trait_history (account, field, value, at, seq) VALUES (?, ?, ?, ?, ?)",
            [(account, field, _json(value), self.time(at), seq) for account, field, value, at, seq in rows])

    def write_accounts(self, accounts: dict[str, BatchAccount], now: datetime) -> None:
        stamp = self.time(now)
        created = [(name, _json(a.traits), _json(pack_stamps(a.traits_at)), stamp, stamp, a.changes)
                   for name, a in accounts.items() if not a.exists]
        updated = [(_json(a.traits), _json(pack_stamps(a.traits_at)), stamp, a.changes, name)
                   for name, a in accounts.items() if a.exists and a.touched]
        counted = [(a.changes, name) for name, a in accounts.items() if a.exists and not a.touched and a.changes]
        if created:
            self.cursor.executemany("INSERT INTO accounts (id, traits, traits_at, created_at, updated_at, changes) "
                                    "VALUES (?, ?, ?, ?, ?, ?)", created)
        if updated:
            self.cursor.executemany("UPDATE accounts SET traits = ?, traits_at = ?, updated_at = ?, "
                                    "changes = changes + ? WHERE id = ?", updated)
        if counted:
            self.cursor.executemany("UPDATE accounts SET changes = changes + ? WHERE id = ?", counted)


class PostgresBatchStatements:
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
        return [(name, traits, unpack_stamps(traits_at)) for name, traits, traits_at in rows]  # jsonb comes decoded

    def existing_accounts(self, names: list[str]) -> list[str]:
        return _ids(self.cursor.execute("SELECT id FROM accounts WHERE id = ANY(%b::text[])", (names,)))

    def values_at(self, wanted: list[Lookup]) -> dict[Lookup, tuple[datetime, Any]]:
        """For each (account, field, at): the latest stored history entry at or before `at`, as (its
        time, its value)."""
        rows = self.cursor.execute(
            "SELECT q.k, h.at, h.value FROM unnest(%b::int[], %b::text[], %b::text[], %b::timestamptz[]) "
            "AS q(k, account, field, at) JOIN LATERAL (SELECT at, value FROM trait_history "
            "WHERE account = q.account AND field = q.field AND at <= q.at ORDER BY at DESC, seq DESC LIMIT 1) "
            "AS h ON true",
            [list(range(len(wanted))), *(list(column) for column in zip(*wanted, strict=True))])
        return {wanted[k]: (to_utc(at), value) for k, at, value in rows}  # jsonb comes decoded

    def insert_history(self, rows: list[HistoryRow]) -> None:
        columns: list[list[Any]] = [[], [], [], [], []]
        for account, field, value, at, seq in rows:
            for column, item in zip(columns, (account, field, _json(value), at, seq), strict=True):
                column.append(item)
        self.cursor.execute(
            "INSERT INTO trait_history (account, field, value, at, seq) "
            "SELECT account, field, value::jsonb, at, seq FROM unnest(%b::text[], %b::text[], %b::text[], "
            "%b::timestamptz[], %b::int[]) WITH ORDINALITY "
            "AS u(account, field, value, at, seq, n) ORDER BY n", columns)

    def write_accounts(self, accounts: dict[str, BatchAccount], now: datetime) -> None:
        created = [(name, _json(a.traits), _json(pack_stamps(a.traits_at)), a.changes)
                   for name, a in accounts.items() if not a.exists]
        updated = [(name, _json(a.traits), _json(pack_stamps(a.traits_at)), a.changes)
                   for name, a in accounts.items() if a.exists and a.touched]
        counted = [(name, a.changes) for name, a in accounts.items() if a.exists and not a.touched and a.changes]
        if created:
            self.cursor.execute(
                "INSERT INTO accounts (id, traits, traits_at, created_at, updated_at, changes) "
                "SELECT id, traits::jsonb, traits_at::jsonb, %s, %s, changes "
                "FROM unnest(%b::text[], %b::text[], %b::text[], %b::int[]) AS u(id, traits, traits_at, changes)",
                (now, now, *map(list, zip(*created, strict=True))))
        if updated:
            self.cursor.execute(
                "UPDATE accounts AS a SET traits = u.traits::jsonb, traits_at = u.traits_at::jsonb, updated_at = %s, "
                "changes = a.changes + u.changes FROM unnest(%b::text[], %b::text[], %b::text[], %b::int[]) "
                "AS u(id, traits, traits_at, changes) WHERE a.id = u.id",
                (now, *map(list, zip(*updated, strict=True))))
        if counted:
            self.cursor.execute(
                "UPDATE accounts AS a SET changes = a.changes + u.changes "
                "FROM unnest(%b::text[], %b::int[]) AS u(id, changes) WHERE a.id = u.id",
                tuple(map(list, zip(*counted, strict=True))))


BatchStatements = SqliteBatchStatements | PostgresBatchStatements
