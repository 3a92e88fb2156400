"""Migration 0014 on a store with data: the trait history re-keyed by (account, at, seq, field),
`events.received_at` and `routed_at` as integer microseconds on SQLite; nothing lost, nothing reordered,
and back again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.store import Store
from tests.engine.migration_steps import migrate as _migrate
from tests.engine.migration_steps import moment as _moment

JAN = datetime(2026, 1, 5, 9, 30, 15, 123456, tzinfo=UTC)
FEB = datetime(2026, 2, 1, 0, 0, 0, 1, tzinfo=UTC)
BEFORE = "0013"  # the revision 0014 follows


def _fill_before_0014(url: str) -> None:
    """Two changes of one account (the second at the same time, stored later), one routed."""
    _migrate(url, BEFORE)
    engine = create_engine(url)
    jan, feb = _moment(url, JAN), _moment(url, FEB)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (id, traits, traits_at, created_at, updated_at) "
                              "VALUES ('a', '{\"plan\": \"pro\", \"arr\": 5}', '{}', :jan, :jan)"), {"jan": jan})
            for seq, routed in ((1, feb), (2, None)):
                conn.execute(text("INSERT INTO events (seq, id, account, name, at, data, traits, source, received_at, "
                                  "routed_at) VALUES (:seq, :id, 'a', NULL, :jan, '{}', '{}', 'ingest', :feb, "
                                  ":routed)"), {"seq": seq, "id": f"e{seq}", "jan": jan, "feb": feb, "routed": routed})
            for seq, field, value in ((1, "plan", '"basic"'), (1, "arr", "5"), (2, "plan", '"pro"')):
                conn.execute(text("INSERT INTO trait_history (account, field, value, at, seq) "
                                  "VALUES ('a', :field, :value, :jan, :seq)"),
                             {"field": field, "value": value, "jan": jan, "seq": seq})
    finally:
        engine.dispose()


def _check(url: str) -> None:
    store = Store.open(url)
    try:
        assert store.schema_is_current()
        assert store.fields_at("a", JAN) == {"plan": "pro", "arr": 5}  # the row stored later wins
        (unrouted,) = store.unrouted()
        assert (unrouted.seq, unrouted.received_at) == (2, FEB)
        assert store.unrouted_count(received_before=datetime(2026, 2, 2, tzinfo=UTC)) == 1
    finally:
        store.close()


def _urls(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return _urls(tmp_path, request)


def test_migration_0014_keeps_the_history_and_the_times_of_a_store_with_data(url: str) -> None:
    _fill_before_0014(url)
    _migrate(url, "head")
    _check(url)


def test_migration_0014_goes_back_and_forth_without_loss(url: str) -> None:
    _fill_before_0014(url)
    _migrate(url, "head")
    _migrate(url, BEFORE, down=True)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT field, seq FROM trait_history ORDER BY id")).all()
            routed = conn.execute(text("SELECT routed_at FROM events WHERE seq = 1")).scalar_one()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [("arr", 1), ("plan", 1), ("plan", 2)]
    assert routed == _moment(url, FEB) or routed == FEB
    _migrate(url, "head")
    _check(url)
