"""The dashboard's brakes page (`/brakes`): what is stopped now, and buttons to pause or resume a
playbook and to stop or resume every send (the same store controls as `playbook pause`).
The forms carry the session's form token, like every form that changes something."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from engine.store.controls import SENDS, playbook_control
from server.dashboard.rendering import problem as _problem
from server.dashboard.rendering import read_form as _form
from server.dashboard.rendering import render as _render
from server.dashboard.rendering import to_signin as _to_signin
from server.dashboard.rendering import visitor as _visitor
from server.dashboard.session import valid_form_token
from server.web.state import State

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/brakes")
async def brakes_page(request: Request, state: State) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin(request)
    held = await asyncio.to_thread(state.store.controls)
    playbooks = [(pid, spec.title, held.get(playbook_control(pid)))
                 for pid, spec in sorted(state.bundle.playbooks.items())]
    return _render(request, state, "brakes.html", visitor, section="brakes", sends=held.get(SENDS),
                   playbooks=playbooks)


@router.post("/brakes")
async def brakes_change(request: Request, state: State) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return RedirectResponse("/signin?next=%2Fbrakes", status_code=303)
    form = await _form(request)
    if state.token is not None and not valid_form_token(form.get("form_token"), visitor.session, state.token):
        return _problem(request, state, visitor, 403, "The form has expired",
                        "Open the page again and repeat what you did.", "/brakes")
    target, action = form.get("target", ""), form.get("action", "")
    if target != SENDS and target.removeprefix("playbook:") not in state.bundle.playbooks:
        return _problem(request, state, visitor, 404, "No such playbook", f"There is no playbook '{target}'.",
                        "/brakes")
    if action == "pause":
        reason = " ".join(form.get("reason", "").split())[:500] or "from the dashboard"
        await asyncio.to_thread(state.store.set_control, target, reason, datetime.now(UTC))
    elif action == "resume":
        await asyncio.to_thread(state.store.clear_control, target)
    return RedirectResponse("/brakes", status_code=303)
