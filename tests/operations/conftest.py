"""Fixtures for the production layout: the repository's files, and a PostgreSQL database.

The PostgreSQL tests run when `PLAYBOOK_TEST_POSTGRES_URL` names a database they may wipe (every
test starts from an empty `public` schema); `bash .ci/postgres.sh` starts a local server and
prints such a URL. Without it they are skipped, saying so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.store import Store

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("PLAYBOOK_TEST_POSTGRES_URL", "")
NO_POSTGRES = ("PLAYBOOK_TEST_POSTGRES_URL is not set: run `bash .ci/postgres.sh` (it starts a local "
               "PostgreSQL and prints the URL) and export it to test the store on PostgreSQL")


def wipe(url: str) -> None:
    """Drop every table of the database at `url` (and end the connections that hold locks)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


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
