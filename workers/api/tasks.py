"""`GET /v1/tasks` (a CSM's work list) and `POST /v1/tasks/{id}/complete`.

Completing a task stores a `task_completed` event (id `task_completed:<task id>`, so a retried
request stores it once), which closes the task in the same transaction; the event is routed like
any other input, in the background, so the journey that waits on the task hears it.
Completing a task that is already done changes nothing and answers the task.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from engine.ingestion import ParsedLine
from engine.records import TaskRecord
from workers.api.auth import require_token
from workers.api.batches import ingest_batch
from workers.api.errors import ApiError
from workers.api.state import State

__all__ = ["TaskOut", "router"]

router = APIRouter(tags=["tasks"], dependencies=[Depends(require_token)])


class TaskOut(BaseModel):
    id: str
    account: str
    playbook: str | None
    title: str
    owner: str
    due: datetime | None
    priority: str
    status: Literal["open", "done"]
    overdue: bool
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, task: TaskRecord, now: datetime) -> TaskOut:
        overdue = task.status == "open" and task.due is not None and task.due < now
        return cls(**task.model_dump(), overdue=overdue)


class Completed(BaseModel):
    task: TaskOut
    accepted: int  # 1 when this request stored the completion, 0 when it was stored before


@router.get("/v1/tasks", response_model=list[TaskOut], summary="Tasks, oldest first")
async def list_tasks(
    state: State,
    owner: Annotated[str | None, Query(description="the owner's email")] = None,
    status: Annotated[Literal["open", "done"] | None, Query()] = None,
    account: Annotated[str | None, Query()] = None,
    overdue: Annotated[bool, Query(description="only open tasks past their due time")] = False,
) -> list[TaskOut]:
    if overdue and status == "done":
        raise ApiError(400, "bad request", "overdue=true lists open tasks; it cannot be combined with status=done")
    records = await asyncio.to_thread(state.store.tasks, owner=owner, status="open" if overdue else status,
                                      account=account)
    now = datetime.now(UTC)
    tasks = [TaskOut.of(record, now) for record in records]
    return [task for task in tasks if task.overdue] if overdue else tasks


@router.post("/v1/tasks/{task_id}/complete", response_model=Completed, summary="Mark a task done",
             responses={404: {"description": "No such task"},
                        503: {"description": "Routing backlog full or store unavailable; nothing stored, "
                                             "retry after Retry-After"}})
async def complete_task(task_id: str, state: State) -> Completed:
    task = await asyncio.to_thread(state.store.task, task_id)
    if task is None:
        raise ApiError(404, "not found", f"no task '{task_id}'")
    event = {"id": f"task_completed:{task_id}", "account": task.account, "event": "task_completed",
             "data": {"task": task_id}}
    parsed: list[ParsedLine] = [(1, event)]
    outcome = await ingest_batch(state, parsed)
    if outcome.result.rejected:
        raise ApiError(400, "bad request", outcome.result.rejected[0].reason)
    done = await asyncio.to_thread(state.store.task, task_id)
    assert done is not None
    return Completed(task=TaskOut.of(done, datetime.now(UTC)), accepted=len(outcome.result.accepted))
