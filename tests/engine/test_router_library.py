"""The standard playbooks through the router: the acceptance timelines' scores, entries and decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dsl import ir
from engine.records import RouteResult, StartJourney
from engine.routing.router import Router
from engine.store import Store

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)

PEOPLE = {
    "primary_contact": {"email": "ana@techcorp.example", "name": "Ana"},
    "csm": {
        "email": "sam@vendor.example",
        "name": "Sam",
        "manager": {"email": "lee@vendor.example", "name": "Lee"},
    },
}
TECHCORP = {
    "name": "TechCorp",
    "segment": "mid_market",
    "arr": 60000,
    "timezone": "UTC",
    **PEOPLE,
    "dau_pct": 65,
    "feature_adoption": 55,
    "qbr_attended": True,
    "training_done": True,
    "responsive": True,
    "ticket_trend": "stable",
    "csat": 4.2,
    "exec_sponsor": False,
    "champion": True,
    "nps": 8,
    "payments_on_time": True,
    "expanded_last_12m": False,
}
GLOBEX = {
    **TECHCORP,
    "name": "Globex",
    "segment": "enterprise",
    "arr": 120000,
    "dau_pct": 20,
    "feature_adoption": 10,
    "qbr_attended": False,
    "training_done": False,
    "responsive": False,
    "ticket_trend": "increasing",
    "csat": 2,
    "champion": False,
    "nps": 3,
}


def route(store: Store, router: Router, account: str, at: datetime, **change: Any) -> RouteResult:
    stored = store.add_change(
        account,
        at,
        event=change.get("event"),
        data=change.get("data", {}),
        traits=change.get("traits", {}),
        event_id=None,
    )
    assert stored is not None
    return router.route(stored)


def summary(result: RouteResult) -> list[tuple[Any, ...]]:
    lines: list[tuple[Any, ...]] = []
    for action in result.actions:
        if action.kind == "score":
            lines.append(("score", action.at, action.data["value"], action.data["band"]))
        else:
            lines.append(("decided", action.at, action.playbook, action.data["what"]))
    for intent in result.intents:
        if isinstance(intent, StartJourney):
            lines.append(("start", intent.entry_at, intent.playbook, intent.reason))
    return lines


def test_scenario_02_yellow_then_green(store: Store, bundle: ir.Bundle) -> None:
    router = Router(store, bundle)
    first = route(store, router, "techcorp", T0, traits=TECHCORP)
    assert summary(first) == [
        ("score", T0, 69, "yellow"),
        ("start", T0, "health_yellow", "health becomes yellow"),
    ]
    assert first.actions[0].data["breakdown"] == {
        "product_usage": 20,
        "engagement": 25,
        "support_health": 15,
        "relationship": 7,
        "financial": 2,
    }
    later = T0 + timedelta(days=3)
    second = route(store, router, "techcorp", later, traits={"dau_pct": 75, "feature_adoption": 65})
    assert summary(second) == [
        ("score", later, 89, "green"),
        ("start", later, "health_green", "health becomes green"),
    ]


def test_scenario_03_red(store: Store, bundle: ir.Bundle) -> None:
    result = route(store, Router(store, bundle), "globex", T0, traits=GLOBEX)
    assert summary(result) == [("score", T0, 2, "red"), ("start", T0, "health_red", "health becomes red")]


def test_scenario_01_signed_smb_enters_onboarding_only(store: Store, bundle: ir.Bundle) -> None:
    router = Router(store, bundle)
    traits = {
        "name": "TechCorp",
        "segment": "smb",
        "arr": 18000,
        "timezone": "UTC",
        "tasks_completed": 0,
        "feature_adoption": 10,
        **PEOPLE,
    }
    assert summary(route(store, router, "techcorp", T0, traits=traits)) == []  # unscored: nothing fires
    assert store.score_at("techcorp", "health", T0).missing  # type: ignore[union-attr]
    signed = route(store, router, "techcorp", T0, event="signed")
    assert summary(signed) == [
        ("decided", T0, "churn_trial_rescue", "not_admitted"),
        ("start", T0, "smb_onboarding", "event signed"),
    ]


def test_scenario_04_renewal_enters_90_days_before(store: Store, bundle: ir.Bundle) -> None:
    router = Router(store, bundle)
    traits = {
        "name": "Initech",
        "segment": "mid_market",
        "arr": 20000,
        "timezone": "UTC",
        "renewal_date": "2026-04-15",
        **PEOPLE,
    }
    route(store, router, "initech", T0, traits=traits)
    assert router.next_due(T0) == datetime(2026, 1, 12, 9, tzinfo=UTC)  # the first weekly trend check
    result = router.due(T0, T0 + timedelta(days=80))
    starts = [line for line in summary(result) if line[0] == "start"]
    assert starts == [
        ("start", datetime(2026, 1, 15, 9, tzinfo=UTC), "renewal", "90 days before renewal_date")
    ]
    refused = {(line[2], line[3]) for line in summary(result) if line[0] == "decided"}
    assert refused == {("cadence_feature_spotlight", "not_admitted")}  # mid_market: not the smb cadence
