"""An account's page (`/accounts/<id>`): its summary, contacts, open work, scores, journeys, notes
and one timeline of what happened, filtered by kind (`?kind=message&kind=work_item`), a page at a
time (`cursor`: the "Older" link's, handed out by the timeline's read); and the form
that adds a note (`POST /accounts/<id>/notes`).

A note goes through the same store function as `POST /v1/accounts/{id}/notes`
(`Store.add_note`): plain text, at most 2000 characters, rendered escaped like every value on the
page. The form carries the page's form token.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from engine.read_model.cursors import BadQuery
from engine.store.notes import MAX_NOTE_CHARS, NoAccount, NoteTooLong
from server.dashboard.account_view import KINDS, account_view
from server.dashboard.rendering import Posted, me, posted, problem, render, to_signin, visitor
from server.web.state import State

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

KIND_NAMES = {"event": "events", "score": "scores", "message": "messages", "work_item": "work items",
              "decision": "decisions", "note": "notes", "action": "other actions"}


@router.get("/accounts/{account:path}")
async def account_page(account: str, request: Request, state: State,
                       kind: list[str] = Query(default=[]),  # noqa: B008 (FastAPI's way)
                       cursor: str = "") -> Response:
    who = visitor(request, state)
    if who is None:
        return to_signin(request)
    try:
        view = await asyncio.to_thread(account_view, state.store, state.bundle, account, datetime.now(UTC),
                                       set(kind[:len(KINDS)]), cursor or None)
    except BadQuery as error:
        return problem(request, state, who, 400, "That page cannot be shown", f"{str(error).capitalize()}.",
                       f"/accounts/{quote(account, safe='')}")
    if view is None:
        return problem(request, state, who, 404, "No such account", f"There is no account '{account}'.", "/accounts")
    return render(request, state, "account.html", who, section="accounts", account=view, all_kinds=KINDS,
                  kind_names=KIND_NAMES, max_note=MAX_NOTE_CHARS)


@router.post("/accounts/{account:path}/notes")
async def add_note(account: str, request: Request, state: State) -> Response:
    page = f"/accounts/{quote(account, safe='')}"
    form = await posted(request, state, page)
    if not isinstance(form, Posted):
        return form
    author = form.form.get("author", "").strip() or me(request)
    try:
        await asyncio.to_thread(state.store.add_note, account, form.form.get("text", ""), author, datetime.now(UTC))
    except NoAccount:
        return problem(request, state, form.who, 404, "No such account", f"There is no account '{account}'.",
                       "/accounts")
    except NoteTooLong as error:
        return problem(request, state, form.who, 400, "The note was not kept", f"{str(error).capitalize()}.", page)
    return RedirectResponse(f"{page}#notes", status_code=303)
