"""The API as tests run it: in this event loop under uvicorn (a real port) or over ASGI, with
Temporal's time-skipping test server and a real worker, or with a Temporal client that reaches
nothing. Shared by the API, CLI and bad-input suites.

- `served(app)`: uvicorn on a free local port, lifespan on (the background router starts and
  stops with it); yields the URL.
- `asgi(app)`: an httpx client over ASGI, the app's lifespan run around it.
- `time_skipping()`: Temporal's time-skipping test server (the binary simulations use), with the
  engine's data converter; a test enters it (`async with`) and starts its own worker.
- `temporal(store, bundle)`: the time-skipping server with a worker running the real journeys on
  `store`; yields an `Engine` (its client, a `JourneyStarter`, the task queue).
- `offline_starter(store)`: a real Temporal client pointed at a port where nothing listens, so
  starting a journey fails (the outage tests use exactly that).
- `drained(app)`: waits until the background router has routed everything stored so far.
- `as_routed(store)`: marks content a test stored directly as already routed.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.context import ActivityContext, CaptureMailer
from activities.registry import load_registry
from dsl import ir
from engine.routing.starter import JourneyStarter
from engine.store import Store
from server.api.connection_limits import server_config
from server.web.state import WebState
from simulation.simulate import time_skipping_server
from workers.runtime import DATA_CONVERTER, build_worker, quiet_runtime

__all__ = ["Engine", "as_routed", "asgi", "drained", "free_port", "offline_starter", "routed", "routing_held",
           "served", "temporal", "time_skipping"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def offline_starter(store: Store) -> JourneyStarter:
    """A real Temporal client pointed at a port where nothing listens: any journey start fails."""
    client = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=DATA_CONVERTER,
                                  runtime=quiet_runtime())
    return JourneyStarter(client, "offline", store)


async def time_skipping() -> WorkflowEnvironment:
    """Temporal's time-skipping test server, started; the caller enters it (`async with`) or shuts it down."""
    return await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=time_skipping_server(), runtime=quiet_runtime())


@dataclass
class Engine:
    env: WorkflowEnvironment
    starter: JourneyStarter
    task_queue: str

    @property
    def client(self) -> Client:
        return self.env.client


@asynccontextmanager
async def temporal(store: Store, bundle: ir.Bundle, *, unsubscribe_secret: str = "test-unsubscribe-secret",
                   public_url: str = "http://api.test") -> AsyncIterator[Engine]:
    """The time-skipping server with a worker running the real journeys on `store`."""
    async with await time_skipping() as env:
        task_queue = f"test-{uuid.uuid4().hex[:8]}"
        starter = JourneyStarter(env.client, task_queue, store)
        context = ActivityContext(store=store, bundle=bundle, starter=starter, mailer=CaptureMailer(),
                                  public_url=public_url, extras={"unsubscribe_secret": unsubscribe_secret})
        async with build_worker(env.client, task_queue, load_registry(), context):
            yield Engine(env=env, starter=starter, task_queue=task_queue)


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` under uvicorn on a free local port, in this event loop; yields its URL."""
    port = free_port()
    state = app.state.api
    assert isinstance(state, WebState)
    # the production configuration: read deadlines and the connection cap of the app's settings
    server = uvicorn.Server(server_config(app, state.settings, host="127.0.0.1", port=port, lifespan="on",
                                          log_level="warning"))
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


@asynccontextmanager
async def asgi(app: FastAPI, headers: dict[str, str] | None = None,
               timeout: float = 600) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on `app` over ASGI, with the app's lifespan (the background router) around it."""
    transport = httpx.ASGITransport(app=app)
    async with (app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://api.test", headers=headers or {},
                                  timeout=timeout) as client):
        yield client


@contextmanager
def routing_held(store: Store) -> Iterator[None]:
    """Inside, routing cannot commit (the store refuses its transaction, as a database gone away
    would): what is stored waits in the routing backlog, and the router retries."""
    def refused(accounts: Collection[str]) -> Iterator[None]:
        raise OperationalError("BEGIN", {}, Exception("routing held by the test"))

    store.routing_batch = refused  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        del store.routing_batch


def as_routed(store: Store) -> None:
    """Mark every change stored so far routed: content a test puts in the store directly stands for
    what the engine already processed, so an API started on it takes over no routing of it."""
    changes = store.unrouted(limit=1_000_000)
    if changes:
        store.mark_routed([change.seq for change in changes], max(change.at for change in changes))


async def drained(app: FastAPI, timeout: float = 60.0) -> None:
    """Wait until the background router of `app` has routed everything stored so far, and its
    drain carried out the journeys' starts and signals."""
    state = app.state.api
    assert isinstance(state, WebState)
    deadline = time.monotonic() + timeout
    while state.dispatcher.backlog or state.dispatcher.status()["drain_backlog"] \
            or state.dispatcher.status()["state"] == "draining":
        if time.monotonic() > deadline:
            raise AssertionError(f"routing did not drain within {timeout:g} s: {state.dispatcher.status()}")
        await asyncio.sleep(0.02)


async def routed(app: FastAPI, timeout: float = 60.0) -> None:
    """Wait until the background router of `app` has routed (committed) everything stored so far,
    whether or not its drain has carried the intents out."""
    state = app.state.api
    assert isinstance(state, WebState)
    deadline = time.monotonic() + timeout
    while state.dispatcher.backlog:
        if time.monotonic() > deadline:
            raise AssertionError(f"routing did not finish within {timeout:g} s: {state.dispatcher.status()}")
        await asyncio.sleep(0.02)
