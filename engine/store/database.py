"""The connection to the database, and how the store's transactions take their locks.

Reads run in ordinary transactions. Writes take the write lock up front so that a
read-check-write (a frequency cap, a trait update) can never interleave with another writer:

- SQLite: `BEGIN IMMEDIATE` (WAL mode, a busy timeout), which serialises writers across threads
  and processes; readers carry on against their snapshot. Writers of one process queue on a lock
  in the process first (`_InProcessWriters`): the next one starts the moment the last commits,
  where SQLite's busy timeout would have it sleep and try again (up to 100 ms a try).
- PostgreSQL: a transaction-scoped advisory lock per account (`pg_advisory_xact_lock`), taken
  before anything is read. Unlike `SELECT … FOR UPDATE` on the account row it needs no row to
  exist yet, so a first message or event for a new account is serialised too.
- An in-memory SQLite database (`sqlite://`, for tests) lives on one shared connection, so the
  store serialises every operation on it with a lock in the process.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, create_engine, event, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from engine.store.types import dumps_json

__all__ = ["Database", "StoreSection", "insert_ignoring", "upsert"]

BUSY_TIMEOUT_SECONDS = 30
_IMMEDIATE = "playbook_sqlite_immediate"
_ADVISORY_LOCK = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("name"), 0)))
# Many locks in one round trip: `unnest` hands the names over in the order given (sorted).
_ADVISORY_LOCKS = text("SELECT count(pg_advisory_xact_lock(hashtextextended(name, 0))) "
                       "FROM unnest(CAST(:names AS text[])) AS name")


class Database:
    """An SQLAlchemy engine plus the locking rules above. Safe to share between threads."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        self.in_memory = self.dialect == "sqlite" and parsed.database in (None, "", ":memory:")
        self._lock: AbstractContextManager[Any] = threading.RLock() if self.in_memory else nullcontext()
        options: dict[str, Any] = {"json_serializer": dumps_json}
        if self.in_memory:
            options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        elif self.dialect == "sqlite":
            options.update(connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
        else:
            options.update(pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **options)
        if self.dialect == "sqlite":
            _take_over_sqlite_transactions(self.engine, wal=not self.in_memory)
        self._writer = self.engine.execution_options(**{_IMMEDIATE: True})
        self._writers: AbstractContextManager[Any] = (
            _InProcessWriters() if self.dialect == "sqlite" and not self.in_memory else nullcontext())
        # the connection of a batch, and the task (or thread) it belongs to
        self._shared: ContextVar[tuple[Connection, object] | None] = ContextVar(f"playbook-batch-{id(self)}",
                                                                               default=None)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        shared = self._shared.get()
        if shared is not None and shared[1] == _owner():
            yield shared[0]
            return
        with self._lock, self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self, *locks: str) -> Iterator[Connection]:
        """A write transaction holding the write lock: on PostgreSQL, the locks named `locks`
        (account ids, usually), taken in sorted order so that two writers cannot deadlock."""
        shared = self._shared.get()
        if shared is not None and shared[1] == _owner():
            yield shared[0]
            return
        with self._lock, self._writers, self._writer.connect() as conn, conn.begin():
            if self.dialect == "postgresql" and locks:
                names = sorted(set(locks))
                if len(names) == 1:
                    conn.execute(_ADVISORY_LOCK, {"name": names[0]})
                else:
                    conn.execute(_ADVISORY_LOCKS, {"names": names})
            yield conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every read and write inside shares one write transaction, committed at the end (SQLite;
        elsewhere each keeps its own). It holds the write lock throughout, so the code inside must
        not wait for anything: a simulation's timeline stores and routes a round of events in one.
        The transaction is the calling task's own: other tasks, even those started inside, never see it."""
        shared = self._shared.get()
        if self.dialect != "sqlite" or (shared is not None and shared[1] == _owner()):
            yield
            return
        with self.write() as conn:
            token = self._shared.set((conn, _owner()))
            try:
                yield
            finally:
                self._shared.reset(token)

    @contextmanager
    def joined(self, conn: Connection) -> Iterator[None]:
        """Every read and write of the calling task (or thread) inside runs in `conn`'s transaction,
        which the caller opened, holds and commits (the shared routing queue's claim)."""
        token = self._shared.set((conn, _owner()))
        try:
            yield
        finally:
            self._shared.reset(token)

    def dispose(self) -> None:
        self.engine.dispose()


class _InProcessWriters:
    """The write transactions of this process, one at a time (a file SQLite store). A writer that
    waited the busy timeout for it goes on to SQLite's own lock, which decides as before (a writer
    of another process, a write nested in a write): the lock saves the busy handler's sleeps
    between writers of this process and changes nothing else."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # re-entrant: a nested write fails in SQLite, as before
        self._taken = threading.local()  # per thread, one entry per write inside it: lock taken or not

    def __enter__(self) -> None:
        taken: list[bool] = self._taken.__dict__.setdefault("stack", [])
        taken.append(self._lock.acquire(timeout=BUSY_TIMEOUT_SECONDS))

    def __exit__(self, *exc: object) -> None:
        if self._taken.stack.pop():
            self._lock.release()


def _owner() -> object:
    """The asyncio task running this code, or else the thread."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop in this thread
        task = None
    return task if task is not None else threading.get_ident()


def _take_over_sqlite_transactions(engine: Engine, *, wal: bool) -> None:
    """Let SQLAlchemy emit BEGIN (deferred for reads, IMMEDIATE for writes) instead of sqlite3."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching a fresh file to WAL while another connection migrates
        # it must wait for that connection, not fail at once with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        # a statement that fires a trigger keeps a statement journal, past 64 KiB (a card's row
        # and its dozen indexes) in a temporary file, one per statement: in memory instead
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        # straight to sqlite3: through SQLAlchemy's statement machinery it costs half a transaction
        try:
            conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
        except sqlite3.OperationalError as error:  # "database is locked" past the busy timeout: as any
            raise OperationalError(statement, None, error) from error  # database error (retryable 503)


# Statements are built once and executed with parameters: building a statement with its values
# costs far more than running it on SQLite.
@functools.lru_cache(maxsize=64)
def _ignoring(dialect: str, table: Table) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    # RETURNING, not rowcount: psycopg 3 reports no rowcount for this statement
    return module.insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


@functools.lru_cache(maxsize=64)
def _upserting(dialect: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table)
    changes = {name: statement.excluded[name] for name in columns if name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)


def _check_dialect(conn: Connection) -> str:
    if conn.dialect.name not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {conn.dialect.name}")
    return conn.dialect.name


def insert_ignoring(conn: Connection, table: Table, values: Mapping[str, Any]) -> Any:
    """Insert a row unless it conflicts with a unique key already stored.

    The new row's primary key (its first column), or None when nothing was inserted.
    """
    row = conn.execute(_ignoring(_check_dialect(conn), table), dict(values)).first()
    return None if row is None else row[0]


def upsert(conn: Connection, table: Table, values: Mapping[str, Any], keys: list[str]) -> None:
    """Insert a row, or update the row with the same `keys`."""
    statement = _upserting(_check_dialect(conn), table, tuple(keys), tuple(values))
    conn.execute(statement, dict(values))


class StoreSection:
    """One group of the store's methods (accounts, scores, tasks …) over the shared database."""

    _db: Database
