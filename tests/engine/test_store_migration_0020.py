"""Migration 0020 on a store with data: PostgreSQL's `accounts` keeps half of each page for the next
versions of its rows (fillfactor 50), so an account's update stays on its page (a HOT update);
SQLite unchanged; the data kept, and back again."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.store import Store
from tests.engine.migration_steps import migrate as _migrate

JAN = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
BEFORE = "0016"  # the revision 0020 follows


def _fillfactor(url: str) -> str | None:
    """`accounts`' fillfactor as PostgreSQL holds it (None: the default), or "sqlite"."""
    if url.startswith("sqlite"):
        return "sqlite"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            options = conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'accounts'")).scalar_one()
    finally:
        engine.dispose()
    found = [option.split("=", 1)[1] for option in options or [] if option.startswith("fillfactor=")]
    return found[0] if found else None


def _traits(url: str) -> dict[str, object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            value = conn.execute(text("SELECT traits FROM accounts WHERE id = 'a'")).scalar_one()
    finally:
        engine.dispose()
    return json.loads(value) if isinstance(value, str) else dict(value)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_migration_0020_gives_accounts_room_for_updates_in_place_and_takes_it_back(url: str) -> None:
    _migrate(url, BEFORE)
    engine = create_engine(url)
    jan = JAN.replace(tzinfo=None).isoformat(" ", "microseconds") if url.startswith("sqlite") else JAN
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (id, traits, traits_at, created_at, updated_at) "
                              "VALUES ('a', '{\"plan\": \"pro\", \"arr\": 5}', '{}', :jan, :jan)"), {"jan": jan})
    finally:
        engine.dispose()
    _migrate(url, "head")
    assert _fillfactor(url) in ("50", "sqlite")
    assert _traits(url) == {"plan": "pro", "arr": 5}
    _migrate(url, BEFORE, down=True)
    assert _fillfactor(url) in (None, "sqlite")
    assert _traits(url) == {"plan": "pro", "arr": 5}
    _migrate(url, "head")
    assert _fillfactor(url) in ("50", "sqlite")


def _pages(postgres_url: str) -> dict[str, int]:
    """Each account's row: the page its current version is on."""
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, (ctid::text::point)[0]::int FROM accounts")).all()
    finally:
        engine.dispose()
    return {account: page for account, page in rows}


def test_an_account_updated_after_its_page_was_filled_stays_on_its_page_on_postgresql(postgres_url: str) -> None:
    accounts = [f"acct-{n:02d}" for n in range(40)]  # ~400 bytes each: pages filled as far as the store lets them
    store = Store.open(postgres_url)
    try:
        for account in accounts:
            store.add_change(account, JAN, event=None, data={}, traits={"round": 0, "note": "x" * 200},
                             event_id=f"{account}-0")
        before = _pages(postgres_url)
        for account in accounts[::2]:  # every other one: half the room kept, without counting on pruning
            store.add_change(account, JAN, event=None, data={}, traits={"round": 1, "note": "y" * 200},
                             event_id=f"{account}-1")
    finally:
        store.close()
    assert len(set(before.values())) > 1  # the rows span several pages
    assert _pages(postgres_url) == before  # every new version beside the old one: no move, no new index entry
