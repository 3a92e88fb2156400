"""Temporal's dev server stopped mid-journey and started again on the same database file.

The journey continues from where it was: the same run, its first email not sent again. The
event sent while Temporal was down is stored, answered 202 and routed all the same; the API's drain
retries and delivers it by itself once Temporal is back, with nothing sent again. This
test has its own dev server, API and worker.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import Stack, dev_server
from tests.faults.stack import (
    Process,
    Relay,
    address,
    drained,
    environment,
    event,
    eventually,
    free_port,
    journey_id,
    post,
    routing,
    send,
    signup,
    start_api,
    start_worker,
    waiting,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_journey_continues_where_it_was_after_temporal_restarts(stack: Stack, tmp_path: Path) -> None:
    account = "temporal-restart"
    wid = journey_id(account)
    server = dev_server(tmp_path / "temporal")
    client = await server.start()
    relay = Relay()
    relay.start()
    env = environment(temporal=server.address, database_url=stack.database_url, smtp_port=relay.port,
                      api_port=free_port())
    api_port = int(env["PLAYBOOK_API_PORT"])
    processes: list[Process] = []
    try:
        api, worker = await asyncio.gather(start_api(env, stack.logs / "restart-api.log"),
                                           start_worker(env, stack.logs / "restart-worker.log"))
        processes += [api, worker]

        async def has(step: str) -> bool:
            return any(f"the {step} email" in m.subject for m in relay.kept(address(account)))

        await send(api_port, signup(account))
        await eventually(lambda: has("first"), "the first email", timeout=90)
        await eventually(lambda: waiting(client, wid), "the journey to wait for `proceed`", timeout=60)
        run_id = (await client.get_workflow_handle(wid).describe()).run_id

        server.stop()
        proceed = [event(account, "proceed")]
        down = await post(api_port, proceed)
        assert down.status_code == 202, down.text  # accepted means stored: the outage delays, loses nothing
        assert down.json() == {"accepted": 1, "duplicates": 0, "backfill": 0, "rejected": []}

        async def retrying() -> dict[str, Any] | None:
            state = await routing(api_port)
            return state if state["state"] == "retrying" else None

        state = await eventually(retrying, "routing to report the outage", timeout=60)
        # routed without Temporal: the journey's signal waits in the drain
        assert state["drain_backlog"] >= 1 and "Temporal" in state["last_failure"]["reason"]

        client = await server.start()  # the same ports and the same database file
        await drained(api_port, timeout=90)  # routing resumed by itself: nothing was sent again
        await eventually(lambda: has("second"), "the second email after the restart", timeout=90)
        await eventually(lambda: waiting(client, wid), "the journey to wait for `finish`", timeout=60)
        await send(api_port, [event(account, "finish")])

        async def completed() -> bool:
            return any(row.status == "completed" for row in stack.store.journeys(account=account))

        await eventually(completed, "the journey to complete", timeout=90)
        assert (await client.get_workflow_handle(wid).describe()).run_id == run_id  # the same run went on
        assert [row.run_id for row in stack.store.journeys(account=account)] == [run_id]
        ids = Counter(m.message_id for m in relay.kept(address(account)))
        assert len(ids) == 3 and set(ids.values()) == {1}, ids
        assert sorted(row.template for row in stack.store.messages(account)) == ["first", "second", "third"]
    finally:
        for process in processes:
            process.kill()
        relay.close()
        server.stop()
