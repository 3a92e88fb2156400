"""`GET` and `POST /v1/unsubscribe?email=…&token=…`: the link every email carries.

The token is the HMAC of the address (`activities.sending.unsubscribe_token`), so only links the
engine wrote work; no API token is needed. A forged or damaged link is refused with 403 and the
reason, before any body is read.

`GET` (a person opening the link, or a mail scanner following it) unsubscribes nobody: it answers
a page with an "Unsubscribe" button that posts to the same URL. `POST` unsubscribes: the button,
or RFC 8058's one-click unsubscribe (`List-Unsubscribe-Post: List-Unsubscribe=One-Click`) that
mail clients post. Its body (`List-Unsubscribe=One-Click`) is read only after the link is checked,
and at most `api_unauthenticated_max_body_bytes` (4 KB) of it.

Pages are HTML; a client that asks for `application/json` gets the API's JSON shape instead.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from activities.sending import unsubscribe_token
from server.api.limits import read_body
from server.web.errors import error_body
from server.web.state import State, WebState

__all__ = ["router", "valid_token"]

router = APIRouter(tags=["unsubscribe"])

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto; padding: 0 1em">
<h1>{title}</h1>
<p>{message}</p>{form}
</body></html>
"""
_FORM = """
<form method="post" action="{action}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form>"""


def valid_token(secret: str, email: str, token: str) -> bool:
    return hmac.compare_digest(unsubscribe_token(secret, email).encode(), token.strip().lower().encode())


def _answer(request: Request, status: int, title: str, message: str, error: str | None = None,
            unsubscribed: bool = True, form: bool = False) -> Response:
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        if error is not None:
            return JSONResponse(error_body(error, message), status_code=status)
        return JSONResponse({"unsubscribed": unsubscribed, "detail": message}, status_code=status)
    button = _FORM.format(action=escape(str(request.url.path) + "?" + request.url.query)) if form else ""
    return HTMLResponse(_PAGE.format(title=escape(title), message=escape(message), form=button), status_code=status)


def _refusal(request: Request, state: WebState, email: str | None, token: str | None) -> Response | None:
    """The answer to a link that is not one the engine wrote; None for a genuine link."""
    if not email or not token:
        return _answer(request, 400, "This link is incomplete",
                       "The unsubscribe link needs both its email and token parts: open the link from the "
                       "email again, without cutting it.", error="bad request")
    if "@" not in email or not valid_token(state.unsubscribe_secret, email, token):
        return _answer(request, 403, "This link is not valid",
                       "The token does not match the address: this unsubscribe link was not written by us "
                       "or was altered. Use the link from the email itself.", error="forbidden")
    return None


@router.get("/v1/unsubscribe", response_class=HTMLResponse,
            summary="Unsubscribe link (opened in a browser): a confirmation page, nothing changed",
            responses={403: {"description": "The token does not match the address"}})
async def unsubscribe_link(
    request: Request,
    state: State,
    email: Annotated[str | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> Response:
    refused = _refusal(request, state, email, token)
    if refused is not None:
        return refused
    return _answer(request, 200, "Unsubscribe?", f"Press the button to stop email to {email}. Opening this "
                   "page changes nothing.", unsubscribed=False, form=True)


@router.post("/v1/unsubscribe", response_class=HTMLResponse, summary="One-click unsubscribe (RFC 8058)",
             responses={403: {"description": "The token does not match the address"}})
async def unsubscribe_one_click(
    request: Request,
    state: State,
    email: Annotated[str | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> Response:
    refused = _refusal(request, state, email, token)
    if refused is not None:
        return refused
    await read_body(request, replace(state.limits, max_body_bytes=state.settings.api_unauthenticated_max_body_bytes))
    assert email is not None
    await asyncio.to_thread(state.store.suppress, email, "unsubscribed", datetime.now(UTC))
    return _answer(request, 200, "You are unsubscribed",
                   f"{email} will get no more email from us. This takes effect at once.")
