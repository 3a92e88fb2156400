"""Fixtures every suite shares.

- `store`: a migrated SQLite store in the test's temporary folder (`<tmp>/store.db`), closed after
  the test.
- `standard_compilation`, `bundle`: the standard library under `playbooks/`, compiled once per
  session (`bundle` asserts it compiles without errors).
- `postgres_url`, `pg_store`: an emptied PostgreSQL database and a store on it, when
  `PLAYBOOK_TEST_POSTGRES_URL` is set; the test is skipped, saying so, otherwise.

The helpers that start things, a real API (uvicorn or ASGI), Temporal's time-skipping test server
with a worker, free ports, live in `tests/live_api.py`; the databases' helpers in `tests/stores.py`.
A suite's own conftest may override a fixture (a store seeded with its accounts, say).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dsl import ir
from dsl.project import Compilation, compile_folder
from engine.store import Store
from tests.stores import NO_POSTGRES, POSTGRES_URL, sqlite_url, wipe

ROOT = Path(__file__).resolve().parents[1]
STANDARD_PLAYBOOKS = ROOT / "playbooks"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite store in this test's folder."""
    opened = Store.open(sqlite_url(tmp_path / "store.db"))
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def standard_compilation() -> Compilation:
    """`playbooks/` compiled: its diagnostics and its bundle."""
    return compile_folder(STANDARD_PLAYBOOKS)


@pytest.fixture(scope="session")
def bundle(standard_compilation: Compilation) -> ir.Bundle:
    """The bundle of the standard playbooks."""
    assert standard_compilation.ok and standard_compilation.bundle is not None, standard_compilation.render()
    return standard_compilation.bundle


@pytest.fixture
def postgres_url() -> str:
    """An empty PostgreSQL database (its `public` schema dropped and created again)."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    wipe(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[Store]:
    """A store on the empty PostgreSQL database, migrated to the newest schema."""
    opened = Store.open(postgres_url)
    yield opened
    opened.close()
