"""The databases tests open stores on: a SQLite file in a test's folder, or the PostgreSQL database
named by `PLAYBOOK_TEST_POSTGRES_URL` (one the tests may wipe: `bash .ci/postgres.sh` starts a
local server and prints such a URL). The fixtures over them are in `tests/conftest.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text

__all__ = ["NO_POSTGRES", "POSTGRES_URL", "sqlite_url", "wipe"]

POSTGRES_URL = os.environ.get("PLAYBOOK_TEST_POSTGRES_URL", "")
NO_POSTGRES = ("PLAYBOOK_TEST_POSTGRES_URL is not set: run `bash .ci/postgres.sh` (it starts a local "
               "PostgreSQL and prints the URL) and export it to test the store on PostgreSQL")


def sqlite_url(path: Path) -> str:
    """The store URL of a SQLite file."""
    return f"sqlite:///{path}"


def wipe(url: str) -> None:
    """Drop every table of the PostgreSQL database at `url` (and end the connections that hold locks)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
