"""An account's page: summary, contacts, one timeline filtered by kind, and notes a CSM adds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dsl import ir
from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.store import Store
from tests.dashboard.conftest import dashboard, form_token_of, sign_in
from tests.live_api import as_routed

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
RUN = "run-1"


def _initech(store: Store) -> None:
    """An account with fields, an event, a score, a journey's decision, an email and a work item."""
    store.add_change("initech", T0, event=None, data={}, event_id=None, traits={
        "name": "Initech", "segment": "mid_market", "arr": 1_250_000, "renewal_date": "2027-02-01",
        "csm": {"email": "sam@vendor.example", "name": "Sam Rivera",
                "manager": {"email": "lee@vendor.example", "name": "Lee Chen"}},
        "primary_contact": {"email": "bill@initech.example", "name": "Bill"}})
    store.add_change("initech", T0 + timedelta(hours=1), event="login", data={"user": "bill"}, event_id="e-1",
                     traits={})
    as_routed(store)
    store.record_score("initech", ScoreState(name="health", value=27, band="red",
                                             breakdown={"product_usage": 0}), T0 + timedelta(hours=2))
    store.journey_entered("journey/health_red/initech", RUN, "health_red", "initech", "v1", T0 + timedelta(hours=2))
    key = f"journey/health_red/initech/{RUN}"
    store.log_action(ActionRecord(at=T0 + timedelta(hours=2), account="initech", playbook="health_red",
                                  kind="enrolled", key=f"{key}/enter"))
    store.log_action(ActionRecord(at=T0 + timedelta(hours=3), account="initech", playbook="health_red", kind="email",
                                  data={"template": "checkin", "to": "bill@initech.example", "subject": "Checking in"},
                                  key=f"{key}/entry/0"))
    store.create_task(TaskRecord(id="t-1", account="initech", playbook="health_red", title="Outreach: Initech",
                                 owner="sam@vendor.example", due=T0 + timedelta(days=2), priority="urgent",
                                 created_at=T0 + timedelta(hours=4)), key=f"{key}/entry/1", journey=None)
    store.log_action(ActionRecord(at=T0 + timedelta(hours=4), account="initech", playbook="health_red", kind="task",
                                  data={"task": "t-1", "title": "Outreach: Initech", "owner": "sam@vendor.example",
                                        "priority": "urgent"}, key=f"{key}/entry/1"))


def _kinds_shown(page: str) -> list[str]:
    return re.findall(r'<tr class="kind-([a-z_]+)"', page)


async def test_the_account_page_shows_arr_renewal_csm_by_name_contacts_and_human_component_names(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _initech(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/accounts/initech")).text
    summary = page[page.index('<dl class="summary">'):page.index("</dl>")]
    assert "<dd>$1.2M</dd>" in summary
    assert "<dd>2027-02-01</dd>" in summary
    assert "<dd>Sam Rivera</dd>" in summary and "sam@vendor.example" not in summary
    assert "<dd>Mid market</dd>" in summary
    contacts = page[page.index('id="contacts"'):page.index('id="tasks"')]
    assert "Primary contact" in contacts and "bill@initech.example" in contacts
    assert "Csm&#39;s manager" in contacts or "CSM&#39;s manager" in contacts
    assert 'title="product_usage">Product usage</th>' in page


async def test_the_timeline_holds_events_scores_messages_work_and_decisions_newest_first(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _initech(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/accounts/initech")).text
        only = (await client.get("/accounts/initech?kind=score&kind=message")).text
    assert _kinds_shown(page) == ["work_item", "message", "decision", "score", "event", "event"]
    assert 'id="task-t-1"' in page  # where My work's "why" link lands
    assert "sent email checkin to bill@initech.example" in page
    assert _kinds_shown(only) == ["message", "score"]
    assert re.search(r'value="score" checked', only) and not re.search(r'value="work_item" checked', only)


async def test_a_note_added_on_the_page_is_kept_shown_escaped_and_told_in_the_timeline(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _initech(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/accounts/initech")).text
        answer = await client.post("/accounts/initech/notes", data={
            "form_token": form_token_of(page), "text": "Bill says <script>alert(1)</script> renewal is fine"})
        after = (await client.get("/accounts/initech")).text
    assert answer.status_code == 303 and answer.headers["location"] == "/accounts/initech#notes"
    assert [note.text for note in store.notes("initech")] == ["Bill says <script>alert(1)</script> renewal is fine"]
    assert "<script>alert(1)</script>" not in after
    assert "Bill says &lt;script&gt;alert(1)&lt;/script&gt; renewal is fine" in after
    assert _kinds_shown(after)[0] == "note"


async def test_a_note_without_the_form_token_or_too_long_is_not_kept(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _initech(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/accounts/initech")).text
        forged = await client.post("/accounts/initech/notes", data={"form_token": "forged", "text": "hello"})
        token = form_token_of(page)
        long = await client.post("/accounts/initech/notes", data={"form_token": token, "text": "x" * 2001})
        orphan = await client.post("/accounts/nobody/notes", data={"form_token": token, "text": "hi"})
    assert forged.status_code == 403
    assert long.status_code == 400 and "at most 2000" in long.text
    assert orphan.status_code == 404
    assert store.notes("initech") == []


async def test_the_timeline_tells_decisions_in_why_s_words_and_pages_back_with_older(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _initech(store)
    key = f"journey/health_red/initech/{RUN}"
    store.log_action(ActionRecord(at=T0 + timedelta(hours=5), account="initech", playbook="health_red",
                                  kind="decided", data={"what": "branch", "outcome": "true", "block": "then",
                                                        "reads": {"arr": 1_250_000}}, key=f"{key}/entry/2"))
    for hour in range(60):  # more logins than a page holds
        store.add_change("initech", T0 + timedelta(hours=6, minutes=hour), event="login", data={"user": "bill"},
                         event_id=f"login-{hour}", traits={})
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        decisions = (await client.get("/accounts/initech?kind=decision")).text
        newest = (await client.get("/accounts/initech")).text
        older_link = re.search(r'href="([^"]+)" rel="next">Older', newest)
        assert older_link is not None
        older = (await client.get(older_link.group(1).replace("&amp;", "&"))).text
        forged = await client.get("/accounts/initech?cursor=forged")
    assert "so its block ran" in decisions and "read arr" in decisions.lower()
    assert _kinds_shown(decisions) == ["decision", "decision"]
    assert _kinds_shown(newest) == ["event"] * 50 and 'rel="first">' not in newest
    assert _kinds_shown(older)[:10] == ["event"] * 10
    assert _kinds_shown(older)[10:] == ["decision", "work_item", "message", "decision", "score", "event", "event"]
    assert 'rel="first">' in older and 'rel="next">' not in older
    assert forged.status_code == 400 and "cursor" in forged.text
