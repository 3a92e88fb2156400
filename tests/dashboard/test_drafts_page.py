"""Drafted emails on My work: the reviewer approves one as drafted or edited, or discards it with
a reason, through the same answer as `POST /v1/drafts/{id}/approve|discard`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dsl import ir
from engine.records import ActionRecord, DraftRecord
from engine.store import Store
from tests.dashboard.conftest import dashboard, form_token_of, sign_in
from tests.live_api import as_routed

NOW = datetime.now(UTC).replace(microsecond=0)
SAM = "sam@vendor.example"


def _draft(store: Store, id: str, reviewer: str = SAM) -> None:
    draft = DraftRecord(id=id, key=f"k/{id}", account="initech", playbook=None, journey=None, template="checkin",
                        to="bill@initech.example", subject=f"Checking in ({id})", text="Hi Bill,\n\nHow are things?\n",
                        html="<p>Hi Bill</p>", reviewer=reviewer, review_by=NOW + timedelta(hours=20), policy="send",
                        created_at=NOW - timedelta(hours=1))
    store.keep_draft(draft, ActionRecord(at=NOW - timedelta(hours=1), account="initech", playbook=None,
                                         kind="email_drafted", data={"draft": id}, key=f"k/{id}/draft"))


def _setup(store: Store) -> None:
    store.add_change("initech", NOW - timedelta(days=2), event=None, data={}, event_id=None,
                     traits={"name": "Initech"})
    as_routed(store)
    for id in ("d-1", "d-2", "d-3"):
        _draft(store, id)
    _draft(store, "d-lee", reviewer="lee@vendor.example")


async def test_my_work_lists_my_pending_drafts_with_their_deadline_and_what_happens_unanswered(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _setup(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/tasks", params={"owner": SAM})).text
    assert re.findall(r'data-draft="([^"]+)"', page) == ["d-1", "d-2", "d-3"]
    assert "else it is sent as drafted" in page
    assert 'value="Checking in (d-1)"' in page and "How are things?" in page


async def test_approving_as_drafted_edited_and_discarding_each_answer_the_draft_once(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _setup(store)
    back = f"/tasks?owner={SAM}"
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        token = form_token_of((await client.get(back)).text)
        as_is = await client.post("/drafts/d-1/approve", data={
            "form_token": token, "next": back, "subject": "Checking in (d-1)",
            "text": "Hi Bill,\r\n\r\nHow are things?\r\n"})
        edited = await client.post("/drafts/d-2/approve", data={
            "form_token": token, "next": back, "subject": "Training next week?", "text": "Hi Bill,\n\nShall we?\n"})
        silent = await client.post("/drafts/d-3/discard", data={"form_token": token, "reason": "  "})
        dropped = await client.post("/drafts/d-3/discard", data={"form_token": token, "reason": "I called him"})
        again = await client.post("/drafts/d-1/approve", data={"form_token": token, "subject": "x", "text": "y"})
        forged = await client.post("/drafts/d-lee/approve", data={"form_token": "forged", "subject": "x",
                                                                   "text": "y"})
        bad = await client.post("/drafts/d-lee/approve", data={"form_token": token, "subject": "two\nlines",
                                                                "text": "y"})
        after = (await client.get(back)).text
    assert as_is.status_code == 303 and as_is.headers["location"] == back
    first, second, third, lees = (store.draft(id) for id in ("d-1", "d-2", "d-3", "d-lee"))
    assert first is not None and first.state == "approved"
    assert second is not None and (second.state, second.subject, second.text, second.html) == (
        "edited", "Training next week?", "Hi Bill,\n\nShall we?\n", None)
    assert edited.status_code == 303 and silent.status_code == 400
    assert dropped.status_code == 303 and third is not None and (third.state, third.reason) == (
        "discarded", "I called him")
    assert again.status_code == 409 and "approved already" in again.text
    assert forged.status_code == 403 and bad.status_code == 400
    assert lees is not None and lees.state == "pending"
    assert 'data-draft="' not in after
