"""What a CSM reads: accounts with scores, tasks, and the action log in the contract's format."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from dsl import ir
from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.store import Store
from tests.api.conftest import offline_api
from tests.live_api import as_routed

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _accounts(store: Store) -> None:
    store.add_change("techcorp", T0, event=None, data={}, event_id=None,
                     traits={"name": "TechCorp", "segment": "smb", "dau_pct": 30})
    store.add_change("globex", T0, event=None, data={}, event_id=None, traits={"name": "Globex",
                                                                                "segment": "enterprise"})
    store.record_score("techcorp", ScoreState(name="health", value=69, band="yellow",
                                              breakdown={"product_usage": 20}, missing=[]), T0)
    store.record_score("techcorp", ScoreState(name="health", value=41, band="red",
                                              breakdown={"product_usage": 0}, missing=[]), T0 + timedelta(days=2))
    as_routed(store)


async def test_accounts_list_their_score_and_band_and_filter_by_band(store: Store, bundle: ir.Bundle) -> None:
    _accounts(store)
    async with offline_api(store, bundle) as api:
        everyone = (await api.get("/v1/accounts")).json()
        red = (await api.get("/v1/accounts", params={"band": "red"})).json()
    assert everyone == [
        {"id": "globex", "name": "Globex", "segment": "enterprise", "score": None, "band": None, "updated": None},
        {"id": "techcorp", "name": "TechCorp", "segment": "smb", "score": 41.0, "band": "red",
         "updated": "2026-01-07T09:00:00Z"},
    ]
    assert [a["id"] for a in red] == ["techcorp"]


async def test_an_account_shows_fields_score_history_missing_inputs_and_recent_actions(
        store: Store, bundle: ir.Bundle) -> None:
    _accounts(store)
    store.log_action(ActionRecord(at=T0, account="techcorp", playbook="smb_onboarding", kind="enrolled"))
    async with offline_api(store, bundle) as api:
        techcorp = (await api.get("/v1/accounts/techcorp")).json()
        globex = (await api.get("/v1/accounts/globex")).json()
        unknown = await api.get("/v1/accounts/nobody")
    assert techcorp["fields"] == {"name": "TechCorp", "segment": "smb", "dau_pct": 30}
    health = techcorp["scores"]["health"]
    assert (health["value"], health["band"], health["breakdown"]) == (41.0, "red", {"product_usage": 0.0})
    assert [(p["value"], p["band"]) for p in health["history"]] == [(69.0, "yellow"), (41.0, "red")]
    assert techcorp["recent_actions"] == [{"at": "2026-01-05T09:00:00+00:00", "account": "techcorp",
                                           "playbook": "smb_onboarding", "kind": "enrolled"}]
    assert "feature_adoption" in globex["missing"]["health"]
    assert "segment" not in globex["missing"]["health"]
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "not found", "detail": "no account 'nobody'"}


def _task(store: Store, id: str, owner: str, due: datetime | None) -> None:
    store.create_task(TaskRecord(id=id, account="techcorp", playbook="health_red", title=f"Task {id}", owner=owner,
                                 due=due, priority="high", created_at=T0), key=f"key-{id}", journey=None)


async def test_tasks_filter_by_owner_status_and_overdue(store: Store, bundle: ir.Bundle) -> None:
    now = datetime.now(UTC)
    _task(store, "late", "sam@vendor.example", now - timedelta(hours=1))
    _task(store, "soon", "sam@vendor.example", now + timedelta(days=1))
    _task(store, "lee", "lee@vendor.example", None)
    store.complete_tasks("techcorp", now, task_id="lee")
    async with offline_api(store, bundle) as api:
        sams = (await api.get("/v1/tasks", params={"owner": "sam@vendor.example"})).json()
        open_ = (await api.get("/v1/tasks", params={"status": "open"})).json()
        overdue = (await api.get("/v1/tasks", params={"overdue": "true"})).json()
    assert [t["id"] for t in sams] == ["late", "soon"]
    assert [t["id"] for t in open_] == ["late", "soon"]
    assert [(t["id"], t["overdue"]) for t in overdue] == [("late", True)]


async def test_completing_an_unknown_task_is_a_404(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle) as api:
        response = await api.post("/v1/tasks/nope/complete")
    assert response.status_code == 404
    assert response.json()["detail"] == "no task 'nope'"


def _log(store: Store) -> None:
    store.log_action(ActionRecord(at=T0, account="techcorp", playbook="smb_onboarding", kind="enrolled"))
    store.log_action(ActionRecord(at=T0 + timedelta(days=3), account="techcorp", playbook="smb_onboarding",
                                  kind="in_app", data={"template": "core_workflows_tutorial"}))
    store.log_action(ActionRecord(at=T0 + timedelta(days=1), account="globex", playbook=None, kind="score",
                                  data={"score": "health", "value": 69, "band": "yellow"}))


async def test_log_is_json_lines_in_the_contract_format_ordered_by_time(store: Store, bundle: ir.Bundle) -> None:
    _log(store)
    async with offline_api(store, bundle) as api:
        response = await api.get("/v1/log")
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in response.text.splitlines()] == [
        {"at": "2026-01-05T09:00:00+00:00", "account": "techcorp", "playbook": "smb_onboarding", "kind": "enrolled"},
        {"at": "2026-01-06T09:00:00+00:00", "account": "globex", "playbook": None, "kind": "score",
         "score": "health", "value": 69, "band": "yellow"},
        {"at": "2026-01-08T09:00:00+00:00", "account": "techcorp", "playbook": "smb_onboarding", "kind": "in_app",
         "template": "core_workflows_tutorial"},
    ]


async def test_log_is_a_json_array_on_request_and_filters_by_account_playbook_and_since(
        store: Store, bundle: ir.Bundle) -> None:
    _log(store)
    async with offline_api(store, bundle) as api:
        by_account = await api.get("/v1/log", params={"account": "techcorp", "since": "2026-01-06"},
                                   headers={"Accept": "application/json"})
        by_playbook = await api.get("/v1/log", params={"playbook": "smb_onboarding"},
                                    headers={"Accept": "application/json"})
    assert by_account.headers["content-type"] == "application/json"
    assert [line["kind"] for line in by_account.json()] == ["in_app"]
    assert [line["kind"] for line in by_playbook.json()] == ["enrolled", "in_app"]


async def test_tasks_answer_a_page_at_a_time_linked_to_the_next_and_refuse_a_forged_cursor(
        store: Store, bundle: ir.Bundle) -> None:
    now = datetime.now(UTC)
    for number in range(5):  # the same creation time: the id orders them
        _task(store, f"t{number}", "sam@vendor.example", now - timedelta(hours=1) if number % 2 else None)
    async with offline_api(store, bundle) as api:
        seen: list[str] = []
        url: str | None = "/v1/tasks?limit=2"
        while url is not None:
            response = await api.get(url)
            assert response.status_code == 200, response.text
            seen += [task["id"] for task in response.json()]
            link = response.headers.get("link")
            url = link[link.index("<") + 1:link.index(">")] if link else None
        first = await api.get("/v1/tasks", params={"overdue": "true", "limit": 1})
        rest = await api.get("/v1/tasks", params={"overdue": "true", "limit": 1,
                                                  "cursor": first.headers["x-next-cursor"]})
        forged = await api.get("/v1/tasks", params={"cursor": "eyJub3QiOiJvdXJzIn0"})
        everything = await api.get("/v1/tasks")
    assert seen == ["t0", "t1", "t2", "t3", "t4"]
    assert [t["id"] for t in first.json()] == ["t1"] and [t["id"] for t in rest.json()] == ["t3"]
    assert "link" not in rest.headers
    assert forged.status_code == 400 and "cursor" in forged.text
    assert len(everything.json()) == 5 and "link" not in everything.headers
