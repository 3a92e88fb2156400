"""Temporal's dev server stopped mid-journey and started again on the same database file.

The journey continues from where it was: the same run, its first email not sent again, the
event sent while Temporal was down stored and answered 503 (routing unavailable), routed when
the batch is sent again after the restart. This test has its own dev server, API and worker.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from tests.faults.conftest import Stack, dev_server
from tests.faults.stack import (
    Process,
    Relay,
    address,
    environment,
    event,
    eventually,
    free_port,
    journey_id,
    post,
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
        assert down.status_code == 503, down.text  # stored, not routed: "send it again"
        assert down.json()["accepted"] == 1 and down.headers.get("retry-after")

        client = await server.start()  # the same ports and the same database file
        async def routed() -> bool:
            response = await post(api_port, proceed)
            assert response.status_code in (202, 503), response.text
            return response.status_code == 202 and response.json()["duplicates"] == 1

        await eventually(routed, "the re-sent batch to be routed", timeout=90, every=2.0)
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
