"""`GET` and `POST /v1/unsubscribe?email=…&token=…`: the link every email carries.

The token is the HMAC of the address (`activities.messages.unsubscribe_token`), so only links the
engine wrote work; no API token is needed. A valid link puts the address on the suppression
list and answers a small page; a forged or damaged one is refused with 403 and the reason.
`POST` is RFC 8058's one-click unsubscribe (`List-Unsubscribe-Post: List-Unsubscribe=One-Click`):
mail clients post to the same URL; the body (`List-Unsubscribe=One-Click`) is read and ignored.

Pages are HTML; a client that asks for `application/json` gets the API's JSON shape instead.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import UTC, datetime
from html import escape
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from activities.messages import unsubscribe_token
from workers.api.errors import error_body
from workers.api.limits import read_body
from workers.api.state import ApiState, State

__all__ = ["router", "valid_token"]

router = APIRouter(tags=["unsubscribe"])

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto; padding: 0 1em">
<h1>{title}</h1>
<p>{message}</p>
</body></html>
"""


def valid_token(secret: str, email: str, token: str) -> bool:
    return hmac.compare_digest(unsubscribe_token(secret, email).encode(), token.strip().lower().encode())


def _answer(request: Request, status: int, title: str, message: str, error: str | None = None) -> Response:
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        if error is not None:
            return JSONResponse(error_body(error, message), status_code=status)
        return JSONResponse({"unsubscribed": True, "detail": message}, status_code=status)
    return HTMLResponse(_PAGE.format(title=escape(title), message=escape(message)), status_code=status)


async def _unsubscribe(request: Request, state: ApiState, email: str | None, token: str | None) -> Response:
    if not email or not token:
        return _answer(request, 400, "This link is incomplete",
                       "The unsubscribe link needs both its email and token parts: open the link from the "
                       "email again, without cutting it.", error="bad request")
    if "@" not in email or not valid_token(state.unsubscribe_secret, email, token):
        return _answer(request, 403, "This link is not valid",
                       "The token does not match the address: this unsubscribe link was not written by us "
                       "or was altered. Use the link from the email itself.", error="forbidden")
    await asyncio.to_thread(state.store.suppress, email, "unsubscribed", datetime.now(UTC))
    return _answer(request, 200, "You are unsubscribed",
                   f"{email} will get no more email from us. This takes effect at once.")


@router.get("/v1/unsubscribe", response_class=HTMLResponse, summary="Unsubscribe link (opened in a browser)",
            responses={403: {"description": "The token does not match the address"}})
async def unsubscribe_link(
    request: Request,
    state: State,
    email: Annotated[str | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> Response:
    return await _unsubscribe(request, state, email, token)


@router.post("/v1/unsubscribe", response_class=HTMLResponse, summary="One-click unsubscribe (RFC 8058)",
             responses={403: {"description": "The token does not match the address"}})
async def unsubscribe_one_click(
    request: Request,
    state: State,
    email: Annotated[str | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> Response:
    await read_body(request, state.limits)
    return await _unsubscribe(request, state, email, token)
