"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against a live stack.

The stack is the product's own parts on one machine: a SQLite store, Temporal's time-skipping
test server with a worker running the real journeys, the SMTP sink the worker's mailer sends
to, and the API app (with its dashboard) served by uvicorn on a free port, all on a thread of
their own. The test sends a few events over HTTP (one account falls to red), then walks a CSM's
morning: signs in, says who they are, filters to their red accounts, opens one and reads its
timeline, notes a call, snoozes one work item and completes another with an outcome; then a
manager's view of the team's overdue work, a playbook's funnel and the outbox. Every page is
saved as a screenshot under `$PLAYBOOK_DASHBOARD_SCREENSHOTS` (CI keeps it as an artifact) or the
test's tmp_path.

No browser download ever happens: Playwright launches /usr/bin/chromium (`.ci/chromium.sh`
installs it). Without it the test is skipped, except in CI (`CI=true`), where it fails.
"""

from __future__ import annotations

import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from activities.context import ActivityContext
from activities.registry import load_registry
from activities.smtp_mailer import SmtpMailer
from dsl import ir
from dsl.project import compile_folder
from engine.routing.starter import JourneyStarter
from engine.settings import Settings
from engine.store import Store
from server.app import create_app
from server.smtp_sink import SmtpSink, outbox_folder
from tests.api.conftest import UNSUBSCRIBE_SECRET
from tests.conftest import STANDARD_PLAYBOOKS
from tests.dashboard import conftest as harness
from tests.dashboard.conftest import CHROMIUM, CHROMIUM_ARGS, PAGE_TIMEOUT_MS, Served, browser_or_skip, screenshots
from tests.daytime import daytime_zone
from tests.live_api import time_skipping
from workers.runtime import build_worker

TOKEN = "browser-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
START_SECONDS = 180.0  # the time-skipping server and a worker on a loaded 2-core machine
WAIT_SECONDS = 90.0

T = TypeVar("T")


def _events(now: datetime) -> list[dict[str, Any]]:
    """Initech slides from yellow (56, then 69) to red (27); TechCorp signs and is green; Globex is unscored."""
    csm = {"email": "sam@vendor.example", "name": "Sam Rivera",
           "manager": {"email": "lee@vendor.example", "name": "Lee Chen"}}
    renewal = (now + timedelta(days=40)).date().isoformat()
    initech = {"name": "Initech", "segment": "mid_market", "csm": csm, "arr": 1_250_000, "renewal_date": renewal,
               "timezone": daytime_zone(now),
               "primary_contact": {"email": "bill@initech.example", "name": "Bill"},
               "dau_pct": 45, "feature_adoption": 35, "qbr_attended": True, "training_done": True,
               "responsive": False, "ticket_trend": "stable", "csat": 4, "exec_sponsor": False, "champion": True,
               "nps": 7, "payments_on_time": True, "expanded_last_12m": False}
    techcorp = {"name": "TechCorp", "segment": "smb", "timezone": daytime_zone(now), "arr": 48_000,
                "csm": {**csm, "email": "priya@vendor.example", "name": "Priya Nair"},
                "primary_contact": {"email": "ana@techcorp.example", "name": "Ana"},
                "dau_pct": 80, "feature_adoption": 70, "qbr_attended": True, "training_done": True,
                "responsive": True, "ticket_trend": "stable", "csat": 4.5, "exec_sponsor": True, "champion": True,
                "nps": 9, "payments_on_time": True, "expanded_last_12m": True}

    def at(days: float) -> str:
        return (now - timedelta(days=days)).isoformat()

    return [
        {"id": "b-1", "account": "initech", "at": at(10), "traits": initech},
        {"id": "b-2", "account": "initech", "at": at(6), "traits": {"responsive": True}},
        {"id": "b-2e", "account": "initech", "at": at(6), "event": "project_created"},
        {"id": "b-3", "account": "globex", "at": at(5), "traits": {"name": "Globex", "segment": "enterprise"}},
        {"id": "b-4", "account": "techcorp", "at": at(1 / 24), "traits": techcorp},  # live: within the horizon
        {"id": "b-5", "account": "techcorp", "at": at(1 / 24), "event": "signed"},
        {"id": "b-6", "account": "initech", "traits": {"dau_pct": 10, "csat": 2, "champion": False}},
    ]


def live_stack(store: Store, bundle: ir.Bundle, settings: Settings) -> Served:
    """Temporal (time-skipping), a worker and the API, served on a thread of their own."""

    @asynccontextmanager
    async def app_of(url: str) -> AsyncIterator[Any]:
        env = await time_skipping()
        async with env:
            task_queue = f"dashboard-{uuid.uuid4().hex[:8]}"
            starter = JourneyStarter(env.client, task_queue, store, horizon=settings.trigger_horizon)
            context = ActivityContext(store=store, bundle=bundle, starter=starter, mailer=SmtpMailer(settings),
                                      public_url=url, extras={"unsubscribe_secret": UNSUBSCRIBE_SECRET})
            async with build_worker(env.client, task_queue, load_registry(), context):
                yield create_app(settings, store, bundle, starter)

    return Served(app_of, start_seconds=START_SECONDS, name="live-stack")


def _until(what: str, probe: Callable[[], T | None], seconds: float = WAIT_SECONDS) -> T:
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:g} s")
        time.sleep(0.25)


CSM_NOTE = """\
playbook csm_note "A word from the CSM when health turns red":
    trigger: health becomes red
    send email csm_note to primary_contact review by csm within 1 business day then send
