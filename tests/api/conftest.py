"""The API against a real SQLite store and the standard library of playbooks.

`engine(...)` runs the real journeys: Temporal's time-skipping test server with a worker from
`workers.runtime.build_worker`. Tests that start no journey use `offline_starter`: a real
Temporal client pointed at a port where nothing listens, so anything that tried to start a
journey would fail loudly (and the outage tests use exactly that). The helpers live in
`tests/live_api.py`; `http(app)` runs the app's lifespan, so its background router runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from dsl import ir
from engine.settings import Settings
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.live_api import Engine, asgi, drained, free_port, offline_starter, temporal

__all__ = ["AUTH", "TOKEN", "UNSUBSCRIBE_SECRET", "Engine", "drained", "engine", "free_port", "http",
           "offline_api", "offline_starter", "settings"]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-api-token"
UNSUBSCRIBE_SECRET = "unsubscribe-test-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def settings(token: str | None = TOKEN) -> Settings:
    return Settings(api_token=token, unsubscribe_secret=UNSUBSCRIBE_SECRET, public_url="http://api.test")


@asynccontextmanager
async def http(app: FastAPI, headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi(app, AUTH if headers is None else headers) as client:
        yield client


@asynccontextmanager
async def offline_api(store: Store, bundle: ir.Bundle, *, token: str | None = TOKEN,
                      limits: Limits | None = None,
                      headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings(token), store, bundle, await offline_starter(store),
                     limits or Limits(routing_timeout_seconds=2))
    async with http(app, headers) as client:
        yield client


@asynccontextmanager
async def engine(store: Store, bundle: ir.Bundle) -> AsyncIterator[Engine]:
    """The time-skipping server with a worker running the real journeys on `store`."""
    async with temporal(store, bundle, unsubscribe_secret=UNSUBSCRIBE_SECRET) as running:
        yield running
