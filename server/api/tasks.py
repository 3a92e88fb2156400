"""`GET /v1/tasks` (a CSM's work list, read by `engine.read_model.task_list`) and
`POST /v1/tasks/{id}/complete` (`server.web.task_completion`, which the dashboard uses too).

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

from engine.read_model import TaskOut, task_list
from server.api.auth import require_token
from server.web import task_completion
from server.web.errors import ApiError
from server.web.state import State
from server.web.task_completion import Completed

__all__ = ["router"]

router = APIRouter(tags=["tasks"], dependencies=[Depends(require_token)])


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
    return await asyncio.to_thread(task_list, state.store, datetime.now(UTC), owner=owner, status=status,
                                   account=account, overdue=overdue)


@router.post("/v1/tasks/{task_id}/complete", response_model=Completed, summary="Mark a task done",
             responses={404: {"description": "No such task"},
                        503: {"description": "Routing backlog full or store unavailable; nothing stored, "
                                             "retry after Retry-After"}})
async def complete_task(task_id: str, state: State) -> Completed:
    return await task_completion.complete_task(task_id, state)
