"""The dashboard's pages: HTML rendered on the server, forms that post and redirect back.

Reading needs no JavaScript. Signing in takes the API token once (`POST /signin`) and sets an
HttpOnly cookie (`server.dashboard.session`); every page redirects to the sign-in form without
it, and a form that changes something (completing a task) also checks the page's form token.
With no API token configured there is no sign-in, as for the API.

Completing a task goes the way of the API's `POST /v1/tasks/{id}/complete`
(`server.web.task_completion`), through ingestion and routing, so the journey waiting on the
task hears it.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from engine.read_model import primary_score
from server.dashboard import views
from server.dashboard.session import (
    COOKIE,
    SESSION_SECONDS,
    form_token,
    new_session,
    same_secret,
    session_expiry,
    session_id,
    valid_form_token,
    valid_session,
)
from server.dashboard.signin_throttle import SigninThrottle
from server.smtp_sink import outbox_folder, read_message
from server.web.errors import ApiError
from server.web.state import State, WebState
from server.web.task_completion import complete_task

__all__ = ["STATIC", "TEMPLATES", "router"]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
MAX_FORM_BYTES = 16 * 1024

router = APIRouter(include_in_schema=False)

HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
}


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _css(value: str | None) -> str:
    """A band or kind as a CSS class name part: letters, digits and dashes only."""
    return "".join(c if c.isalnum() else "-" for c in (value or "none").lower())


_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.filters.update(when=_when, number=_number, css=_css, q=lambda value: quote(str(value), safe=""))


@dataclass(frozen=True)
class Visitor:
    session: str  # the cookie's value; "" when no token is configured
    form_token: str  # what the page's forms post back; "" when no token is configured


def _visitor(request: Request, state: WebState) -> Visitor | None:
    """Who asks: None when a token is configured and the request has no valid session."""
    if state.token is None:
        return Visitor(session="", form_token="")
    cookie = request.cookies.get(COOKIE)
    if cookie is None or not valid_session(cookie, state.token) or state.store.session_revoked(session_id(cookie)):
        return None
    return Visitor(session=cookie, form_token=form_token(cookie, state.token))


def _safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go back to; anything else (another site, a scheme) is the default."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 32 for c in value):
        return default
    return value


def _to_signin(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(here, safe='')}", status_code=303)


def _render(request: Request, state: WebState, template: str, visitor: Visitor | None, *,
            status: int = 200, section: str = "", **context: Any) -> HTMLResponse:
    page = _env.get_template(template).render(
        request_path=request.url.path, section=section, auth=state.token is not None,
        form_token=visitor.form_token if visitor is not None else "",
        has_outbox=outbox_folder(state.settings.state_dir).is_dir(), **context)
    return HTMLResponse(page, status_code=status, headers=HEADERS)


def _problem(request: Request, state: WebState, visitor: Visitor | None, status: int, title: str,
             detail: str, back: str = "/") -> HTMLResponse:
    return _render(request, state, "problem.html", visitor, status=status, title=title, detail=detail, back=back)


def _first_sentence(detail: object) -> str:
    return str(detail).split(". ", 1)[0]


async def _form(request: Request) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body as a dict (first value of each name)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


# --------------------------------------------------------------------------- signing in


@router.get("/signin")
async def signin_form(request: Request, state: State, next: str = "/") -> Response:
    if state.token is None or _visitor(request, state) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _render(request, state, "signin.html", None, section="signin", next=_safe_next(next), error=None)


@router.post("/signin")
async def signin(request: Request, state: State) -> Response:
    form = await _form(request)
    target = _safe_next(form.get("next"))
    if state.token is None:
        return RedirectResponse(target, status_code=303)
    throttle = _throttle(request)
    client = request.client.host if request.client else ""
    wait = throttle.wait_seconds(client)
    if wait > 0:
        page = _render(request, state, "signin.html", None, status=429, section="signin", next=target,
                       error=f"Too many wrong tokens: try again in {math.ceil(wait)} s.")
        page.headers["Retry-After"] = str(math.ceil(wait))
        return page
    given = form.get("token", "").strip()
    if not given or not same_secret(given, state.token):
        throttle.failed(client)
        return _render(request, state, "signin.html", None, status=401, section="signin", next=target,
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


# --------------------------------------------------------------------------- pages


@router.get("/")
async def accounts_page(request: Request, state: State) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin(request)
    groups = await asyncio.to_thread(views.account_groups, state.store, state.bundle)
    return _render(request, state, "accounts.html", visitor, section="accounts", groups=groups,
                   score=primary_score(state.bundle), unscored=views.UNSCORED)


@router.get("/accounts/{account:path}")
async def account_page(account: str, request: Request, state: State) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin(request)
    view = await asyncio.to_thread(views.account_view, state.store, state.bundle, account, datetime.now(UTC))
    if view is None:
        return _problem(request, state, visitor, 404, "No such account", f"There is no account '{account}'.")
    return _render(request, state, "account.html", visitor, section="accounts", account=view)


@router.get("/tasks")
async def task_page(request: Request, state: State, owner: str | None = None) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin(request)
    owner = owner or None
    now = datetime.now(UTC)
    columns = await asyncio.to_thread(views.task_board, state.store, now, owner)
    owners = await asyncio.to_thread(views.task_owners, state.store)
    return _render(request, state, "tasks.html", visitor, section="tasks", columns=columns, owners=owners,
                   owner=owner, back=request.url.path + (f"?{request.url.query}" if request.url.query else ""))


@router.post("/tasks/{task_id:path}/complete")
async def complete(task_id: str, request: Request, state: State) -> Response:
    visitor = _visitor(request, state)
    form = await _form(request)
    back = _safe_next(form.get("next"), "/tasks")
    if visitor is None:  # signed out meanwhile: sign in, then back to the page the form was on
        return RedirectResponse(f"/signin?next={quote(back, safe='')}", status_code=303)
    if state.token is not None and not valid_form_token(form.get("form_token"), visitor.session, state.token):
        return _problem(request, state, visitor, 403, "The form has expired",
                        "Open the page again and repeat what you did.", back)
    try:
        await complete_task(task_id, state)
    except ApiError as error:
        if error.status == 503:  # nothing stored: the engine cannot take it now (backlog full, store down)
            return _problem(request, state, visitor, 503, "The task is not completed yet",
                            "The engine cannot take the completion just now "
                            f"({_first_sentence(error.detail)}). Nothing was changed: try again in a moment.",
                            back)
        return _problem(request, state, visitor, error.status, "The task was not completed", str(error.detail), back)
    return RedirectResponse(back, status_code=303)


@router.get("/playbooks")
async def playbooks_page(request: Request, state: State) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin(request)
    playbooks = await asyncio.to_thread(views.playbook_list, state.store, state.bundle)
    return _render(request, state, "playbooks.html", visitor, section="playbooks", playbooks=playbooks)


@router.get("/playbooks/{playbook}")
async def playbook_page(playbook: str, request: Request, state: State) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin(request)
    view = await asyncio.to_thread(views.playbook_view, state.store, state.bundle, playbook)
    if view is None:
        return _problem(request, state, visitor, 404, "No such playbook",
                        f"No playbook '{playbook}' is deployed.", "/playbooks")
    return _render(request, state, "playbook.html", visitor, section="playbooks", view=view)


@router.get("/outbox")
async def outbox_page(request: Request, state: State) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin(request)
    folder = outbox_folder(state.settings.state_dir)
    messages = await asyncio.to_thread(views.outbox, folder)
    return _render(request, state, "outbox.html", visitor, section="outbox", messages=messages, folder=str(folder))


@router.get("/outbox/{file}")
async def outbox_message(file: str, request: Request, state: State) -> Response:
    visitor = _visitor(request, state)
    if visitor is None:
        return _to_signin(request)
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
        return _problem(request, state, visitor, 404, "No such message",
                        "The outbox does not list that message.", "/outbox")
    entry, text, has_html = found
    return _render(request, state, "message.html", visitor, section="outbox", entry=entry, text=text,
                   has_html=has_html)
