"""The dashboard's sign-in, playbook and outbox pages; the account pages are
`server.dashboard.account_page` and `accounts_page`, the work lists `work_page`, the brakes
`brakes_page` (what they share: `server.dashboard.rendering`).

Reading needs no JavaScript. Signing in takes the API token once (`POST /signin`) and sets an
HttpOnly cookie (`server.dashboard.session`); every page redirects to the sign-in form without
it, and a form that changes something also checks the page's form token. With no API token
configured there is no sign-in, as for the API.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from server.dashboard import views
from server.dashboard.rendering import STATIC, TEMPLATES, problem, read_form, render, safe_next, to_signin, visitor
from server.dashboard.session import (
    COOKIE,
    SESSION_SECONDS,
    new_session,
    same_secret,
    session_expiry,
    session_id,
    valid_session,
)
from server.dashboard.signin_throttle import SigninThrottle
from server.smtp_sink import outbox_folder, read_message
from server.web.state import State

__all__ = ["STATIC", "TEMPLATES", "router"]

router = APIRouter(include_in_schema=False)


# --------------------------------------------------------------------------- signing in


@router.get("/signin")
async def signin_form(request: Request, state: State, next: str = "/") -> Response:
    if state.token is None or visitor(request, state) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, state, "signin.html", None, section="signin", next=safe_next(next), error=None)


@router.post("/signin")
async def signin(request: Request, state: State) -> Response:
    form = await read_form(request)
    target = safe_next(form.get("next"))
    if state.token is None:
        return RedirectResponse(target, status_code=303)
    throttle = _throttle(request)
    client = request.client.host if request.client else ""
    wait = throttle.wait_seconds(client)
    if wait > 0:
        page = render(request, state, "signin.html", None, status=429, section="signin", next=target,
                      error=f"Too many wrong tokens: try again in {math.ceil(wait)} s.")
        page.headers["Retry-After"] = str(math.ceil(wait))
        return page
    given = form.get("token", "").strip()
    if not given or not same_secret(given, state.token):
        throttle.failed(client)
        return render(request, state, "signin.html", None, status=401, section="signin", next=target,
                      error="That is not the API token. Ask whoever runs playbook for PLAYBOOK_API_TOKEN.")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, new_session(state.token), max_age=SESSION_SECONDS, path="/", httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")
    return response


def _throttle(request: Request) -> SigninThrottle:
    """The sign-in throttle of this application (one per API process)."""
    throttle = getattr(request.app.state, "signin_throttle", None)
    if not isinstance(throttle, SigninThrottle):
        throttle = SigninThrottle()
        request.app.state.signin_throttle = throttle
    return throttle


@router.post("/signout")
async def signout(request: Request, state: State) -> Response:
    cookie = request.cookies.get(COOKIE)
    if state.token is not None and cookie is not None and valid_session(cookie, state.token):
        expires = datetime.fromtimestamp(session_expiry(cookie), UTC)
        await asyncio.to_thread(state.store.revoke_session, session_id(cookie), expires)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response


# --------------------------------------------------------------------------- playbooks and the outbox


@router.get("/playbooks")
async def playbooks_page(request: Request, state: State) -> Response:
    who = visitor(request, state)
    if who is None:
        return to_signin(request)
    playbooks = await asyncio.to_thread(views.playbook_list, state.store, state.bundle)
    return render(request, state, "playbooks.html", who, section="playbooks", playbooks=playbooks)


@router.get("/playbooks/{playbook}")
async def playbook_page(playbook: str, request: Request, state: State) -> Response:
    who = visitor(request, state)
    if who is None:
        return to_signin(request)
    view = await asyncio.to_thread(views.playbook_view, state.store, state.bundle, playbook)
    if view is None:
        return problem(request, state, who, 404, "No such playbook",
                       f"No playbook '{playbook}' is deployed.", "/playbooks")
    return render(request, state, "playbook.html", who, section="playbooks", view=view)


@router.get("/outbox")
async def outbox_page(request: Request, state: State) -> Response:
    who = visitor(request, state)
    if who is None:
        return to_signin(request)
    folder = outbox_folder(state.settings.state_dir)
    messages = await asyncio.to_thread(views.outbox, folder)
    return render(request, state, "outbox.html", who, section="outbox", messages=messages, folder=str(folder))


@router.get("/outbox/{file}")
async def outbox_message(file: str, request: Request, state: State) -> Response:
    who = visitor(request, state)
    if who is None:
        return to_signin(request)
    folder = outbox_folder(state.settings.state_dir)

    def read() -> tuple[views.SinkMessage, str, bool] | None:
        entry = next((m for m in views.outbox(folder) or [] if m.file == file), None)  # only files it lists
        if entry is None:
            return None
        message = read_message(folder, entry)
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        text = plain.get_content() if plain is not None else ""
        return entry, str(text), html is not None

    found = await asyncio.to_thread(read)
    if found is None:
        return problem(request, state, who, 404, "No such message",
                       "The outbox does not list that message.", "/outbox")
    entry, text, has_html = found
    return render(request, state, "message.html", who, section="outbox", entry=entry, text=text,
                  has_html=has_html)
