"""One production layout for the fault tests, shared by the whole folder.

Temporal's dev server (a SQLite file), a migrated SQLite store, and `playbook api` serving the
playbooks of `tests/faults/playbooks` run for the session. Each test gets its own relay
(`Relay`) and its own `playbook worker` pointed at it, and uses accounts of its own, so what the
relay holds and what the store records for those accounts is that test's alone. Tests that
break the shared pieces (restart Temporal, kill the API, stop the database) start their own.

Everything runs as real processes; `<tmp>/logs/` keeps their output for a failed test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client

from engine.store import Store
from tests.faults.stack import Process, Relay, environment, free_port, start_api, start_worker
from workers.temporal_server import DevServer


@dataclass(frozen=True)
class Stack:
    temporal: DevServer
    client: Client
    database_url: str
    store: Store
    api_port: int
    logs: Path

    def env(self, smtp_port: int = 9, api_port: int | None = None) -> dict[str, str]:
        return environment(temporal=self.temporal.address, database_url=self.database_url, smtp_port=smtp_port,
                           api_port=self.api_port if api_port is None else api_port)


def dev_server(folder: Path) -> DevServer:
    port = free_port()
    return DevServer(folder, port=port, ui_port=free_port())


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    root = tmp_path_factory.mktemp("faults")
    logs = root / "logs"
    temporal = dev_server(root / "temporal")
    client = await temporal.start()
    database_url = f"sqlite:///{root / 'store.db'}"
    api: Process | None = None
    store: Store | None = None
    try:
        store = Store.open(database_url)  # migrated here: `playbook migrate` is the same code, seconds slower
        shared = Stack(temporal, client, database_url, store, free_port(), logs)
        api = await start_api(shared.env(), logs / "api.log")
        yield shared
    finally:
        if api is not None:
            api.stop()
        if store is not None:
            store.close()
        temporal.stop()


@pytest.fixture
def relay() -> Iterator[Relay]:
    """A relay of this test's own, taking every message until told otherwise."""
    opened = Relay()
    opened.start()
    yield opened
    opened.close()


@dataclass
class Workers:
    """This test's `playbook worker` processes, all stopped at the end of the test."""

    stack: Stack
    relay: Relay
    started: list[Process]

    async def start(self) -> Process:
        log = self.stack.logs / f"worker-{os.getpid()}-{len(self.started)}-{self.relay.port}.log"
        worker = await start_worker(self.stack.env(smtp_port=self.relay.port), log)
        self.started.append(worker)
        return worker


@pytest_asyncio.fixture(loop_scope="session")
async def workers(stack: Stack, relay: Relay) -> AsyncIterator[Workers]:
    made = Workers(stack, relay, [])
    yield made
    for worker in made.started:
        worker.kill()
