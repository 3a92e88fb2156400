"""Answering drafted emails from My work: approve as drafted or edited (`POST /drafts/<id>/approve`
with the subject and text as shown, changed or not), or discard with a reason
(`POST /drafts/<id>/discard`).

The answer goes through `server.web.draft_answers`, as the API's `POST /v1/drafts/{id}/approve`
and `/discard` do: kept in the store (one answer wins), logged, and told to the waiting journey,
which sends or drops the email at once. The answer carries the address of the CSM the visitor
works as, when chosen.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from server.dashboard.rendering import Posted, me, posted, problem
from server.web.draft_answers import answer_draft
from server.web.errors import ApiError
from server.web.state import State

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_SUBJECT = 300
MAX_TEXT = 100_000
MAX_REASON = 500


def _edits(form: dict[str, str], drafted: tuple[str, str]) -> tuple[str | None, str | None] | str:
    """The subject and text when edited (None when as drafted), or what is wrong with them."""
    subject = form.get("subject", "").strip()
    text = form.get("text", "").replace("\r\n", "\n")
    if not subject or "\n" in subject or "\r" in subject or len(subject) > MAX_SUBJECT:
        return f"The subject is one line of 1 to {MAX_SUBJECT} characters."
    if not text.strip() or len(text) > MAX_TEXT:
        return f"The text has 1 to {MAX_TEXT:,} characters."
    return (subject if subject != drafted[0] else None,
            text if text.strip() != drafted[1].replace("\r\n", "\n").strip() else None)


@router.post("/drafts/{draft_id}/approve")
async def approve(draft_id: str, request: Request, state: State) -> Response:
    form = await posted(request, state, "/tasks")
    if not isinstance(form, Posted):
        return form
    drafted = state.store.draft(draft_id)
    if drafted is None:
        return problem(request, state, form.who, 404, "The email was not approved", f"No draft '{draft_id}'.",
                       form.back)
    edits = _edits(form.form, (drafted.subject, drafted.text))
    if isinstance(edits, str):
        return problem(request, state, form.who, 400, "The email was not approved", edits, form.back)
    subject, text = edits
    try:
        await answer_draft(state, draft_id, "approve", subject=subject, text=text, by=me(request))
    except ApiError as error:
        return problem(request, state, form.who, error.status, "The email was not approved", str(error.detail),
                       form.back)
    return RedirectResponse(form.back, status_code=303)


@router.post("/drafts/{draft_id}/discard")
async def discard(draft_id: str, request: Request, state: State) -> Response:
    form = await posted(request, state, "/tasks")
    if not isinstance(form, Posted):
        return form
    reason = " ".join(form.form.get("reason", "").split())
    if not reason or len(reason) > MAX_REASON:
        return problem(request, state, form.who, 400, "The email was not discarded",
                       f"Say why it should not go (1 to {MAX_REASON} characters).", form.back)
    try:
        await answer_draft(state, draft_id, "discard", reason=reason, by=me(request))
    except ApiError as error:
        return problem(request, state, form.who, error.status, "The email was not discarded", str(error.detail),
                       form.back)
    return RedirectResponse(form.back, status_code=303)
