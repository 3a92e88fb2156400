"""Drafted emails over HTTP with real journeys (time-skipping Temporal server, real worker): the
reviewer approves one edited and discards another, and the waiting journeys act at once; left
unanswered, each follows its policy at the deadline (sent unreviewed, or dropped; one running out
in quiet hours goes when they end); one answer wins, and a bad answer is refused with the reason."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dsl import ir
from dsl.project import compile_folder
from engine.store import Store
from server.app import create_app
from tests.api.conftest import engine, http, settings
from tests.daytime import daytime_zone
from tests.live_api import Engine

FOLDER = Path(__file__).resolve().parents[1] / "scenarios" / "timelines" / "email_reviewed_by_the_csm_before_it_goes"
ZONE = daytime_zone()  # about noon in the account's time: no quiet hours now, whatever hour the suite runs at
ACME = [
    {"id": "a-1", "account": "acme", "traits": {
        "name": "Acme", "timezone": ZONE, "primary_contact": {"email": "ana@acme.example", "name": "Ana"},
        "csm": {"email": "sam@vendor.example", "name": "Sam"}}},
    {"id": "a-2", "account": "acme", "event": "renewal_risk"},
]


@pytest.fixture(scope="module")
def reviewed() -> ir.Bundle:
    compilation = compile_folder(FOLDER / "playbooks")
    assert compilation.ok and compilation.bundle is not None
    return compilation.bundle


async def _drafts(api: httpx.AsyncClient, count: int) -> list[dict[str, Any]]:
    """The pending drafts once `count` are there (the worker drafts them on its own)."""
    for _ in range(200):
        drafts = (await api.get("/v1/drafts", params={"reviewer": "sam@vendor.example"})).json()
        if len(drafts) >= count:
            return list(drafts)
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {count} drafts: {drafts}")


async def _completed(running: Engine, store: Store, *playbooks: str) -> None:
    """Skip the server's clock past every deadline and wait until the journeys of `playbooks` ended."""
    await running.env.sleep(timedelta(days=4))
    for _ in range(300):
        if all("completed" in _kinds(store, playbook) for playbook in playbooks):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not completed: {[(p, _kinds(store, p)) for p in playbooks]}")


def _kinds(store: Store, playbook: str) -> list[str]:
    return [action.kind for action in store.actions(account="acme") if action.playbook == playbook]


async def test_an_edited_approval_sends_the_edit_at_once_and_a_discard_sends_nothing(
        store: Store, reviewed: ir.Bundle) -> None:
    async with engine(store, reviewed) as running:
        app = create_app(settings(), store, reviewed, running.starter)
        async with http(app) as api:
            assert (await api.post("/v1/events", content="\n".join(json.dumps(o) for o in ACME))).status_code == 202
            drafts = {draft["playbook"]: draft for draft in await _drafts(api, 3)}
            cautious, personal = drafts["cautious_note"], drafts["risk_note"]
            assert (cautious["subject"], cautious["then"], cautious["to"]) == (
                "Acme: a note from Sam", "drop", "ana@acme.example")
            assert "Could we talk this week?" in cautious["text"] and cautious["html"]
            edited = await api.post(f"/v1/drafts/{cautious['id']}/approve", json={
                "subject": "Acme and us", "text": "Hi Ana,\n\nCan we talk on Thursday?\n\nSam\n",
                "by": "sam@vendor.example"})
            discarded = await api.post(f"/v1/drafts/{personal['id']}/discard",
                                       json={"reason": "I called Ana instead"})
            again = await api.post(f"/v1/drafts/{cautious['id']}/approve")
            shown = (await api.get(f"/v1/drafts/{cautious['id']}")).json()
            await _completed(running, store, "cautious_note", "risk_note")
    assert edited.status_code == 200 and edited.json()["told"] is True
    assert edited.json()["draft"]["state"] == "edited"
    assert discarded.status_code == 200 and discarded.json()["draft"]["state"] == "discarded"
    assert again.status_code == 409 and "edited already" in again.json()["detail"]
    assert (shown["state"], shown["decided_by"], shown["html"]) == ("edited", "sam@vendor.example", None)
    sent = [m for m in store.messages(account="acme") if m.status == "sent" and m.playbook != "evening_note"]
    assert [(m.playbook, m.template, m.subject) for m in sent] == [
        ("cautious_note", "risk_note", "Acme and us"), ("risk_note", "risk_follow_up", "Acme: following up, from Sam")]
    assert sent[0].text is not None and "Can we talk on Thursday?" in sent[0].text and sent[0].html is None
    email = next(a for a in store.actions(account="acme") if a.kind == "email" and a.playbook == "cautious_note")
    assert email.data["review"] == "edited"
    assert _kinds(store, "risk_note") == ["enrolled", "email_drafted", "draft_discarded", "email", "completed"]
    drafted = next(a for a in store.actions(account="acme") if a.kind == "email_drafted")
    assert email.at - drafted.at < timedelta(hours=4)  # at the answer, not at the deadline


async def test_unanswered_drafts_follow_their_policy_at_the_deadline_and_a_late_answer_is_refused(
        store: Store, reviewed: ir.Bundle) -> None:
    async with engine(store, reviewed) as running:
        app = create_app(settings(), store, reviewed, running.starter)
        async with http(app) as api:
            assert (await api.post("/v1/events", content="\n".join(json.dumps(o) for o in ACME))).status_code == 202
            drafts = {draft["playbook"]: draft for draft in await _drafts(api, 3)}
            await _completed(running, store, "cautious_note", "risk_note")
            late = await api.post(f"/v1/drafts/{drafts['cautious_note']['id']}/approve")
            missing = await api.post("/v1/drafts/d-nope/discard", json={"reason": "x"})
            two_lines = await api.post(f"/v1/drafts/{drafts['risk_note']['id']}/approve",
                                       json={"subject": "a\r\nBcc: x@evil.example"})
            no_reason = await api.post(f"/v1/drafts/{drafts['risk_note']['id']}/discard", json={})
            settled = (await api.get("/v1/drafts", params={"state": "all"})).json()
    assert late.status_code == 409 and "dropped unreviewed already" in late.json()["detail"]
    assert missing.status_code == 404 and "no draft 'd-nope'" in missing.json()["detail"]
    assert two_lines.status_code == 422 and no_reason.status_code == 422
    assert sorted(draft["state"] for draft in settled) == ["dropped_unreviewed", "sent_unreviewed", "sent_unreviewed"]
    assert _kinds(store, "cautious_note") == ["enrolled", "email_drafted", "draft_dropped", "completed"]
    email = next(a for a in store.actions(account="acme") if a.kind == "email" and a.playbook == "risk_note")
    assert email.data["review"] == "unreviewed"
    drafted = next(a for a in store.actions(account="acme") if a.kind == "email_drafted" and a.playbook == "risk_note")
    assert email.at == datetime.fromisoformat(str(drafted.data["review_by"]))  # at the deadline
    evening = next(a for a in store.actions(account="acme") if a.kind == "email" and a.playbook == "evening_note")
    # its review ran out at about midnight, in quiet hours: it went when they ended
    assert evening.at.astimezone(ZoneInfo(ZONE)).hour == 8