"""
CSM_NOTE_TEMPLATE = """\
{% block subject %}{{ account.name }}: a word from your CSM{% endblock %}
{% block text -%}
Hi {{ contact.name | default("there", true) }},

Could we find half an hour this week to look at how your team uses Acme?
{%- endblock %}
{% block html %}<p>Could we find half an hour this week to look at how your team uses Acme?</p>{% endblock %}
"""


@pytest.fixture
def morning_bundle(tmp_path: Path) -> ir.Bundle:
    """The standard playbooks and one more: a note to the customer the CSM reviews before it goes."""
    folder = tmp_path / "playbooks"
    shutil.copytree(STANDARD_PLAYBOOKS, folder)
    (folder / "csm_note.play").write_text(CSM_NOTE)
    (folder / "templates" / "csm_note.email.jinja").write_text(CSM_NOTE_TEMPLATE)
    compilation = compile_folder(folder)
    assert compilation.ok and compilation.bundle is not None, compilation.render()
    return compilation.bundle


@pytest.fixture
def live(store: Store, morning_bundle: ir.Bundle, tmp_path: Path) -> Iterator[tuple[Served, SmtpSink]]:
    browser_or_skip()
    bundle = morning_bundle
    sink = SmtpSink(outbox_folder(tmp_path / "state"), "127.0.0.1", 0)
    sink.start()
    try:
        # the board's story spans ten days of input sent now: a source that catches up ten days is
        # live input only with a trigger horizon that long (else it is history and triggers nothing)
        settings = Settings(api_token=TOKEN, unsubscribe_secret=UNSUBSCRIBE_SECRET, state_dir=tmp_path / "state",
                            smtp_host="127.0.0.1", smtp_port=sink.port, trigger_horizon="30d")
        with live_stack(store, bundle, settings) as stack:
            yield stack, sink
    finally:
        sink.stop()


def test_a_csm_s_morning_in_the_browser_then_the_manager_s_view(
        live: tuple[Served, SmtpSink], tmp_path: Path) -> None:
    """Sign in, say who I am, filter to my red accounts, open one and read its timeline, note a
    call, snooze one work item and complete another with an outcome; then the manager's view."""
    from playwright.sync_api import expect, sync_playwright

    stack, sink = live
    shots = screenshots(tmp_path)
    api = httpx.Client(base_url=stack.url, headers=AUTH, timeout=60)
    with api:
        sent = api.post("/v1/events", json=_events(datetime.now(UTC)))
        assert sent.status_code == 202, sent.text
        assert sent.json()["rejected"] == []

        def open_items() -> dict[str, dict[str, Any]] | None:
            tasks = api.get("/v1/tasks", params={"account": "initech", "status": "open"}).json()
            found = {t["title"]: t for t in tasks}
            return found if {"Outreach: Initech", "Check-in: Initech", "Renewal call: Initech"} <= set(found) else None

        items = _until("the red account's outreach, check-in and renewal call", open_items)
        outreach, checkin = items["Outreach: Initech"], items["Check-in: Initech"]
        [draft] = _until("the CSM's note drafted for review", lambda: api.get(
            "/v1/drafts", params={"reviewer": "sam@vendor.example"}).json() or None)
        _until("the welcome email in the sink", lambda: sink.messages() or None)
        late = api.get("/v1/tasks", params={"overdue": "true"}).json()
        sams = [t for t in late if t["owner"] == "sam@vendor.example"]
        open_sams = api.get("/v1/tasks", params={"owner": "sam@vendor.example", "status": "open"}).json()

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(PAGE_TIMEOUT_MS)

                page.goto(stack.url + "/")
                expect(page.locator("h1")).to_have_text("Sign in")
                page.screenshot(path=str(shots / "01-sign-in.png"), full_page=True)
                page.fill("#token", "not-the-token")
                page.click("button[type=submit]")
                expect(page.locator(".error")).to_contain_text("not the API token")
                page.fill("#token", TOKEN)
                page.click("button[type=submit]")
                page.wait_for_url(stack.url + "/")
                expect(page.locator('[data-tile="team-overdue"] .figure')).to_have_text(str(len(late)))
                page.screenshot(path=str(shots / "02-today-anyone.png"), full_page=True)

                # who am I: Sam, the CSM of Initech
                page.get_by_role("link", name="My work", exact=True).click()
                page.select_option("#owner", "sam@vendor.example")  # the page shows Sam's work on change
                page.wait_for_url(f"{stack.url}/tasks?owner=sam%40vendor.example")
                page.get_by_role("button", name="I am Sam Rivera").click()
                expect(page.locator(".top .me")).to_have_text("sam@vendor.example")
                page.get_by_role("link", name="Today", exact=True).click()
                expect(page.locator('[data-tile="my-work"] .figure')).to_have_text(str(len(open_sams)))
                expect(page.locator('[data-tile="my-overdue"] .figure')).to_have_text(str(len(sams)))
                expect(page.locator('table.renewing tr.account').first).to_have_attribute("data-account", "initech")
                page.screenshot(path=str(shots / "03-today-sam.png"), full_page=True)

                # my red accounts
                page.get_by_role("link", name="Accounts", exact=True).click()
                expect(page.locator("tr.account")).to_have_count(3)
                page.select_option("#csm", "sam@vendor.example")
                page.select_option("#band", "red")
                page.get_by_role("button", name="Show").click()
                rows = page.locator("tr.account")
                expect(rows).to_have_count(1)
                expect(rows.first).to_have_attribute("data-account", "initech")
                expect(rows.first.locator("td.arr")).to_have_text("$1.2M")
                expect(rows.first.locator(".trend.down")).to_be_visible()
                expect(page.locator('[data-tile="at-risk"] .figure')).to_have_text("$1.2M")
                page.screenshot(path=str(shots / "04-my-red-accounts.png"), full_page=True)

                # one account: its timeline, and a note of this morning's call
                rows.first.get_by_role("link", name="Initech").click()
                page.wait_for_url(stack.url + "/accounts/initech")
                timeline = page.locator("table.timeline")
                for kind in ("event", "score", "work_item", "decision"):
                    expect(timeline.locator(f"tr.kind-{kind}").first).to_be_visible()
                expect(timeline).to_contain_text("Outreach: Initech")
                expect(page.locator("#contacts")).to_contain_text("bill@initech.example")
                expect(page.locator("table.breakdown")).to_contain_text("Product usage")
                page.screenshot(path=str(shots / "05-account.png"), full_page=True)
                page.fill("#note-text", "Called Bill: usage fell after their admin left. <b>Training</b> booked.")
                page.get_by_role("button", name="Add note").click()
                expect(page.locator("li.note").first).to_contain_text("<b>Training</b> booked.")
                page.locator('.filter.kinds input[value="work_item"]').check()
                page.locator('.filter.kinds input[value="note"]').check()
                page.get_by_role("button", name="Filter").click()
                expect(timeline.locator("tr.kind-decision")).to_have_count(0)
                expect(timeline.locator("tr.kind-note")).to_have_count(1)
                page.screenshot(path=str(shots / "06-account-work-and-notes.png"), full_page=True)

                # my work: approve the drafted note (edited), snooze the check-in, complete the outreach
                page.get_by_role("link", name="My work", exact=True).click()
                page.wait_for_url(stack.url + "/tasks")
                note = page.locator(f'li.draft[data-draft="{draft["id"]}"]')
                expect(note.locator('input[name="subject"]')).to_have_value("Initech: a word from your CSM")
                page.screenshot(path=str(shots / "07-my-work.png"), full_page=True)
                note.locator('input[name="subject"]').fill("Initech: half an hour this week?")
                note.get_by_role("button", name="Approve and send").click()
                expect(note).to_have_count(0)
                check = page.locator(f'li.card[data-task="{checkin["id"]}"]')
                reach = page.locator(f'li.card[data-task="{outreach["id"]}"]')
                expect(check).to_have_class(re.compile(r"\boverdue\b"))
                expect(reach.locator("a.why")).to_have_attribute(
                    "href", re.compile("/accounts/initech\\?kind=work_item&kind=decision#task-"))
                check.locator("summary", has_text="Snooze").click()
                check.locator('select[name="days"]').select_option("3")
                check.get_by_label("Why snooze").fill("Bill is on holiday until Thursday")
                check.get_by_role("button", name="Snooze").click()
                expect(check).not_to_have_class(re.compile(r"\boverdue\b"))
                expect(check.locator(".snoozed")).to_be_visible()
                reach.locator('select[name="outcome"]').select_option("resolved")
                reach.get_by_role("button", name=re.compile("^Complete")).click()
                expect(reach).to_have_count(0)
                page.screenshot(path=str(shots / "08-my-work-after.png"), full_page=True)

                # the manager's view
                page.get_by_role("link", name="Team", exact=True).click()
                page.wait_for_url(stack.url + "/tasks/team")
                page.screenshot(path=str(shots / "09-team.png"), full_page=True)
                page.goto(stack.url + "/tasks/team?manager=lee%40vendor.example")
                expect(page.locator("h1")).to_contain_text("lee@vendor.example")
                page.screenshot(path=str(shots / "10-team-of-lee.png"), full_page=True)

                page.get_by_role("link", name="Playbooks").click()
                page.get_by_role("link", name="health_red", exact=True).click()
                page.wait_for_url(stack.url + "/playbooks/health_red")
                expect(page.locator('tr.step[data-step="entry"] td.reached')).to_have_text("1")
                expect(page.locator("table.statements tr.depth-1").first).to_be_visible()  # inside `if task open`
                page.screenshot(path=str(shots / "11-playbook.png"), full_page=True)

                page.get_by_role("link", name="Outbox").click()
                page.wait_for_url(stack.url + "/outbox")
                expect(page.locator("table.outbox")).to_contain_text("ana@techcorp.example")
                page.screenshot(path=str(shots / "12-outbox.png"), full_page=True)
            finally:
                browser.close()

        done = {t["id"]: t for t in api.get("/v1/tasks", params={"account": "initech"}).json()}
        assert done[outreach["id"]]["status"] == "done" and done[outreach["id"]]["outcome"] == "resolved"
        assert done[checkin["id"]]["status"] == "open" and done[checkin["id"]]["snoozed_until"] is not None
        delivered = _until("the approved note in the sink", lambda: [m for m in sink.messages()
                                                                 if m.subject == "Initech: half an hour this week?"])
        assert delivered[0].to == ["bill@initech.example"]
        answered = api.get(f"/v1/drafts/{draft['id']}").json()
        assert (answered["state"], answered["decided_by"]) == ("edited", "sam@vendor.example")
        notes = api.get("/v1/accounts/initech/notes").json()
        assert [note["text"] for note in notes] == [
            "Called Bill: usage fell after their admin left. <b>Training</b> booked."]

        def journey_ended() -> list[dict[str, Any]] | None:
            log = api.get("/v1/log", params={"account": "initech", "playbook": "health_red"},
                          headers={"Accept": "application/json"}).json()
            return log if any(line["kind"] == "completed" for line in log) else None

        log = _until("the red journey hearing the task done", journey_ended)
    assert not any(line["kind"] == "task" and "Escalation" in str(line.get("title")) for line in log)
    assert sorted(path.name for path in shots.glob("*.png")) == [
        "01-sign-in.png", "02-today-anyone.png", "03-today-sam.png", "04-my-red-accounts.png", "05-account.png",
        "06-account-work-and-notes.png", "07-my-work.png", "08-my-work-after.png", "09-team.png",
        "10-team-of-lee.png", "11-playbook.png", "12-outbox.png"]


def test_without_chromium_the_browser_test_skips_locally_but_fails_in_ci(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(harness, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no Chromium at .*chromium\.sh"):
        browser_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser test"):
        browser_or_skip()
