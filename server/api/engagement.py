"""`GET /e/c/<token>` and `GET /e/o/<token>`: the click redirect and the open pixel of tracked email.

With `PLAYBOOK_TRACK_ENGAGEMENT` on, every link of an email points here (`activities.tracked_links`).
The token names a message and one of its links, signed (`activities.tracking_tokens`); the link
itself is read from the store, where the send kept the message's links. So the redirect leads
only to a URL that was in that message: a malformed or altered token is 400, a token for a
message the store does not know, for a link the message does not have, or past
`PLAYBOOK_TRACKING_DAYS` is 404, each with its reason, and none of them redirects anywhere.

A click is stored as the built-in event `email_clicked` (`template`, `url`, `key`), an open as
`email_opened` (`template`, `key`), through the same ingestion and routing as `POST /v1/events`,
so journeys hear them as triggers, waits, goals and exits. Each message stores a bounded number
of them (`engine.store.engagement`); past the bound the redirect and the pixel still answer.
No API token: these are links in email. Nothing is read from a body.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from activities.tracking_tokens import MAX_TOKEN_LENGTH, OPEN, TokenError, read_token
from engine.store.engagement import TrackedRow
from server.web.errors import ApiError
from server.web.ingest import ingest_batch
from server.web.state import State, WebState

__all__ = ["PIXEL", "router"]

router = APIRouter(tags=["engagement"])
log = logging.getLogger("playbook.api")

# a transparent 1x1 GIF
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
_PRIVATE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}
_REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"description": "The token is malformed, too long, or altered: it is not one the engine wrote"},
    404: {"description": "No such message, no such link in it, or the link has expired"},
}


async def _tracked(state: WebState, token: str, *, click: bool) -> tuple[TrackedRow, int, datetime]:
    """The message and link index the token names, and now; `ApiError` 400/404 with the reason."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise ApiError(400, "bad request", f"the token is longer than {MAX_TOKEN_LENGTH} characters")
    try:
        named = read_token(state.settings.tracking_key, token, click=click)
    except TokenError as error:
        raise ApiError(400, "bad request", str(error)) from None
    row = await asyncio.to_thread(state.store.tracked_message, named.ref)
    if row is None:
        raise ApiError(404, "not found", "no message of this engine has this link (it may have been erased)")
    if named.index != OPEN and named.index >= len(row.links):
        raise ApiError(404, "not found", f"the message has no link {named.index}")
    now = await state.clock.now()
    if now - row.at > timedelta(days=state.settings.tracking_days):
        raise ApiError(404, "not found", f"the link has expired: it works for {state.settings.tracking_days} "
                                         "days after the email was sent")
    return row, named.index, now


async def _record(state: WebState, row: TrackedRow, now: datetime, event: str, data: dict[str, Any]) -> None:
    """Store the engagement event like any input, within the message's bound; never fails the answer."""
    if not await asyncio.to_thread(state.store.note_engagement, row.ref, now):
        return
    line = {"account": row.account, "at": now.isoformat(), "event": event,
            "data": {"template": row.template, **data, "key": row.key}}
    try:
        await ingest_batch(state, [(1, line)])
    except ApiError as error:  # the person still gets the page or the image
        log.warning("%s of %s not stored: %s", event, row.ref, error)


@router.get("/e/c/{token}", status_code=302, summary="A tracked link of an email: redirects to the URL it had",
            responses={302: {"description": "To the link as it was in the email"}, **_REFUSED})
async def click(token: str, state: State) -> Response:
    row, index, now = await _tracked(state, token, click=True)
    url = row.links[index]
    await _record(state, row, now, "email_clicked", {"url": url})
    return RedirectResponse(url, status_code=302, headers=_PRIVATE)


@router.get("/e/o/{token}", summary="The open pixel of an email: a transparent 1x1 GIF",
            responses={200: {"content": {"image/gif": {}}, "description": "The pixel"}, **_REFUSED})
async def opened(token: str, state: State) -> Response:
    row, _, now = await _tracked(state, token, click=False)
    await _record(state, row, now, "email_opened", {})
    return Response(PIXEL, media_type="image/gif", headers=_PRIVATE)
