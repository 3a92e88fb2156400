"""`playbook api` killed with SIGKILL after routing committed a batch's journey starts and signals
and before its drain carried them out (Temporal was away meanwhile): the API started again routes
nothing again and carries every one out once, each journey started once and signalled once.

This test has its own Temporal dev server (stopped and started again on the same database file)
and store. The API starts journeys on a task queue no worker polls: Temporal records each start
and each signal in the journey's history whether or not a worker runs it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from engine.store import Store
from engine.store.schema import events, routing_intents
from tests.faults.conftest import dev_server
from tests.faults.stack import (
    Process,
    drained,
    environment,
    event,
    eventually,
    free_port,
    journeys_started,
    post,
    routing,
    signup,
    start_api,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

ACCOUNTS = 40  # each: traits, `signed` (a start) and `proceed` (a signal to the journey it started)
QUEUE = "faults-drain"


async def _signals(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(1 for item in history.events if item.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)


async def _every_start_listed(client: Client, count: int) -> list[str]:
    """The journeys started on the queue, once the server's list holds every start made so far (a
    workflow started after them is listed)."""
    async def started() -> list[str]:
        found = await journeys_started(client, QUEUE)
        return found if len({wid for wid in found if wid.startswith("journey/")}) >= count else []

    await eventually(started, "every journey to be listed", timeout=60, every=0.5)
    marker = f"visibility-marker/{uuid.uuid4().hex}"
    await client.start_workflow("visibility-marker", id=marker, task_queue=QUEUE)

    async def listed() -> bool:
        return marker in await journeys_started(client, QUEUE)

    await eventually(listed, "a workflow started after every journey to be listed", timeout=60)
    await client.get_workflow_handle(marker).terminate("the list is read")
    return [wid for wid in await journeys_started(client, QUEUE) if wid.startswith("journey/")]


async def test_an_api_killed_before_draining_what_it_routed_carries_each_start_and_signal_out_once(
        tmp_path: Path) -> None:
    server = dev_server(tmp_path / "temporal")
    await server.start()
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.open(url)
    env = {**environment(temporal=server.address, database_url=url, api_port=free_port()), "PLAYBOOK_TASK_QUEUE": QUEUE}
    port = int(env["PLAYBOOK_API_PORT"])
    accounts = [f"drain-{n:03d}" for n in range(ACCOUNTS)]
    batch: list[dict[str, Any]] = [line for account in accounts for line in signup(account)]
    batch += [event(account, "proceed") for account in accounts]

    def count(table: Any, *where: Any) -> int:
        with store.database.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())

    processes: list[Process] = []
    try:
        processes.append(await start_api(env, tmp_path / "logs" / "api-1.log"))
        server.stop()  # Temporal away: routing goes on, the drain waits
        answer = await post(port, batch)
        assert answer.status_code == 202, answer.text

        async def committed() -> dict[str, Any] | None:
            state = await routing(port)
            waits = state["backlog"] == 0 and state["drain_backlog"] == 2 * ACCOUNTS and state["state"] == "retrying"
            return state if waits else None

        state = await eventually(committed, "routing to commit the batch, the drain to wait for Temporal", timeout=90)
        assert state["drained"] == 0 and "Temporal" in state["last_failure"]["reason"]
        assert count(events, events.c.routed_at.is_(None)) == 0
        assert count(routing_intents, routing_intents.c.drained_at.is_(None)) == 2 * ACCOUNTS
        processes[0].kill()

        client = await server.start()  # the same ports and database file
        api = await start_api(env, tmp_path / "logs" / "api-2.log")
        processes.append(api)
        state = await drained(port, timeout=120)
        assert (state["routed"], state["drained"], state["drain_backlog"]) == (0, 2 * ACCOUNTS, 0)  # none routed again
        assert count(routing_intents) == 2 * ACCOUNTS  # each change's intents committed once
        assert count(routing_intents, routing_intents.c.drained_at.is_(None)) == 0

        started = await _every_start_listed(client, ACCOUNTS)
        assert sorted(set(started)) == sorted(f"journey/drill/{account}" for account in accounts)
        twice = {wid: n for wid, n in Counter(started).items() if n > 1}
        assert twice == {}, f"journeys started more than once: {twice}"
        signals = {account: await _signals(client, f"journey/drill/{account}") for account in accounts}
        assert set(signals.values()) == {1}, signals  # each journey heard its `proceed` once
    finally:
        for process in processes:
            process.kill()
        store.close()
        server.stop()
