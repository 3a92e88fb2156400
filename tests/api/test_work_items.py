"""Work items through the API: a task's type, reason, description and checklist as read, the
`type` filter, ticking a step of the checklist, and the routes in the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dsl import ir
from engine.insight.story import tell
from engine.records import TaskRecord, TaskStep
from engine.store import Store
from tests.api.conftest import offline_api

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _tasks(store: Store) -> None:
    steps = [TaskStep(title="Book the call", due=T0 + timedelta(days=2)), TaskStep(title="Send the plan")]
    store.create_task(TaskRecord(id="kickoff", account="acme", playbook="kickoff", title="Kickoff: Acme",
                                 owner="sam@vendor.example", due=T0 + timedelta(days=5), priority="high",
                                 created_at=T0, task_type="onboarding", reason="new_customer",
                                 description="Agree on goals", checklist=steps), key="k1", journey=None)
    store.create_task(TaskRecord(id="plain", account="acme", playbook="p", title="Call", owner="sam@vendor.example",
                                 due=None, priority="normal", created_at=T0 + timedelta(hours=1)),
                      key="k2", journey=None)


async def test_a_task_reads_with_its_type_reason_description_and_checklist_and_filters_by_type(
        store: Store, bundle: ir.Bundle) -> None:
    _tasks(store)
    async with offline_api(store, bundle) as api:
        everything = (await api.get("/v1/tasks")).json()
        onboarding = (await api.get("/v1/tasks", params={"type": "onboarding"})).json()
        risk = (await api.get("/v1/tasks", params={"type": "risk"})).json()
    assert [task["id"] for task in everything] == ["kickoff", "plain"]
    assert [task["id"] for task in onboarding] == ["kickoff"]
    assert risk == []
    kickoff = onboarding[0]
    assert (kickoff["task_type"], kickoff["reason"], kickoff["description"]) == (
        "onboarding", "new_customer", "Agree on goals")
    assert kickoff["checklist"] == [
        {"title": "Book the call", "due": "2026-01-07T09:00:00Z", "done_at": None},
        {"title": "Send the plan", "due": None, "done_at": None}]
    assert (everything[1]["task_type"], everything[1]["checklist"]) == (None, [])


async def test_ticking_a_step_records_when_once_and_a_missing_step_is_a_404_with_the_reason(
        store: Store, bundle: ir.Bundle) -> None:
    _tasks(store)
    async with offline_api(store, bundle) as api:
        first = await api.post("/v1/tasks/kickoff/steps/2/done")
        again = await api.post("/v1/tasks/kickoff/steps/2/done")
        past_the_end = await api.post("/v1/tasks/kickoff/steps/3/done")
        none = await api.post("/v1/tasks/plain/steps/1/done")
        no_task = await api.post("/v1/tasks/nope/steps/1/done")
        zero = await api.post("/v1/tasks/kickoff/steps/0/done")
    assert first.status_code == 200
    ticked = first.json()["checklist"]
    assert ticked[0]["done_at"] is None and ticked[1]["done_at"] is not None
    assert again.json()["checklist"][1]["done_at"] == ticked[1]["done_at"]
    assert (past_the_end.status_code, past_the_end.json()) == (
        404, {"error": "not found", "detail": "task 'kickoff' has 2 steps: no step 3"})
    assert none.json() == {"error": "not found", "detail": "task 'plain' has 0 steps: no step 1"}
    assert no_task.json() == {"error": "not found", "detail": "no task 'nope'"}
    assert zero.status_code == 422
    kickoff = store.task("kickoff")
    assert kickoff is not None and kickoff.status == "open"  # a step ticked leaves the task open


async def test_the_work_item_routes_and_keys_are_in_the_openapi_document(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle) as api:
        document = (await api.get("/openapi.json")).json()
    assert "/v1/tasks/{task_id}/steps/{step}/done" in document["paths"]
    assert "type" in {parameter["name"] for parameter in document["paths"]["/v1/tasks"]["get"]["parameters"]}
    assert {"task_type", "reason", "description", "checklist", "escalated_to", "escalated_at"} <= set(
        document["components"]["schemas"]["TaskOut"]["properties"])
    assert {"/v1/drafts", "/v1/drafts/{draft_id}", "/v1/drafts/{draft_id}/approve",
            "/v1/drafts/{draft_id}/discard"} <= set(document["paths"])
    draft = document["components"]["schemas"]["DraftOut"]["properties"]
    assert {"review_by", "then", "state", "reviewer"} <= set(draft)


async def test_completing_with_an_outcome_closes_the_item_and_the_event_carries_outcome_type_and_reason(
        store: Store, bundle: ir.Bundle) -> None:
    _tasks(store)
    async with offline_api(store, bundle) as api:
        done = await api.post("/v1/tasks/kickoff/complete", json={"outcome": "resolved"})
        bad = await api.post("/v1/tasks/plain/complete", json={"outcome": "Not A Name"})
        listed = (await api.get("/v1/tasks", params={"status": "done"})).json()
    assert done.status_code == 200
    assert (done.json()["task"]["status"], done.json()["task"]["outcome"]) == ("done", "resolved")
    assert bad.status_code == 422
    assert [(task["id"], task["outcome"]) for task in listed] == [("kickoff", "resolved")]
    [(_name, _at, data)] = store.events_until("acme", datetime.now(UTC) + timedelta(days=1), {"task_completed"})
    assert data == {"task": "kickoff", "outcome": "resolved", "type": "onboarding", "reason": "new_customer"}


async def test_a_deduped_item_lists_the_playbooks_bound_to_it(store: Store, bundle: ir.Bundle) -> None:
    item = TaskRecord(id="risk", account="acme", playbook="usage", title="Churn risk", owner="sam@vendor.example",
                      due=None, priority="normal", created_at=T0, task_type="risk", reason="churn_risk")
    store.open_work_item(item, "k1", "journey/usage/acme")
    store.open_work_item(item.model_copy(update={"id": "other", "playbook": "nps"}), "k2", "journey/nps/acme")
    async with offline_api(store, bundle) as api:
        [listed] = (await api.get("/v1/tasks")).json()
    assert (listed["id"], listed["playbook"], listed["bound"]) == ("risk", "usage", ["nps"])


async def test_snoozing_keeps_a_late_task_from_being_overdue_until_then_and_is_logged(
        store: Store, bundle: ir.Bundle) -> None:
    late = TaskRecord(id="late", account="acme", playbook="p", title="Call", owner="sam@vendor.example",
                      due=datetime.now(UTC) - timedelta(days=1), priority="high", created_at=T0)
    store.create_task(late, key="k-late", journey=None)
    until = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    async with offline_api(store, bundle) as api:
        before = (await api.get("/v1/tasks", params={"overdue": "true"})).json()
        snoozed = await api.post("/v1/tasks/late/snooze", json={"until": until.isoformat(), "reason": "on holiday"})
        after = (await api.get("/v1/tasks", params={"overdue": "true"})).json()
        past = await api.post("/v1/tasks/late/snooze", json={"until": "2020-01-01T00:00:00Z", "reason": "x"})
        no_reason = await api.post("/v1/tasks/late/snooze", json={"until": until.isoformat(), "reason": ""})
        missing = await api.post("/v1/tasks/nope/snooze", json={"until": until.isoformat(), "reason": "x"})
    assert [task["id"] for task in before] == ["late"] and after == []
    assert snoozed.status_code == 200
    assert (snoozed.json()["snoozed_until"], snoozed.json()["snooze_reason"], snoozed.json()["overdue"]) == (
        until.isoformat().replace("+00:00", "Z"), "on holiday", False)
    assert (past.status_code, past.json()["error"]) == (400, "bad request")
    assert no_reason.status_code == 422
    assert missing.json() == {"error": "not found", "detail": "no task 'nope'"}
    [logged] = [action for action in store.actions(account="acme") if action.kind == "task_snoozed"]
    assert logged.data == {"task": "late", "until": until.isoformat(), "reason": "on holiday"}


async def test_reassigning_gives_the_task_to_another_owner_and_a_done_task_is_a_conflict(
        store: Store, bundle: ir.Bundle) -> None:
    _tasks(store)
    store.complete_tasks("acme", T0 + timedelta(days=1), task_id="plain")
    async with offline_api(store, bundle) as api:
        moved = await api.post("/v1/tasks/kickoff/reassign", json={"owner": "Lee@Vendor.example", "reason": "leave"})
        done = await api.post("/v1/tasks/plain/reassign", json={"owner": "lee@vendor.example"})
        bad = await api.post("/v1/tasks/kickoff/reassign", json={"owner": "not an address"})
        mine = (await api.get("/v1/tasks", params={"owner": "lee@vendor.example"})).json()
    assert moved.json()["owner"] == "lee@vendor.example"
    assert done.json() == {"error": "conflict", "detail": "task 'plain' is done"} and done.status_code == 409
    assert bad.status_code == 422
    assert [task["id"] for task in mine] == ["kickoff"]
    [logged] = [action for action in store.actions(account="acme") if action.kind == "task_reassigned"]
    assert logged.data == {"task": "kickoff", "from": "sam@vendor.example", "to": "lee@vendor.example",
                           "reason": "leave"}


async def test_why_tells_a_snooze_and_a_reassignment(store: Store, bundle: ir.Bundle) -> None:
    _tasks(store)
    store.snooze_task("kickoff", datetime(2099, 1, 5, 9, tzinfo=UTC), "on holiday", T0 + timedelta(hours=1))
    store.reassign_task("kickoff", "lee@vendor.example", "leave", T0 + timedelta(hours=2))
    texts = [line.text for line in tell(store, bundle, "acme", now=T0 + timedelta(days=1)).lines
             if line.kind in ("task_snoozed", "task_reassigned")]
    assert texts == ["Task kickoff was snoozed until 2099-01-05 09:00 UTC: on holiday.",
                     "Task kickoff was reassigned from sam@vendor.example to lee@vendor.example (leave)."]
