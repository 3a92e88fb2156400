"""The dashboard's pages over HTTP (httpx against the app): what a CSM reads and does."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dsl import ir
from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.store import Store
from server.api.limits import Limits
from server.smtp_sink import INDEX, SinkMessage, outbox_folder
from tests.dashboard.conftest import dashboard, form_token_of, sign_in
from tests.live_api import as_routed

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
RUN = "run-1"


def _accounts(store: Store) -> None:
    """TechCorp fell from yellow to red, Hooli is green, Globex lacks inputs (unscored)."""
    store.add_change("techcorp", T0, event=None, data={}, event_id=None, traits={
        "name": "TechCorp", "segment": "smb", "csm": {"email": "sam@vendor.example", "name": "Sam Rivera"}})
    store.add_change("globex", T0, event=None, data={}, event_id=None,
                     traits={"name": "Globex", "segment": "enterprise"})
    store.add_change("hooli", T0, event=None, data={}, event_id=None, traits={"name": "Hooli", "segment": "smb"})
    store.record_score("techcorp", ScoreState(name="health", value=69, band="yellow",
                                              breakdown={"product_usage": 20, "engagement": 25}), T0)
    store.record_score("techcorp", ScoreState(name="health", value=41, band="red",
                                              breakdown={"product_usage": 0, "engagement": 25}), T0 + timedelta(days=2))
    as_routed(store)
    store.record_score("hooli", ScoreState(name="health", value=70, band="yellow"), T0)
    store.record_score("hooli", ScoreState(name="health", value=85, band="green"), T0 + timedelta(days=1))


def _task(store: Store, id: str, owner: str, due: datetime | None, account: str = "techcorp",
          priority: str = "high") -> None:
    store.create_task(TaskRecord(id=id, account=account, playbook="health_red", title=f"Task {id}", owner=owner,
                                 due=due, priority=priority, created_at=T0), key=f"key-{id}", journey=None)


async def test_an_unscored_account_page_renders_its_missing_inputs_and_an_empty_chart(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        answer = await client.get("/accounts/globex")
    assert answer.status_code == 200
    page = answer.text
    assert "Unscored" in page
    assert "<code>feature_adoption</code>" in page
    assert "<code>segment</code>" not in page.split("All fields")[0]  # segment is known: not missing
    assert "No score recorded yet" in page
    assert "The account has not entered any playbook." in page


async def test_an_account_page_shows_the_score_chart_and_the_breakdown_with_max_points(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/accounts/techcorp")).text
    chart = page[page.index('<svg viewBox'):page.index("</svg>")]
    assert 'data-score="health"' in chart
    assert len(re.findall(r"<circle class=\"point", chart)) == 2
    assert "<polyline" in chart
    assert "2026-01-07 09:00 UTC: 41 (red)" in chart
    breakdown = page[page.index('<table class="breakdown">'):]
    breakdown = breakdown[:breakdown.index("</table>")]
    assert re.search(r"Product usage</th>\s*<td class=\"num\">0</td>\s*<td class=\"num\">40</td>", breakdown)
    assert re.search(r"Engagement</th>\s*<td class=\"num\">25</td>\s*<td class=\"num\">25</td>", breakdown)


async def test_an_account_page_shows_journeys_and_the_decisions_logged(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    store.journey_entered("journey/smb_onboarding/techcorp", RUN, "smb_onboarding", "techcorp", "v1", T0)
    store.log_action(ActionRecord(at=T0, account="techcorp", playbook="smb_onboarding", kind="enrolled",
                                  key=f"journey/smb_onboarding/techcorp/{RUN}/enter"))
    store.log_action(ActionRecord(
        at=T0 + timedelta(days=7), account="techcorp", playbook="smb_onboarding", kind="decided",
        data={"what": "branch", "detail": "unless seen project_created: false (ran)", "reads": {},
              "path": "day 7/0", "outcome": "false", "block": "then", "subject": "unless seen project_created"},
        key=f"journey/smb_onboarding/techcorp/{RUN}/day 7/0/branch/0"))
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/accounts/techcorp")).text
    journeys = page[page.index('<table class="journeys">'):]
    assert "smb_onboarding" in journeys
    assert "active" in journeys
    timeline = page[page.index('<table class="timeline">'):]
    assert "decided: branch" in timeline
    assert "so its block ran" in timeline
    assert page.index("decided: branch") < page.index("enrolled")  # newest first


async def test_an_unknown_account_is_a_404_page(store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        answer = await client.get("/accounts/nobody")
    assert answer.status_code == 404
    assert "There is no account &#39;nobody&#39;." in answer.text


async def test_the_task_board_groups_open_tasks_by_owner_with_overdue_first(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    now = datetime.now(UTC)
    _task(store, "soon", "sam@vendor.example", now + timedelta(days=1), priority="urgent")
    _task(store, "late", "sam@vendor.example", now - timedelta(days=3))
    _task(store, "lee", "lee@vendor.example", None)
    _task(store, "done", "lee@vendor.example", None)
    store.complete_tasks("techcorp", now, task_id="done")
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        board = (await client.get("/tasks")).text
        sams = (await client.get("/tasks", params={"owner": "sam@vendor.example"})).text
    assert re.findall(r'data-task="([^"]+)"', board) == ["late", "soon", "lee"]  # sam has an overdue task
    assert "3 days overdue" in board
    assert "1 overdue" in board
    assert "Task done" not in board
    assert re.findall(r'data-task="([^"]+)"', sams) == ["late", "soon"]


async def test_completing_a_task_redirects_back_and_it_leaves_the_open_list(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    _task(store, "t1", "sam@vendor.example", None)
    _task(store, "t2", "sam@vendor.example", None)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        board = (await client.get("/tasks")).text
        done = await client.post("/tasks/t1/complete", data={"form_token": form_token_of(board), "next": "/tasks"})
        after = (await client.get("/tasks")).text
    assert done.status_code == 303
    assert done.headers["location"] == "/tasks"
    assert re.findall(r'data-task="([^"]+)"', after) == ["t2"]
    task = store.task("t1")
    assert task is not None and task.status == "done"


async def test_completing_a_task_without_the_page_s_form_token_is_refused(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    _task(store, "t1", "sam@vendor.example", None)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        forged = await client.post("/tasks/t1/complete", data={"next": "/tasks"})
        wrong = await client.post("/tasks/t1/complete", data={"form_token": "0" * 64})
    assert forged.status_code == 403
    assert wrong.status_code == 403
    task = store.task("t1")
    assert task is not None and task.status == "open"


async def test_completing_an_unknown_task_says_so(store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    _task(store, "t1", "sam@vendor.example", None)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        token = form_token_of((await client.get("/tasks")).text)
        answer = await client.post("/tasks/nope/complete", data={"form_token": token, "next": "/tasks"})
    assert answer.status_code == 404
    assert "The task was not completed" in answer.text
    assert "no task &#39;nope&#39;" in answer.text


async def test_the_playbook_page_counts_the_journeys_reaching_each_step(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    for number in range(3):
        account, run = f"acct{number}", f"run{number}"
        store.journey_entered(f"journey/smb_onboarding/{account}", run, "smb_onboarding", account, "v1", T0)
        steps = ["day 0/0", "day 3/0", "day 7/0"][:3 - number]  # 3, 2 and 1 steps
        for step in steps:
            store.log_action(ActionRecord(at=T0, account=account, playbook="smb_onboarding", kind="email",
                                          data={"template": "welcome"},
                                          key=f"journey/smb_onboarding/{account}/{run}/{step}"))
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        listing = (await client.get("/playbooks")).text
        page = (await client.get("/playbooks/smb_onboarding")).text
        unknown = await client.get("/playbooks/nope")
    assert '<a href="/playbooks/smb_onboarding">smb_onboarding</a>' in listing
    step = r'data-step="([^"]+)"><th scope="row">[^<]+</th><td class="num reached">(\d+)</td>'
    reached = dict(re.findall(step, page))
    assert reached == {"day 0": "3", "day 3": "2", "day 7": "1", "day 14": "0", "day 21": "0", "day 30": "0"}
    assert "event signed" in page
    assert unknown.status_code == 404


def _keep(folder: Path, subject: str, body: str) -> SinkMessage:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{len(list(folder.glob('*.eml'))):04d}.eml"
    (folder / name).write_text(f"From: cs@acme.example\r\nTo: ana@techcorp.example\r\nSubject: {subject}\r\n"
                               f"Message-ID: <{name}@test>\r\nContent-Type: text/plain; charset=utf-8\r\n"
                               f"\r\n{body}\r\n")
    entry = SinkMessage(received_at=T0, sender="cs@acme.example", to=["ana@techcorp.example"], subject=subject,
                        message_id=f"<{name}@test>", file=name)
    with (folder / INDEX).open("a", encoding="utf-8") as index:
        index.write(entry.to_json() + "\n")
    return entry


async def test_in_dev_the_outbox_lists_the_messages_the_sink_kept(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    folder = outbox_folder(tmp_path)
    _keep(folder, "Welcome aboard", "Hello Ana")
    second = _keep(folder, "Your first project", "Create one today")
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        listing = (await client.get("/outbox")).text
        message = await client.get(f"/outbox/{second.file}")
        outside = await client.get("/outbox/..%2Fstore.db")
    assert 'href="/outbox"' in listing
    assert listing.index("Your first project") < listing.index("Welcome aboard")  # newest first
    assert "Create one today" in message.text
    assert outside.status_code == 404


async def test_without_a_sink_the_outbox_is_not_offered(store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        home = (await client.get("/")).text
        outbox = (await client.get("/outbox")).text
    assert 'href="/outbox"' not in home
    assert "No SMTP sink keeps messages here" in outbox


async def test_pages_use_only_local_assets(store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = await client.get("/accounts/techcorp")
        css = await client.get("/static/dashboard.css")
        js = await client.get("/static/dashboard.js")
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert js.status_code == 200


async def test_the_pages_stay_out_of_the_api_document(store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    async with dashboard(store, bundle, tmp_path) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/" not in paths
    assert not any(path.startswith(("/tasks", "/signin", "/accounts", "/playbooks", "/outbox")) for path in paths)


async def test_when_the_journey_cannot_be_told_yet_the_completion_is_kept_for_routing_to_tell_it_later(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    store.journey_entered("journey/health_red/techcorp", RUN, "health_red", "techcorp", "v1", T0)
    _task(store, "t1", "sam@vendor.example", None)  # opened by health_red, whose journey waits on it
    async with dashboard(store, bundle, tmp_path) as client:  # Temporal is unreachable
        await sign_in(client)
        token = form_token_of((await client.get("/tasks")).text)
        answer = await client.post("/tasks/t1/complete", data={"form_token": token, "next": "/tasks"})
    assert answer.status_code == 303  # stored: the journey hears it once Temporal answers again
    task = store.task("t1")
    assert task is not None and task.status == "done"
    # not routed yet, or routed with its signal to the journey waiting for Temporal in the drain
    waiting = [found.intent.get("task_done") for found in store.undrained(None, 10)]
    assert "task_completed:t1" in [change.event_id for change in store.unrouted()] or "t1" in waiting


async def test_when_the_engine_cannot_take_the_completion_the_page_says_so_and_nothing_changes(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    _task(store, "t1", "sam@vendor.example", None)
    async with dashboard(store, bundle, tmp_path, limits=Limits(max_routing_backlog=0)) as client:
        await sign_in(client)
        token = form_token_of((await client.get("/tasks")).text)
        answer = await client.post("/tasks/t1/complete", data={"form_token": token, "next": "/tasks"})
    assert answer.status_code == 503
    assert "The task is not completed yet" in answer.text
    assert "Nothing was changed" in answer.text
    task = store.task("t1")
    assert task is not None and task.status == "open"


async def test_completing_a_task_when_signed_out_asks_to_sign_in_and_completes_nothing(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _accounts(store)
    _task(store, "t1", "sam@vendor.example", None)
    async with dashboard(store, bundle, tmp_path) as client:
        answer = await client.post("/tasks/t1/complete", data={"next": "/accounts/techcorp"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2Faccounts%2Ftechcorp"
    task = store.task("t1")
    assert task is not None and task.status == "open"


async def test_an_account_id_with_a_slash_and_a_space_has_its_own_page(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    store.add_change("acme/eu west", T0, event=None, data={}, event_id=None, traits={"name": "Acme EU"})
    as_routed(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        listing = (await client.get("/accounts")).text
        page = await client.get("/accounts/acme%2Feu%20west")
    assert 'href="/accounts/acme%2Feu%20west"' in listing
    assert page.status_code == 200
    assert "Acme EU" in page.text
