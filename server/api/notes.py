"""`POST /v1/accounts/{id}/notes` (a CSM writes a note about an account) and
`GET /v1/accounts/{id}/notes` (its notes, newest first).

A note is plain text of at most 2000 characters with an optional author (`engine.store.notes`);
an empty or longer one answers 400 with the reason, an unknown account 404. The dashboard's
account page stores notes through the same store function; `playbook why` tells them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from engine.read_model import known_account
from engine.store.notes import MAX_AUTHOR_CHARS, MAX_NOTE_CHARS, NoAccount, Note, NoteTooLong
from server.api.auth import require_token
from server.web.errors import ApiError
from server.web.state import State

__all__ = ["router"]

router = APIRouter(tags=["accounts"], dependencies=[Depends(require_token)])


class NewNote(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS * 2,  # trimmed, then held to MAX_NOTE_CHARS
                      description=f"plain text, at most {MAX_NOTE_CHARS} characters once trimmed")
    author: str | None = Field(None, max_length=MAX_AUTHOR_CHARS, description="who wrote it: an email or a name")


@router.post("/v1/accounts/{account}/notes", response_model=Note, status_code=201, summary="Add a note to an account",
             responses={400: {"description": "The note is empty or too long"},
                        404: {"description": "No such account"}})
async def add_note(account: str, body: NewNote, state: State) -> Note:
    try:
        return await asyncio.to_thread(state.store.add_note, account, body.text, body.author, datetime.now(UTC))
    except NoAccount:
        raise ApiError(404, "not found", f"no account '{account}'") from None
    except NoteTooLong as error:
        raise ApiError(400, "bad request", f"text: {error}") from None


@router.get("/v1/accounts/{account}/notes", response_model=list[Note], summary="An account's notes, newest first",
            responses={404: {"description": "No such account"}})
async def list_notes(account: str, state: State,
                     limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 50) -> list[Note]:
    notes = await asyncio.to_thread(state.store.notes, account, newest=limit)
    if not notes and not await asyncio.to_thread(state.store.current_fields, account) \
            and not await asyncio.to_thread(known_account, state.store, account):
        raise ApiError(404, "not found", f"no account '{account}'")
    return list(reversed(notes))
