"""Tasks and the action log: each opened or logged once per idempotency key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.records import ActionRecord, TaskRecord
from engine.store import Store, TaskKeyConflict

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def task(id: str, *, account: str = "techcorp", playbook: str | None = "health_red",
         owner: str = "sam@vendor.example", at: datetime = T0) -> TaskRecord:
    return TaskRecord(id=id, account=account, playbook=playbook, title=f"Outreach {id}", owner=owner,
                      due=at + timedelta(hours=48), priority="urgent", created_at=at)


def test_a_task_round_trips(store: Store) -> None:
    created, new = store.create_task(task("t1"), "wf/run/step", "journey/health_red/techcorp")
    assert new is True
    assert store.task("t1") == created
    assert store.task_journey("t1") == "journey/health_red/techcorp"
    assert store.task("missing") is None


def test_the_same_key_returns_the_first_task_and_opens_no_second(store: Store) -> None:
    first, _ = store.create_task(task("t1"), "wf/run/step", None)
    again, new = store.create_task(task("t2", at=T0 + timedelta(hours=1)), "wf/run/step", None)
    assert new is False
    assert again == first
    assert [t.id for t in store.tasks()] == ["t1"]


def test_a_task_id_reused_under_another_key_is_refused(store: Store) -> None:
    store.create_task(task("t1"), "k1", None)
    with pytest.raises(TaskKeyConflict, match="t1"):
        store.create_task(task("t1"), "k2", None)


def test_tasks_filter_by_owner_status_and_account(store: Store) -> None:
    store.create_task(task("t1"), "k1", None)
    store.create_task(task("t2", owner="lee@vendor.example"), "k2", None)
    store.create_task(task("t3", account="globex"), "k3", None)
    store.complete_tasks("techcorp", T0, task_id="t1")
    assert [t.id for t in store.tasks(owner="sam@vendor.example")] == ["t1", "t3"]
    assert [t.id for t in store.tasks(status="open")] == ["t2", "t3"]
    assert [t.id for t in store.tasks(account="techcorp", status="done")] == ["t1"]


def test_completing_returns_only_the_tasks_it_closed(store: Store) -> None:
    store.create_task(task("t1"), "k1", None)
    store.create_task(task("t2", playbook="renewal"), "k2", None)
    closed = store.complete_tasks("techcorp", T0 + timedelta(hours=3), playbook="health_red")
    assert [(t.id, t.status, t.completed_at) for t in closed] == [("t1", "done", T0 + timedelta(hours=3))]
    assert store.complete_tasks("techcorp", T0 + timedelta(hours=4), playbook="health_red") == []
    assert [t.id for t in store.complete_tasks("techcorp", T0 + timedelta(hours=5))] == ["t2"]


def test_completing_never_touches_another_accounts_tasks(store: Store) -> None:
    store.create_task(task("t1", account="globex"), "k1", None)
    assert store.complete_tasks("techcorp", T0, task_id="t1") == []
    stored = store.task("t1")
    assert stored is not None and stored.status == "open"


def action(kind: str, at: datetime, key: str | None, **data: object) -> ActionRecord:
    return ActionRecord(at=at, account="techcorp", playbook="smb_onboarding", kind=kind, data=data, key=key)


def test_an_action_is_logged_once_per_key(store: Store) -> None:
    assert store.log_action(action("email", T0, "k1", template="welcome")) is True
    assert store.log_action(action("email", T0, "k1", template="welcome")) is False
    assert store.log_action(action("enrolled", T0, None)) is True
    assert store.log_action(action("enrolled", T0, None)) is True
    assert [a.kind for a in store.actions()] == ["email", "enrolled", "enrolled"]


def test_actions_come_back_in_time_order_then_logging_order_with_their_contract_line(store: Store) -> None:
    due = T0 + timedelta(days=2)
    store.log_action(action("task", T0 + timedelta(days=1), "k2", title="Call", due=due))
    store.log_action(action("enrolled", T0, "k1"))
    store.log_action(action("email", T0, "k3", template="welcome"))
    logged = store.actions(account="techcorp")
    assert [a.kind for a in logged] == ["enrolled", "email", "task"]
    assert logged[2].to_contract() == {
        "at": "2026-01-06T09:00:00+00:00", "account": "techcorp", "playbook": "smb_onboarding",
        "kind": "task", "title": "Call", "due": "2026-01-07T09:00:00+00:00",
    }


def test_actions_filter_by_account_playbook_and_since(store: Store) -> None:
    store.log_action(action("enrolled", T0, None))
    store.log_action(ActionRecord(at=T0, account="globex", playbook=None, kind="score", data={"value": 69}))
    store.log_action(action("completed", T0 + timedelta(days=30), None))
    assert [a.account for a in store.actions(account="globex")] == ["globex"]
    assert [a.kind for a in store.actions(playbook="smb_onboarding")] == ["enrolled", "completed"]
    assert [a.kind for a in store.actions(since=T0 + timedelta(days=30))] == ["completed"]
