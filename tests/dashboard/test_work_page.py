"""My work and the team's overdue work: a CSM's items by due date with why they exist, completed
with an outcome, snoozed and reassigned from the page; a manager's view of what is late."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dsl import ir
from engine.records import TaskRecord, TaskStep
from engine.store import Store
from tests.dashboard.conftest import dashboard, form_token_of, sign_in
from tests.live_api import as_routed

NOW = datetime.now(UTC).replace(microsecond=0)
SAM = "sam@vendor.example"
LEE = "lee@vendor.example"


def _work(store: Store) -> None:
    store.add_change("initech", NOW - timedelta(days=9), event=None, data={}, event_id=None,
                     traits={"name": "Initech"})
    as_routed(store)
    for id, owner, due in (("late", SAM, NOW - timedelta(days=2)), ("soon", SAM, NOW + timedelta(days=1)),
                           ("lees", LEE, NOW - timedelta(hours=5)), ("later", SAM, NOW + timedelta(days=6))):
        store.create_task(TaskRecord(
            id=id, account="initech", playbook="health_red", title=f"Item {id}", owner=owner, due=due,
            priority="high", created_at=NOW - timedelta(days=8), task_type="risk", reason="low_usage",
            checklist=[TaskStep(title="Call", done_at=NOW - timedelta(days=1)), TaskStep(title="Write up")]),
            key=f"journey/health_red/initech/run-1/entry/{id}", journey=None)


def _ids(page: str) -> list[str]:
    return re.findall(r'<li class="card task[^"]*" data-task="([^"]+)"', page)


async def test_my_work_lists_a_csm_s_items_by_due_date_with_type_reason_checklist_and_why(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _work(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/tasks", params={"owner": SAM})).text
    assert _ids(page) == ["late", "soon", "later"]
    assert "2 days overdue" in page and "1 overdue" in page
    late = page[page.index('data-task="late"'):page.index('data-task="soon"')]
    assert 'class="work-type">Risk</span>: <span class="work-reason">Low usage</span>' in late
    assert "checklist 1/2" in late
    assert 'href="/accounts/initech?kind=work_item&amp;kind=decision#task-late"' in late


async def test_completing_with_an_outcome_closes_the_item_with_it(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _work(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/tasks", params={"owner": SAM})).text
        back = f"/tasks?owner={SAM}"
        done = await client.post("/tasks/late/complete", data={"form_token": form_token_of(page), "next": back,
                                                               "outcome": "resolved"})
        bad = await client.post("/tasks/soon/complete", data={"form_token": form_token_of(page),
                                                              "outcome": "Not An Outcome"})
        after = (await client.get(back)).text
    assert done.status_code == 303 and done.headers["location"] == back
    task = store.task("late")
    assert task is not None and task.status == "done" and task.outcome == "resolved"
    soon = store.task("soon")
    assert bad.status_code == 400 and soon is not None and soon.status == "open"
    assert _ids(after) == ["soon", "later"]


async def test_snoozing_keeps_an_item_from_being_overdue_and_needs_a_reason(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _work(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        token = form_token_of((await client.get("/tasks")).text)
        silent = await client.post("/tasks/late/snooze", data={"form_token": token, "days": "3", "reason": " "})
        odd = await client.post("/tasks/late/snooze", data={"form_token": token, "days": "400", "reason": "why"})
        snoozed = await client.post("/tasks/late/snooze", data={"form_token": token, "days": "3",
                                                                "reason": "customer on holiday"})
        page = (await client.get("/tasks", params={"owner": SAM})).text
    assert silent.status_code == 400 and odd.status_code == 400
    assert snoozed.status_code == 303
    task = store.task("late")
    assert task is not None and task.snoozed_until is not None and task.snooze_reason == "customer on holiday"
    assert task.snoozed_until > NOW + timedelta(days=2)
    late = page[page.index('data-task="late"'):page.index('data-task="soon"')]
    assert "snoozed until" in late and "overdue" not in late
    assert any(a.kind == "task_snoozed" for a in store.actions(account="initech"))


async def test_reassigning_gives_the_item_to_another_owner_and_a_done_item_cannot_be(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _work(store)
    store.complete_tasks("initech", NOW, task_id="later")
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        token = form_token_of((await client.get("/tasks")).text)
        moved = await client.post("/tasks/soon/reassign", data={"form_token": token, "owner": " Lee@Vendor.example ",
                                                                "reason": "Sam is out"})
        bad = await client.post("/tasks/late/reassign", data={"form_token": token, "owner": "lee"})
        closed = await client.post("/tasks/later/reassign", data={"form_token": token, "owner": LEE})
        missing = await client.post("/tasks/nope/reassign", data={"form_token": token, "owner": LEE})
    assert moved.status_code == 303
    soon = store.task("soon")
    assert soon is not None and soon.owner == LEE
    assert bad.status_code == 400 and closed.status_code == 409 and missing.status_code == 404


async def test_the_team_view_lists_each_owner_s_overdue_items_most_late_owner_first(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _work(store)
    store.create_task(TaskRecord(id="sam2", account="initech", playbook=None, title="Item sam2", owner=SAM,
                                 due=NOW - timedelta(days=1), priority="normal", created_at=NOW - timedelta(days=3)),
                      key="manual/sam2", journey=None)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/tasks/team")).text
    assert re.findall(r'<tr data-owner="([^"]+)">', page) == [SAM, LEE]
    assert _ids(page) == ["late", "sam2", "lees"]  # only overdue ones: not "soon" nor "later"


async def test_choosing_who_i_am_makes_my_work_mine_by_default(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    _work(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        everyone = (await client.get("/tasks")).text
        chosen = await client.post("/me", data={"form_token": form_token_of(everyone), "owner": LEE, "next": "/tasks"})
        mine = (await client.get("/tasks")).text
    assert set(_ids(everyone)) == {"late", "soon", "lees", "later"}
    assert chosen.status_code == 303
    assert _ids(mine) == ["lees"]
    assert f'<span class="me" title="the CSM you work as (My work)">{LEE}</span>' in mine
