"""My work (`/tasks`): a CSM's open work items by due date, each with its type, reason, why it
exists (a link to the line of the account's timeline where the journey opened it) and its
checklist's progress, with forms to complete it with an outcome, snooze it and reassign it; and
the team's overdue items for a manager (`/tasks/team`, `?manager=EMAIL` for one manager's CSMs).
Both are read a page at a time by `engine.read_model.work`.

Whose work is shown: `?owner=EMAIL`, else the CSM the visitor chose to work as (`POST /me`, a
cookie), else everyone's. The forms do what the API's routes do, through the same functions:
completing goes through `server.web.task_completion` (the journey waiting on the item hears it),
snoozing and reassigning through the store's `snooze_task` and `reassign_task`, each logged.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.read_model.account_pages import csm_list
from engine.read_model.cursors import BadQuery
from engine.records import TaskRecord
from engine.store import Store, TaskClosed, TaskNotFound
from server.dashboard import work_view
from server.dashboard.rendering import (
    ME_COOKIE,
    Posted,
    first_sentence,
    here,
    me,
    posted,
    problem,
    render,
    to_signin,
    visitor,
)
from server.web.errors import ApiError
from server.web.state import State
from server.web.task_completion import complete_task

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
OUTCOME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
SNOOZE_DAYS = (1, 3, 7, 14)


def _owners(store: Store) -> list[tuple[str, str]]:
    """Whom the work list offers, (address, name) by name: every CSM of an account."""
    named = {csm.email: csm.name or csm.email for csm in csm_list(store)}
    return sorted(named.items(), key=lambda pair: (pair[1].lower(), pair[0]))


@router.get("/tasks")
async def my_work_page(request: Request, state: State, owner: str | None = None, cursor: str = "") -> Response:
    who = visitor(request, state)
    if who is None:
        return to_signin(request)
    chosen = me(request) if owner is None else (owner.strip().lower()[:320] or None)
    now = datetime.now(UTC)
    try:
        work = await asyncio.to_thread(work_view.my_work, state.store, now, chosen, cursor or None)
    except BadQuery as error:
        return problem(request, state, who, 400, "That page cannot be shown", f"{str(error).capitalize()}.", "/tasks")
    owners = await asyncio.to_thread(_owners, state.store)
    return render(request, state, "tasks.html", who, section="tasks", work=work, owners=owners, back=here(request),
                  owner_name=dict(owners).get(chosen or "", chosen), outcomes=work_view.OUTCOMES,
                  snooze_days=SNOOZE_DAYS, why=work_view.why_link)


@router.get("/tasks/team")
async def team_page(request: Request, state: State, manager: str = "") -> Response:
    who = visitor(request, state)
    if who is None:
        return to_signin(request)
    lead = manager.strip().lower()[:320] or None
    try:
        columns = await asyncio.to_thread(work_view.team_overdue, state.store, datetime.now(UTC), lead)
    except BadQuery as error:
        return problem(request, state, who, 400, "That page cannot be shown", f"{str(error).capitalize()}.",
                       "/tasks/team")
    return render(request, state, "team.html", who, section="team", columns=columns, manager=lead,
                  why=work_view.why_link)


@router.post("/me")
async def choose_me(request: Request, state: State) -> Response:
    """Work as this CSM (`owner`, an email; empty: nobody in particular), remembered in a cookie."""
    form = await posted(request, state, "/tasks")
    if not isinstance(form, Posted):
        return form
    owner = form.form.get("owner", "").strip().lower()
    response = RedirectResponse(form.back if owner else "/tasks?owner=", status_code=303)
    if owner and EMAIL.match(owner) and len(owner) <= 320:
        response.set_cookie(ME_COOKIE, owner, max_age=365 * 86400, path="/", httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    else:
        response.delete_cookie(ME_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.post("/tasks/{task_id:path}/complete")
async def complete(task_id: str, request: Request, state: State) -> Response:
    form = await posted(request, state, "/tasks")
    if not isinstance(form, Posted):
        return form
    outcome = form.form.get("outcome", "").strip() or None
    if outcome is not None and not OUTCOME.match(outcome):
        return problem(request, state, form.who, 400, "The task was not completed",
                       f"'{outcome[:100]}' is not an outcome: a lower-case name such as resolved.", form.back)
    try:
        await complete_task(task_id, state, outcome)
    except ApiError as error:
        if error.status == 503:  # nothing stored: the engine cannot take it now (backlog full, store down)
            return problem(request, state, form.who, 503, "The task is not completed yet",
                           "The engine cannot take the completion just now "
                           f"({first_sentence(error.detail)}). Nothing was changed: try again in a moment.",
                           form.back)
        return problem(request, state, form.who, error.status, "The task was not completed", str(error.detail),
                       form.back)
    return RedirectResponse(form.back, status_code=303)


async def _change(request: Request, state: State, form: Posted, what: str,
                  change: Callable[[], TaskRecord]) -> Response:
    try:
        await asyncio.to_thread(change)
    except TaskNotFound as error:
        return problem(request, state, form.who, 404, f"The task was not {what}", str(error), form.back)
    except TaskClosed as error:
        return problem(request, state, form.who, 409, f"The task was not {what}", f"{error}: nothing to change.",
                       form.back)
    return RedirectResponse(form.back, status_code=303)


@router.post("/tasks/{task_id:path}/snooze")
async def snooze(task_id: str, request: Request, state: State) -> Response:
    form = await posted(request, state, "/tasks")
    if not isinstance(form, Posted):
        return form
    days = form.form.get("days", "")
    reason = " ".join(form.form.get("reason", "").split())[:500]
    if not days.isdigit() or int(days) not in SNOOZE_DAYS:
        return problem(request, state, form.who, 400, "The task was not snoozed",
                       f"Snooze for one of {', '.join(map(str, SNOOZE_DAYS))} days.", form.back)
    if not reason:
        return problem(request, state, form.who, 400, "The task was not snoozed",
                       "Say why (the customer is on holiday until the 20th…).", form.back)
    now = datetime.now(UTC)
    until = now + timedelta(days=int(days))
    return await _change(request, state, form, "snoozed",
                         lambda: state.store.snooze_task(task_id, until, reason, now))


@router.post("/tasks/{task_id:path}/reassign")
async def reassign(task_id: str, request: Request, state: State) -> Response:
    form = await posted(request, state, "/tasks")
    if not isinstance(form, Posted):
        return form
    owner = form.form.get("owner", "").strip().lower()
    reason = " ".join(form.form.get("reason", "").split())[:500] or None
    if not EMAIL.match(owner) or len(owner) > 320:
        return problem(request, state, form.who, 400, "The task was not reassigned",
                       f"'{owner[:320]}' is not an email address: give the new owner's.", form.back)
    return await _change(request, state, form, "reassigned",
                         lambda: state.store.reassign_task(task_id, owner, reason, datetime.now(UTC)))
