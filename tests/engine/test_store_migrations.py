"""The schema comes from the Alembic migrations shipped in the package, on a fresh database."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from engine.store import Store
from engine.store.migrate import MIGRATIONS
from engine.store.schema import metadata

TABLES = {"accounts", "trait_history", "events", "score_history", "condition_state", "journeys", "tasks",
          "messages", "suppressions", "actions", "cursors", "controls", "revoked_sessions", "relay_sends", "team_turns",
          "next_due", "drafts", "account_cards", "action_tallies", "tally_marks", "account_notes",
          "journey_counts", "arm_counts", "card_totals", "card_total_changes"}


def test_opening_a_fresh_file_creates_every_table_at_the_newest_revision(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    store = Store.open(f"sqlite:///{path}")
    try:
        assert store.schema_is_current()
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        names = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        revision = conn.execute("select version_num from alembic_version").fetchone()
        journal = conn.execute("pragma journal_mode").fetchone()
    assert TABLES | {"alembic_version"} <= names
    assert revision == ("0019",)
    assert journal == ("wal",)


def test_the_migrations_build_exactly_the_schema_module(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    Store.open(f"sqlite:///{path}").close()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
            indexes = {ix["name"] for table in TABLES for ix in inspect(conn).get_indexes(table)}
    finally:
        engine.dispose()
    assert differences == []
    assert {"ix_events_account_name_at", "ix_messages_account_channel_status_at",
            "ix_next_due_at"} <= indexes


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first = Store.open(url)
    first.add_change("a", datetime(2026, 1, 5, tzinfo=UTC), event=None, data={}, traits={"arr": 1},
                     event_id="x")
    first.close()
    again = Store.open(url)
    try:
        assert again.schema_is_current()
        assert again.current_fields("a") == {"arr": 1}
    finally:
        again.close()


def test_a_database_behind_the_migrations_is_not_current(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = Store.open(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("delete from alembic_version")
    try:
        assert not store.schema_is_current()
    finally:
        store.close()


def test_the_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert (MIGRATIONS / "versions" / "0001_initial.py").is_file()


def test_stores_opened_at_once_on_a_fresh_file_migrate_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    stores: list[Store] = []
    errors: list[Exception] = []

    def open_store() -> None:
        try:
            stores.append(Store.open(url))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert all(store.schema_is_current() for store in stores)
    finally:
        for store in stores:
            store.close()


def test_an_in_memory_store_works_for_tests() -> None:
    store = Store.open("sqlite://")
    try:
        assert store.schema_is_current()
        store.add_change("a", datetime(2026, 1, 5, tzinfo=UTC), event="signed", data={}, traits={},
                         event_id=None)
        assert store.account_ids() == ["a"]
    finally:
        store.close()


def test_open_without_migrating_refuses_an_outdated_schema(tmp_path: Path) -> None:
    import pytest

    from engine.store import StoreUnavailable

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    with pytest.raises(StoreUnavailable, match="playbook migrate"):
        Store.open(url, migrate=False)
    Store.open(url).close()
    Store.open(url, migrate=False).close()
