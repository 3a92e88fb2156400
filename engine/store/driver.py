"""The store's hot statements, run on the database driver's own cursor.

A journey's every step reads the account and writes a row or two; through SQLAlchemy's statement
machinery each of those statements costs ten times what SQLite takes to run it. The statements
on that path are written out here once per dialect and run on the DBAPI cursor of the caller's
SQLAlchemy transaction (so locking and commit stay with `engine.store.database`). Values are
encoded exactly as the store's column types encode them (`engine.store.types`): on SQLite, times
as naive UTC text with microseconds and JSON as text; on PostgreSQL, aware datetimes and jsonb.

SQL is written with `?` for a value and `?j` for a JSON value; `Driver.sql` turns it into the
dialect's form (`%s` and `%s::jsonb` for psycopg).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from engine.store.types import dumps_json, micros, to_utc

__all__ = ["Driver", "sqlite_json", "sqlite_time"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@functools.lru_cache(maxsize=8192)
def sqlite_time(value: datetime) -> str:
    """A time as `UtcDateTime` stores it on SQLite (remembered: a journey repeats its instants)."""
    return to_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


@functools.lru_cache(maxsize=8192)
def _sqlite_read_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def sqlite_json(value: Any) -> Any:
    """A JSON column's value as SQLite's DBAPI reads it: text to decode, or a bare number kept as a
    number (SQLite's JSON columns have numeric affinity)."""
    return json.loads(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=256)
def _postgres_sql(sql: str) -> str:
    return sql.replace("?j", "%s::jsonb").replace("?", "%s")


class Driver:
    """The DBAPI cursor of `conn`'s transaction, with the dialect's way of writing values."""

    def __init__(self, conn: Connection) -> None:
        self.dialect = conn.dialect.name
        if self.dialect not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {self.dialect}")
        self.sqlite = self.dialect == "sqlite"
        self.cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def sql(self, sql: str) -> str:
        return sql.replace("?j", "?") if self.sqlite else _postgres_sql(sql)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; the cursor, to fetch from."""
        self.cursor.execute(self.sql(sql), tuple(params))
        return self.cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row: on PostgreSQL, psycopg sends them all in one pipeline."""
        self.cursor.executemany(self.sql(sql), [tuple(row) for row in rows])

    def time(self, value: datetime) -> Any:
        return sqlite_time(value) if self.sqlite else to_utc(value)

    def micros_time(self, value: datetime) -> Any:
        """A time for a `UtcMicros` column (`events.received_at`, `routed_at`): SQLite's integer."""
        return micros(value) if self.sqlite else to_utc(value)

    def read_time(self, value: Any) -> datetime:
        if isinstance(value, int):  # a `UtcMicros` column on SQLite
            return _EPOCH + timedelta(microseconds=value)
        return _sqlite_read_time(value) if isinstance(value, str) else to_utc(value)

    def read_json(self, value: Any) -> Any:
        """A JSON column's value: SQLite's text to decode (or a bare number, kept: its JSON columns
        have numeric affinity); PostgreSQL's jsonb comes decoded (a JSON string is a `str` there)."""
        return sqlite_json(value) if self.sqlite else value

    @staticmethod
    def json(value: Any) -> str:
        """JSON text as the store's `JsonDocument` columns write it (`dumps_json`)."""
        return dumps_json(value)
