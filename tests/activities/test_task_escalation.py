"""A work item's SLA as the `task.escalate` activity judges it: overdue unless done by the moment
asked about, not before a snooze ends, escalated once to the owner at the escalation's field, and
judged as it stood then (an item closed later was still open at that moment)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal

from activities.context import ActivityContext, CaptureMailer
from activities.escalation import escalate_task
from dsl import ir
from engine.records import TaskRecord
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.workflows.payloads import EscalateParams

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
DUE = T0 + timedelta(days=2)
SAM = {"email": "sam@vendor.example", "name": "Sam", "manager": {"email": "lee@vendor.example", "name": "Lee"}}


def _context(store: Store, bundle: ir.Bundle, csm: Mapping[str, object]) -> ActivityContext:
    store.add_change("acme", T0, event=None, data={}, event_id=None, traits={"name": "Acme", "csm": dict(csm)})
    store.create_task(TaskRecord(id="risk", account="acme", playbook="usage_risk", title="Churn risk: Acme",
                                 owner="sam@vendor.example", due=DUE, priority="normal", created_at=T0),
                      key="k-risk", journey="journey/usage_risk/acme")
    return ActivityContext(store=store, bundle=bundle, starter=JourneyStarter(None, "q", store),  # type: ignore[arg-type]
                           mailer=CaptureMailer())


def _params(stage: Literal["overdue", "escalate"], at: datetime, number: int = 0) -> EscalateParams:
    return EscalateParams(account="acme", playbook="usage_risk", workflow_id="journey/usage_risk/acme",
                          key=f"journey/usage_risk/acme/r/day 0/0/sla{number}", at=at, task="risk",
                          stage=stage, to=["csm", "manager"])


def _kinds(store: Store) -> list[tuple[str, dict[str, object]]]:
    return [(action.kind, action.data) for action in store.actions(account="acme")
            if action.kind in ("task_overdue", "task_escalated")]


async def test_an_open_item_is_overdue_at_its_due_time_then_escalated_to_the_managers_address_once(
        store: Store, bundle: ir.Bundle) -> None:
    context = _context(store, bundle, SAM)
    assert await escalate_task(_params("overdue", DUE), context) == {"state": "overdue"}
    later = DUE + timedelta(days=1)
    assert await escalate_task(_params("escalate", later, 1), context) == {"state": "escalated"}
    # a second journey bound to the same item escalates nothing more
    assert await escalate_task(_params("escalate", later, 7), context) == {"state": "escalated"}
    kinds = _kinds(store)
    assert [kind for kind, _ in kinds] == ["task_overdue", "task_escalated"]
    assert kinds[1][1]["to"] == "lee@vendor.example" and kinds[1][1]["role"] == "csm.manager"
    task = store.task("risk")
    assert task is not None and task.escalated_to == "lee@vendor.example" and task.escalated_at == later
    assert task.owner == "sam@vendor.example"  # escalated, not taken away from its owner


async def test_a_snoozed_item_is_not_overdue_before_the_snooze_ends(store: Store, bundle: ir.Bundle) -> None:
    context = _context(store, bundle, SAM)
    until = DUE + timedelta(days=3)
    store.snooze_task("risk", until, "customer on holiday", T0 + timedelta(days=1))
    assert await escalate_task(_params("overdue", DUE), context) == {"state": "snoozed", "until": until.isoformat()}
    assert _kinds(store) == []
    assert await escalate_task(_params("overdue", until, 1), context) == {"state": "overdue"}
    assert [kind for kind, _ in _kinds(store)] == ["task_overdue"]


async def test_an_item_done_by_the_moment_is_left_alone_and_one_done_later_was_still_open_then(
        store: Store, bundle: ir.Bundle) -> None:
    context = _context(store, bundle, SAM)
    done_at = DUE + timedelta(hours=6)
    store.complete_tasks("acme", done_at, task_id="risk", outcome="resolved")
    assert await escalate_task(_params("overdue", DUE), context) == {"state": "overdue"}
    assert await escalate_task(_params("escalate", DUE + timedelta(days=1), 1), context) == {
        "state": "done", "at": done_at.isoformat()}
    assert [kind for kind, _ in _kinds(store)] == ["task_overdue"]


async def test_an_account_without_the_manager_says_so_and_the_item_stays_with_its_owner(
        store: Store, bundle: ir.Bundle) -> None:
    context = _context(store, bundle, {"email": "sam@vendor.example", "name": "Sam"})
    assert await escalate_task(_params("escalate", DUE + timedelta(days=1)), context) == {"state": "escalated"}
    (kind, data), = _kinds(store)
    assert kind == "task_escalated" and data["to"] is None
    assert data["reason"] == "the account has no csm.manager with an email address"
    task = store.task("risk")
    assert task is not None and task.escalated_to is None
