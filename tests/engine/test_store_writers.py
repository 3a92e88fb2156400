"""Writers of one process on a file SQLite store queue on a lock in the process
(`engine.store.database`): every write lands, a failed write lets the next one in, and a write
nested in a write fails as SQLite says instead of hanging."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import engine.store.database
from engine.store.database import Database


def _database(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'store.db'}")
    with database.write() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    return database


def _count(database: Database) -> int:
    with database.read() as conn:
        return int(conn.execute(text("SELECT n FROM counter")).scalar_one())


def test_writers_in_threads_each_read_then_write_without_losing_one(tmp_path: Path) -> None:
    database = _database(tmp_path)

    def add(times: int) -> None:
        for _ in range(times):
            with database.write() as conn:  # read, then write: a lost update if writers interleaved
                n = conn.execute(text("SELECT n FROM counter")).scalar_one()
                conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    threads = [threading.Thread(target=add, args=(50,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _count(database) == 200
    database.dispose()


def test_a_write_that_fails_lets_the_next_writer_in(tmp_path: Path) -> None:
    database = _database(tmp_path)
    with pytest.raises(ZeroDivisionError), database.write():
        raise ZeroDivisionError
    done: list[int] = []

    def write() -> None:
        with database.write() as conn:
            conn.execute(text("UPDATE counter SET n = 7"))
        done.append(_count(database))

    other = threading.Thread(target=write)
    other.start()
    other.join(timeout=60)
    assert done == [7]
    database.dispose()


def test_a_write_nested_in_a_write_fails_as_sqlite_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine.store.database, "BUSY_TIMEOUT_SECONDS", 1)
    database = _database(tmp_path)
    with database.write() as outer:
        outer.execute(text("UPDATE counter SET n = 1"))
        with pytest.raises(OperationalError, match="locked"), database.write():
            pass
    assert _count(database) == 1
    database.dispose()
