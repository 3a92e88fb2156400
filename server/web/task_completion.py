"""Completing a task, for `POST /v1/tasks/{id}/complete` and the dashboard's task board alike.

It stores a `task_completed` event (id `task_completed:<task id>`, so a retried request stores it
once), which closes the task in the same transaction; the event is routed like any other input,
in the background, so the journey that waits on the task hears it. Completing a task that is
already done changes nothing and answers the task. The event carries the outcome given (`resolved`,
`no_response`, `churned` …) and the task's type and reason, for the playbooks it may trigger.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pydantic import BaseModel

from engine.intake.ingestion import ParsedLine
from engine.read_model import TaskOut
from server.web.errors import ApiError
from server.web.ingest import ingest_batch
from server.web.state import WebState

__all__ = ["Completed", "complete_task"]


class Completed(BaseModel):
    task: TaskOut
    accepted: int  # 1 when this request stored the completion, 0 when it was stored before


async def complete_task(task_id: str, state: WebState, outcome: str | None = None) -> Completed:
    """404 when there is no such task; else as the module says."""
    task = await asyncio.to_thread(state.store.task, task_id)
    if task is None:
        raise ApiError(404, "not found", f"no task '{task_id}'")
    data = {"task": task_id, "outcome": outcome, "type": task.task_type, "reason": task.reason}
    event = {"id": f"task_completed:{task_id}", "account": task.account, "event": "task_completed",
             "data": {key: value for key, value in data.items() if value is not None}}
    parsed: list[ParsedLine] = [(1, event)]
    stored = await ingest_batch(state, parsed)
    if stored.result.rejected:
        raise ApiError(400, "bad request", stored.result.rejected[0].reason)
    done = await asyncio.to_thread(state.store.task, task_id)
    assert done is not None
    return Completed(task=TaskOut.of(done, datetime.now(UTC)), accepted=len(stored.result.accepted))
