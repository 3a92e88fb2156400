"""Shared pieces of the bad-input suite: a minimal model with no playbooks (ingestion is measured,
not journeys), a real SQLite store, the API in process (ASGI) or under uvicorn (`tests/live_api.py`),
and the sizes.

Sizes: CI runs each generator at a meaningful but smaller size; `PLAYBOOK_FULL_SUITES=1` runs
the full ones (see `size`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from dsl import ir
from dsl.project import compile_text
from engine.settings import Settings
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.live_api import asgi, drained, free_port, offline_starter, served

__all__ = ["AUTH", "FULL", "NDJSON", "TOKEN", "asgi_client", "count_rows", "drained", "free_port", "offline_app",
           "offline_starter", "served", "settings", "size"]

FULL = os.environ.get("PLAYBOOK_FULL_SUITES") == "1"
TOKEN = "bad-input-api-token"
UNSUBSCRIBE_SECRET = "bad-input-unsubscribe-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NDJSON = {"Content-Type": "application/x-ndjson"}

MINIMAL_MODEL = """\
account fields:
    name: text
    arr: money
    seats: number
    active: boolean
    renewal_date: date

events:
    login
    signed
    payment_failed: amount money
"""


def size(ci: int, full: int) -> int:
    """`full` with PLAYBOOK_FULL_SUITES=1, else `ci`."""
    return full if FULL else ci


@pytest.fixture(scope="session")
def minimal_bundle() -> ir.Bundle:
    compilation = compile_text(MINIMAL_MODEL, "model.play")
    assert compilation.bundle is not None, compilation.render()
    assert not compilation.bundle.playbooks
    return compilation.bundle


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{db_path}")
    yield opened
    opened.close()


def count_rows(db_path: Path, table: str) -> int:
    """Rows of one table of the SQLite store, read with the standard library (not the store's code)."""
    assert table.isidentifier()
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def settings(token: str | None = TOKEN) -> Settings:
    return Settings(api_token=token, unsubscribe_secret=UNSUBSCRIBE_SECRET, public_url="http://api.test")


async def offline_app(store: Store, bundle: ir.Bundle, token: str | None = TOKEN) -> FastAPI:
    return create_app(settings(token), store, bundle, await offline_starter(store),
                      Limits(routing_timeout_seconds=5))


@asynccontextmanager
async def asgi_client(app: FastAPI, headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi(app, AUTH if headers is None else headers) as client:
        yield client
