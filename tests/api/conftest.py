"""The API against a real SQLite store and the standard library of playbooks.

`engine(...)` runs the real journeys: Temporal's time-skipping test server with a worker from
`workers.runtime.build_worker`. Tests that start no journey use `offline_starter`: a real
Temporal client pointed at a port where nothing listens, so anything that tried to start a
journey would fail loudly (and the outage tests use exactly that).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.context import ActivityContext, CaptureMailer
from activities.registry import load_registry
from dsl import ir
from dsl.project import compile_folder
from engine.settings import Settings
from engine.starter import JourneyStarter
from engine.store import Store
from workers.api import create_app
from workers.api.limits import Limits
from workers.runtime import DATA_CONVERTER, build_worker, quiet_runtime
from workers.simulation import time_skipping_server

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-api-token"
UNSUBSCRIBE_SECRET = "unsubscribe-test-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def bundle() -> ir.Bundle:
    compilation = compile_folder(ROOT / "playbooks")
    assert compilation.bundle is not None, compilation.render()
    return compilation.bundle


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


def settings(token: str | None = TOKEN) -> Settings:
    return Settings(api_token=token, unsubscribe_secret=UNSUBSCRIBE_SECRET, public_url="http://api.test")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def offline_starter(store: Store) -> JourneyStarter:
    client = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=DATA_CONVERTER,
                                  runtime=quiet_runtime())
    return JourneyStarter(client, "offline", store)


@asynccontextmanager
async def http(app: FastAPI, headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test",
                                 headers=AUTH if headers is None else headers) as client:
        yield client


@asynccontextmanager
async def offline_api(store: Store, bundle: ir.Bundle, *, token: str | None = TOKEN,
                      limits: Limits | None = None,
                      headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings(token), store, bundle, await offline_starter(store),
                     limits or Limits(routing_timeout_seconds=2))
    async with http(app, headers) as client:
        yield client


@dataclass
class Engine:
    env: WorkflowEnvironment
    starter: JourneyStarter
    task_queue: str


@asynccontextmanager
async def engine(store: Store, bundle: ir.Bundle) -> AsyncIterator[Engine]:
    """The time-skipping server with a worker running the real journeys on `store`."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=time_skipping_server(), runtime=quiet_runtime())
    async with env:
        task_queue = f"api-{uuid.uuid4().hex[:8]}"
        starter = JourneyStarter(env.client, task_queue, store)
        context = ActivityContext(store=store, bundle=bundle, starter=starter, mailer=CaptureMailer(),
                                  public_url="http://api.test",
                                  extras={"unsubscribe_secret": UNSUBSCRIBE_SECRET})
        async with build_worker(env.client, task_queue, load_registry(), context):
            yield Engine(env=env, starter=starter, task_queue=task_queue)
