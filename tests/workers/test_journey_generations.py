"""The dev stack resumes state that may hold journeys of an earlier engine generation: it ends
them (in Temporal and in the store) and leaves this generation's journeys alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus

from engine.store import Store
from engine.workflows.payloads import WORKFLOW_NAME
from tests.live_api import free_port
from workers.journey_generations import end_earlier_generations, is_earlier_generation
from workers.temporal_server import DevServer

QUEUE = "nobody-polls-this"  # the journeys only need to exist and run, not to make progress


def test_only_journey_types_of_other_generations_are_earlier() -> None:
    assert is_earlier_generation("journey")
    assert is_earlier_generation("journey.g1")
    assert not is_earlier_generation(WORKFLOW_NAME)
    assert not is_earlier_generation("scheduler")
    assert not is_earlier_generation("journeys_report")


async def _running(client: Client, count: int) -> None:
    for _ in range(100):
        seen = [e async for e in client.list_workflows('ExecutionStatus="Running"')]
        if len(seen) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the server lists {len(seen)} running workflows, not {count}")


async def test_dev_stack_ends_journeys_of_an_earlier_generation_and_records_why(tmp_path: Path, store: Store) -> None:
    server = DevServer(tmp_path / "temporal", port=free_port(), ui_port=free_port())
    client = await server.start()
    try:
        old = await client.start_workflow("journey", {"account": "acme"}, id="journey/welcome/acme",
                                          task_queue=QUEUE)
        current = await client.start_workflow(WORKFLOW_NAME, {"account": "globex"}, id="journey/welcome/globex",
                                              task_queue=QUEUE)
        other = await client.start_workflow("scheduler", {}, id="scheduler", task_queue=QUEUE)
        entered = datetime(2026, 11, 20, 9, tzinfo=UTC)
        store.journey_entered(old.id, old.result_run_id or "", "welcome", "acme", "v1", entered)
        await _running(client, 3)

        ended = await end_earlier_generations(client, store, datetime(2026, 11, 23, 9, tzinfo=UTC))

        assert [(j.workflow_id, j.workflow_type) for j in ended] == [("journey/welcome/acme", "journey")]
        assert (await old.describe()).status == WorkflowExecutionStatus.TERMINATED
        assert (await current.describe()).status == WorkflowExecutionStatus.RUNNING
        assert (await other.describe()).status == WorkflowExecutionStatus.RUNNING
        (row,) = [j for j in store.journeys(account="acme")]
        assert row.status == "exited"
        assert "upgraded" in (row.reason or "")
    finally:
        server.stop()
