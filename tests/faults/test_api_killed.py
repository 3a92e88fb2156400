"""`playbook api` killed with SIGKILL while it routes a large stored batch in the background:
nothing accepted is lost. The batch was answered 202 once stored; the API started again takes
over what was left unrouted and routes it: every event stored once, every journey started once,
and the same batch sent again counts only duplicates.

The API here starts journeys on a task queue of its own that no worker polls: starting a
journey is what is counted, and Temporal records each start whether or not a worker runs it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from engine.store.schema import events
from tests.faults.conftest import Stack
from tests.faults.stack import (
    Process,
    drained,
    eventually,
    free_port,
    journeys_started,
    post,
    signup,
    start_api,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

ACCOUNTS = 1000  # 2,000 lines: traits and `signed` for each account (routing them takes long enough to kill it midway)
QUEUE = "faults-batch"
PREFIX = "batch-"


async def test_an_api_killed_while_routing_a_stored_batch_loses_nothing_and_starts_each_journey_once(
        stack: Stack) -> None:
    env = {**stack.env(api_port=free_port()), "PLAYBOOK_TASK_QUEUE": QUEUE}
    port = int(env["PLAYBOOK_API_PORT"])
    accounts = [f"{PREFIX}{n:04d}" for n in range(ACCOUNTS)]
    batch: list[dict[str, Any]] = [line for account in accounts for line in signup(account)]
    engine = create_engine(stack.database_url)
    mine = events.c.id.startswith(PREFIX)

    def count(*where: Any) -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events).where(mine, *where)).scalar_one())

    processes: list[Process] = []
    try:
        api = await start_api(env, stack.logs / "batch-api-1.log")
        processes.append(api)
        answer = await post(port, batch)
        assert answer.status_code == 202, answer.text
        assert answer.json() == {"accepted": len(batch), "duplicates": 0, "backfill": 0, "rejected": []}
        assert count() == len(batch)  # accepted means stored: before routing

        async def mid_routing() -> bool:
            routed = count(events.c.routed_at.is_not(None))
            assert routed < len(batch), "the batch was routed in full before the kill"
            return routed >= 20

        await eventually(mid_routing, "the API to be routing the batch", timeout=90, every=0.02)
        api.kill()
        routed_at_kill = count(events.c.routed_at.is_not(None))
        started_at_kill = len(set(await journeys_started(stack.client, QUEUE)))
        assert 0 < routed_at_kill < len(batch)
        print(f"\nkilled with {routed_at_kill} of {len(batch)} stored lines routed, "
              f"{started_at_kill} journeys started")

        api = await start_api(env, stack.logs / "batch-api-2.log")  # takes over what is unrouted
        processes.append(api)
        await drained(port)
        assert count() == len(batch)  # every line stored, once (`id` is unique)
        assert count(events.c.routed_at.is_(None)) == 0  # and routed, with nothing sent again

        again = await post(port, batch)  # a client that did not hear the first answer sends it again
        assert again.status_code == 202, again.text
        assert again.json() == {"accepted": 0, "duplicates": len(batch), "backfill": 0, "rejected": []}

        async def all_started() -> list[str]:
            started = await journeys_started(stack.client, QUEUE)
            return started if len(set(started)) >= ACCOUNTS else []

        await eventually(all_started, "every journey to be visible", timeout=60, every=1.0)
        # The API has routed everything and starts nothing more. A workflow started now, after every
        # journey start, is listed once the server's list holds every start made before it.
        marker = f"visibility-marker/{uuid.uuid4().hex}"
        await stack.client.start_workflow("visibility-marker", id=marker, task_queue=QUEUE)

        async def marker_listed() -> bool:
            return marker in await journeys_started(stack.client, QUEUE)

        await eventually(marker_listed, "a workflow started after every journey to be listed", timeout=60)
        await stack.client.get_workflow_handle(marker).terminate("the list is read")
        started = [wid for wid in await journeys_started(stack.client, QUEUE) if wid.startswith("journey/")]
        assert sorted(set(started)) == sorted(f"journey/drill/{account}" for account in accounts)
        twice = {wid: n for wid, n in Counter(started).items() if n > 1}
        assert twice == {}, f"journeys started more than once: {twice}"
    finally:
        for process in processes:
            process.kill()
        engine.dispose()
