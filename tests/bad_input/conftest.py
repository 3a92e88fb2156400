"""Shared pieces of the bad-input suite: a minimal model with no playbooks (ingestion is measured,
not journeys), a real SQLite store, the API in process (ASGI) or under uvicorn, and the sizes.

Sizes: CI runs each generator at a meaningful but smaller size; `PLAYBOOK_FULL_SUITES=1` runs
the full ones (see `size`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from temporalio.client import Client

from dsl import ir
from dsl.project import compile_text
from engine.settings import Settings
from engine.starter import JourneyStarter
from engine.store import Store
from workers.api import create_app
from workers.api.limits import Limits
from workers.runtime import DATA_CONVERTER, quiet_runtime

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def offline_starter(store: Store) -> JourneyStarter:
    """A real Temporal client pointed at a port where nothing listens: any journey start fails."""
    client = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=DATA_CONVERTER,
                                  runtime=quiet_runtime())
    return JourneyStarter(client, "offline", store)


async def offline_app(store: Store, bundle: ir.Bundle, token: str | None = TOKEN) -> FastAPI:
    return create_app(settings(token), store, bundle, await offline_starter(store),
                      Limits(routing_timeout_seconds=5))


@asynccontextmanager
async def asgi_client(app: FastAPI, headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test",
                                 headers=AUTH if headers is None else headers, timeout=600) as client:
        yield client


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` under uvicorn on a free local port, in this event loop; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
