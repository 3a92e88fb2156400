"""`playbook api` killed with SIGKILL while it works through a large batch; the client sends
the same batch (the same ids) to the API started again: every event stored once, every
journey started once.

The API here starts journeys on a task queue of its own that no worker polls: starting a
journey is what is counted, and Temporal records each start whether or not a worker runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from engine.store.schema import events
from tests.faults.conftest import Stack
from tests.faults.stack import Process, eventually, free_port, journeys_started, post, signup, start_api

pytestmark = pytest.mark.asyncio(loop_scope="session")

ACCOUNTS = 300  # 600 lines: traits and `signed` for each account
QUEUE = "faults-batch"
PREFIX = "batch-"


async def test_a_batch_resent_after_the_api_was_killed_mid_batch_is_stored_once_and_starts_each_journey_once(
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
        request = asyncio.create_task(post(port, batch))

        async def mid_batch() -> bool:
            if request.done():
                raise AssertionError(f"the batch was answered before the kill: {request.result().text[:300]}")
            return count(events.c.routed_at.is_not(None)) >= 20

        await eventually(mid_batch, "the API to be routing the batch", timeout=90, every=0.05)
        api.kill()
        stored_at_kill, routed_at_kill = count(), count(events.c.routed_at.is_not(None))
        with contextlib.suppress(httpx.HTTPError):
            await request
        assert request.exception() is not None or request.result().status_code >= 500
        assert 0 < routed_at_kill < len(batch)
        print(f"\nkilled with {stored_at_kill} of {len(batch)} lines stored and {routed_at_kill} routed")

        api = await start_api(env, stack.logs / "batch-api-2.log")
        processes.append(api)
        answers: list[int] = []

        async def resent() -> bool:
            response = await post(port, batch)
            answers.append(response.status_code)
            assert response.status_code in (202, 503), response.text
            body = response.json()
            assert body["accepted"] + body["duplicates"] == len(batch) and not body["rejected"], body
            return response.status_code == 202

        await eventually(resent, "the re-sent batch to be answered 202", timeout=120, every=1.0)
        print(f"answers to the re-sent batch: {answers}")

        assert count() == len(batch)  # every line stored, once (`id` is unique)
        assert count(events.c.routed_at.is_(None)) == 0  # and routed

        async def all_started() -> list[str]:
            started = await journeys_started(stack.client, QUEUE)
            return started if len(set(started)) >= ACCOUNTS else []

        started = await eventually(all_started, "every journey to be visible", timeout=60, every=1.0)
        assert sorted(set(started)) == sorted(f"journey/drill/{account}" for account in accounts)
        twice = {wid: n for wid, n in Counter(started).items() if n > 1}
        assert twice == {}, f"journeys started more than once: {twice}"
    finally:
        for process in processes:
            process.kill()
        engine.dispose()
