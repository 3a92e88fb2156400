"""`GET /v1/tasks` (a CSM's work list, read by `engine.read_model.task_list`, oldest first, 1,000 at
a time at most: when there are more, `Link: <…>; rel="next"` holds the next answer's URL and
`X-Next-Cursor` its cursor) and
`POST /v1/tasks/{id}/complete` (`server.web.task_completion`, which the dashboard uses too).

Completing a task stores a `task_completed` event (id `task_completed:<task id>`, so a retried
request stores it once), which closes the task in the same transaction; the event is routed like
any other input, in the background, so the journey that waits on the task hears it.
Completing a task that is already done changes nothing and answers the task.

`POST /v1/tasks/{id}/steps/{n}/done` ticks step n (from 1) of the task's checklist; a ticked step
keeps the time it was first ticked. The journey does not wait on steps, only on the task.

`POST /v1/tasks/{id}/snooze` (`until`, `reason`) keeps an open task from being overdue until then;
`POST /v1/tasks/{id}/reassign` (`owner`, `reason`) gives it to another owner. Each is logged
(`task_snoozed`, `task_reassigned`). A done task answers 409.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from engine.read_model import BadQuery, TaskOut, task_list
from engine.read_model.cursors import decode_cursor, encode_cursor
from engine.records import TaskRecord
from engine.store import StepNotFound, TaskClosed, TaskNotFound
from engine.store.types import to_utc
from server.api.auth import require_token
from server.api.paging import CURSOR, next_page_headers
from server.web import task_completion
from server.web.errors import ApiError
from server.web.state import State
from server.web.task_completion import Completed

__all__ = ["router"]

router = APIRouter(tags=["tasks"], dependencies=[Depends(require_token)])

WHOLE_PAGE = 1_000  # tasks in one answer at most: the next ones at the `Link` header's URL
_TASKS = "tasks"


class Completion(BaseModel):
    outcome: str | None = Field(None, max_length=100, pattern=r"^[a-z][a-z0-9_]*$",
                                description="how it ended: resolved, no_response, churned …")


@router.get("/v1/tasks", response_model=list[TaskOut], summary="Tasks, oldest first")
async def list_tasks(
    request: Request,
    response: Response,
    state: State,
    owner: Annotated[str | None, Query(description="the owner's email")] = None,
    status: Annotated[Literal["open", "done"] | None, Query()] = None,
    account: Annotated[str | None, Query()] = None,
    overdue: Annotated[bool, Query(description="only open tasks past their due time")] = False,
    task_type: Annotated[str | None, Query(alias="type", max_length=100,
                                           description="only the tasks of this type (one of the task types)")] = None,
    cursor: Annotated[str | None, CURSOR] = None,
    limit: Annotated[int, Query(ge=1, le=WHOLE_PAGE, description=f"tasks per answer (default {WHOLE_PAGE})")]
        = WHOLE_PAGE,
) -> list[TaskOut]:
    if overdue and status == "done":
        raise ApiError(400, "bad request", "overdue=true lists open tasks; it cannot be combined with status=done")
    after = None
    if cursor is not None:
        try:
            at, last = decode_cursor(cursor, _TASKS, (str, str))
            after = (to_utc(datetime.fromisoformat(at)), last)
        except (BadQuery, ValueError):
            raise ApiError(400, "bad request", "cursor: not a cursor this API handed out (pass X-Next-Cursor back "
                                               "as it came)") from None
    found = await asyncio.to_thread(task_list, state.store, datetime.now(UTC), owner=owner, status=status,
                                    account=account, overdue=overdue, task_type=task_type, after=after,
                                    limit=limit + 1)
    if len(found) > limit:
        found = found[:limit]
        next_page_headers(response, request, encode_cursor(_TASKS, [found[-1].created_at.isoformat(), found[-1].id]))
    return found


@router.post("/v1/tasks/{task_id}/complete", response_model=Completed, summary="Mark a task done",
             responses={404: {"description": "No such task"},
                        503: {"description": "Routing backlog full or store unavailable; nothing stored, "
                                             "retry after Retry-After"}})
async def complete_task(task_id: str, state: State, body: Completion | None = None) -> Completed:
    return await task_completion.complete_task(task_id, state, body.outcome if body else None)


@router.post("/v1/tasks/{task_id}/steps/{step}/done", response_model=TaskOut,
             summary="Tick a step of a task's checklist (steps count from 1)",
             responses={404: {"description": "No such task, or no such step in its checklist"}})
async def complete_step(task_id: str, step: Annotated[int, Path(ge=1, le=1000)], state: State) -> TaskOut:
    now = datetime.now(UTC)
    try:
        record = await asyncio.to_thread(state.store.complete_step, task_id, step - 1, now)
    except StepNotFound as error:
        raise ApiError(404, "not found", str(error)) from None
    return TaskOut.of(record, now)


class Snooze(BaseModel):
    until: datetime = Field(description="when it is due again: not overdue before then")
    reason: str = Field(min_length=1, max_length=500, description="why: 'customer on holiday until the 20th'")


class Reassign(BaseModel):
    owner: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$", description="the new owner's email")
    reason: str | None = Field(None, max_length=500)


def _changing(change: Callable[[], TaskRecord]) -> TaskRecord:
    try:
        return change()
    except TaskNotFound as error:
        raise ApiError(404, "not found", str(error)) from None
    except TaskClosed as error:
        raise ApiError(409, "conflict", str(error)) from None


@router.post("/v1/tasks/{task_id}/snooze", response_model=TaskOut, summary="Snooze an open task until a moment",
             responses={400: {"description": "The moment is not in the future"}, 404: {"description": "No such task"},
                        409: {"description": "The task is done"}})
async def snooze_task(task_id: str, body: Snooze, state: State) -> TaskOut:
    now = datetime.now(UTC)
    until = body.until if body.until.tzinfo is not None else body.until.replace(tzinfo=UTC)
    if until <= now:
        raise ApiError(400, "bad request", f"until must be in the future, got {until.isoformat()}")
    record = await asyncio.to_thread(_changing, lambda: state.store.snooze_task(task_id, until, body.reason, now))
    return TaskOut.of(record, now)


@router.post("/v1/tasks/{task_id}/reassign", response_model=TaskOut, summary="Give an open task to another owner",
             responses={404: {"description": "No such task"}, 409: {"description": "The task is done"}})
async def reassign_task(task_id: str, body: Reassign, state: State) -> TaskOut:
    now = datetime.now(UTC)
    record = await asyncio.to_thread(_changing, lambda: state.store.reassign_task(task_id, body.owner.strip().lower(),
                                                                                body.reason, now))
    return TaskOut.of(record, now)
