"""Migration 0018 on a store with data: each account's change counter (`accounts.changes`) filled
from its stored events, kept from then on by the store's change insert; and back again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.store import Store
from tests.engine.migration_steps import migrate as _migrate
from tests.engine.migration_steps import moment as _moment

JAN = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
BEFORE = "0019"  # the revision 0018 follows


@pytest.fixture(params=["sqlite", "postgresql"])
def url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _fill_before_0018(url: str) -> None:
    """Account a with three changes, b with one, c with none."""
    _migrate(url, BEFORE)
    engine = create_engine(url)
    jan = _moment(url, JAN)
    try:
        with engine.begin() as conn:
            for name in ("a", "b", "c"):
                conn.execute(text("INSERT INTO accounts (id, traits, traits_at, created_at, updated_at) "
                                  "VALUES (:name, '{}', '{}', :jan, :jan)"), {"name": name, "jan": jan})
            for seq, name in ((1, "a"), (2, "b"), (3, "a"), (4, "a")):
                conn.execute(text("INSERT INTO events (id, account, name, at, data, traits, source, received_at) "
                                  "VALUES (:id, :name, 'login', :jan, '{}', '{}', 'ingest', :received)"),
                             {"id": f"e{seq}", "name": name, "jan": jan,
                              "received": 0 if url.startswith("sqlite") else JAN})
    finally:
        engine.dispose()


def test_migration_0018_counts_each_accounts_stored_changes_and_the_store_keeps_counting(url: str) -> None:
    _fill_before_0018(url)
    _migrate(url, "head")
    store = Store.open(url)
    try:
        assert store.schema_is_current()
        assert store.change_counts_of(["a", "b", "c"]) == {"a": 3, "b": 1, "c": 0}
        store.add_change("c", JAN, event="login", data={}, traits={}, event_id="e5")
        store.add_change("b", JAN, event=None, data={}, traits={"plan": "pro"}, event_id="e6")
        assert store.change_counts_of(["a", "b", "c"]) == {"a": 3, "b": 2, "c": 1}
    finally:
        store.close()


def test_migration_0018_goes_back_and_forth(url: str) -> None:
    _fill_before_0018(url)
    _migrate(url, "head")
    _migrate(url, BEFORE, down=True)
    _migrate(url, "head")
    store = Store.open(url)
    try:
        assert store.change_counts_of(["a", "b"]) == {"a": 3, "b": 1}
    finally:
        store.close()
