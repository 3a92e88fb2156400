"""Routing stored changes: scores, event and condition triggers, admission, reserved events, signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dsl import ir
from engine.records import ActionRecord, Change, JourneySignal, RouteResult, StartJourney, TaskRecord
from engine.routing.router import Router, condition_key
from engine.store import Store

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def field(name: str) -> ir.FieldRef:
    return ir.FieldRef(path=(name,))


def cmp(op: str, left: ir.Expr, right: ir.Expr) -> ir.Compare:
    return ir.Compare(op=op, left=left, right=right)


def num(value: float, type_: str = "number") -> ir.Literal_:
    return ir.Literal_(type=type_, value=value)


def text(value: str) -> ir.Literal_:
    return ir.Literal_(type="text", value=value)


# health: 90 points when dau_pct >= 80, 60 when >= 50, else 10; nps is read too (so it can be missing)
HEALTH = ir.ScoreModel(
    name="health",
    components=(
        ir.Component(
            name="usage",
            max_points=90,
            inputs=("dau_pct",),
            rules=(
                ir.PointRule(points=90, when=cmp(">=", field("dau_pct"), num(80, "percent"))),
                ir.PointRule(points=60, when=cmp(">=", field("dau_pct"), num(50, "percent"))),
                ir.PointRule(points=10),
            ),
        ),
        ir.Component(
            name="relationship",
            max_points=10,
            inputs=("nps",),
            rules=(
                ir.PointRule(points=10, when=cmp(">=", field("nps"), num(9))),
                ir.PointRule(points=0),
            ),
        ),
    ),
    bands=(
        ir.Band(name="green", low=80, high=100),
        ir.Band(name="yellow", low=50, high=79),
        ir.Band(name="red", low=0, high=49),
    ),
)

TASK = ir.CreateTask(title="Follow up", owner=("csm",))
DAY0 = (ir.Step(name="day 0", body=(TASK,)),)


def playbook(id: str, trigger: ir.Trigger, **more: Any) -> ir.Playbook:
    return ir.Playbook(id=id, trigger=trigger, steps=more.pop("steps", DAY0), **more)


def band_playbook(band: str, **more: Any) -> ir.Playbook:
    return playbook(f"health_{band}", ir.ConditionTrigger(condition=ir.BandIs(score="health", band=band)), **more)


SEATS = cmp(">=", field("seats_used"), ir.PercentOf(percent=num(80, "percent"), of=field("seats_licensed")))

PLAYBOOKS = [
    band_playbook("red", reentry=ir.Reentry(mode="after", after=ir.Duration(amount=30, unit="days"))),
    band_playbook("yellow"),
    band_playbook("green"),
    playbook("expansion_seats", ir.ConditionTrigger(condition=SEATS)),
    playbook(
        "onboarding",
        ir.EventTrigger(event="signed"),
        audience=cmp("==", field("segment"), text("smb")),
        reentry=ir.Reentry(mode="never"),
        exits=(ir.ExitRule(event="churned"),),
        steps=(
            ir.Step(
                name="day 7",
                offset=ir.Duration(amount=7, unit="days"),
                body=(ir.WaitUntil(events=("project_created",), timeout=ir.Duration(amount=7, unit="days")),),
            ),
        ),
    ),
    playbook(
        "testimonial",
        ir.EventTrigger(event="nps_response", where=cmp(">=", ir.EventField(name="score"), num(9))),
    ),
    playbook("payments", ir.EventTrigger(event="payment_failed"), exits=(ir.ExitRule(event="payment_succeeded"),)),
    playbook(
        "renewal",
        ir.DateTrigger(field="renewal_date", offset_days=-90),
        steps=(ir.Step(name="30 days before renewal_date", anchor="renewal_date", offset_days=-30, body=(TASK,)),),
    ),
]

BUNDLE = ir.Bundle(
    model=ir.Model(
        metrics={
            "weekly_logins": ir.MetricDef(
                name="weekly_logins", event="login", window=ir.Duration(amount=7, unit="days")
            )
        }
    ),
    scores={"health": HEALTH},
    playbooks={pb.id: pb for pb in PLAYBOOKS},
)


@pytest.fixture
def router(store: Store) -> Router:
    return Router(store, BUNDLE)


class Feed:
    """Stores changes and routes them, as ingestion does."""

    def __init__(self, store: Store, router: Router) -> None:
        self.store, self.router, self.count = store, router, 0

    def change(
        self,
        at: datetime,
        *,
        event: str | None = None,
        data: dict[str, Any] | None = None,
        account: str = "acme",
        **traits: Any,
    ) -> Change:
        self.count += 1
        change = self.store.add_change(
            account, at, event=event, data=data or {}, traits=traits, event_id=f"e-{self.count}"
        )
        assert change is not None
        return change

    def __call__(self, at: datetime, **kwargs: Any) -> RouteResult:
        return self.router.route(self.change(at, **kwargs))


@pytest.fixture
def feed(store: Store, router: Router) -> Feed:
    return Feed(store, router)


def starts(result: RouteResult) -> list[StartJourney]:
    return [intent for intent in result.intents if isinstance(intent, StartJourney)]


def started(result: RouteResult) -> list[str]:
    return [start.playbook for start in starts(result)]


def signals(result: RouteResult) -> list[JourneySignal]:
    return [intent for intent in result.intents if isinstance(intent, JourneySignal)]


def actions(result: RouteResult, kind: str) -> list[ActionRecord]:
    return [action for action in result.actions if action.kind == kind]


def enter(store: Store, playbook: str, at: datetime, account: str = "acme") -> str:
    workflow_id = f"journey/{playbook}/{account}"
    run_id = f"run-{at.isoformat()}"
    store.journey_entered(workflow_id, run_id, playbook, account, "v1", at)
    return run_id


def end(store: Store, playbook: str, run_id: str, at: datetime, account: str = "acme") -> None:
    store.journey_ended(f"journey/{playbook}/{account}", run_id, at, "completed", None)


# ------------------------------------------------------------------ scores and band edges


def test_first_scoring_is_a_band_change(feed: Feed, store: Store) -> None:
    result = feed(T0, dau_pct=65, nps=3)
    [score] = actions(result, "score")
    assert score.data == {
        "score": "health",
        "value": 60,
        "band": "yellow",
        "breakdown": {"usage": 60, "relationship": 0},
    }
    assert isinstance(score.data["value"], int)
    assert (score.at, score.playbook, score.account) == (T0, None, "acme")
    [start] = starts(result)
    assert (start.playbook, start.entry_at, start.reason, start.event) == (
        "health_yellow",
        T0,
        "health becomes yellow",
        None,
    )
    assert store.score_at("acme", "health", T0).band == "yellow"  # type: ignore[union-attr]


def test_band_change_fires_once_per_change(feed: Feed, store: Store) -> None:
    feed(T0, dau_pct=65, nps=3)
    greener = feed(T0 + DAY, dau_pct=85)
    assert [a.data["band"] for a in actions(greener, "score")] == ["green"]
    assert started(greener) == ["health_green"]
    still_green = feed(T0 + 2 * DAY, nps=10)
    assert [a.data["value"] for a in actions(still_green, "score")] == [100]
    assert started(still_green) == []
    unchanged = feed(T0 + 3 * DAY, dau_pct=95)
    assert actions(unchanged, "score") == [] and started(unchanged) == []
    assert store.get_condition("acme", condition_key("health_yellow")) is False
    assert store.get_condition("acme", condition_key("health_green")) is True


def test_unscored_account_logs_no_score_and_fires_nothing(feed: Feed, store: Store) -> None:
    result = feed(T0, dau_pct=20)
    assert result.actions == [] and result.intents == []
    assert store.score_at("acme", "health", T0).missing == ["nps"]  # type: ignore[union-attr]
    scored = feed(T0 + DAY, nps=5)
    assert [a.data["band"] for a in actions(scored, "score")] == ["red"]
    assert started(scored) == ["health_red"]


def test_becoming_unscored_is_logged_and_does_not_rearm_the_edge(feed: Feed, store: Store) -> None:
    feed(T0, dau_pct=20, nps=5)
    lost = feed(T0 + DAY, nps=None)
    [score] = actions(lost, "score")
    assert (score.data["value"], score.data["band"], score.data["missing"]) == (None, None, ["nps"])
    back = feed(T0 + 2 * DAY, nps=4)
    assert [a.data["band"] for a in actions(back, "score")] == ["red"]
    assert started(back) == []  # red -> unknown -> red is not a new edge
    assert store.get_condition("acme", condition_key("health_red")) is True


# ------------------------------------------------------------------ condition edges


def test_condition_fires_on_the_edge_and_rearms_only_after_false(feed: Feed, store: Store) -> None:
    assert started(feed(T0, seats_licensed=100, seats_used=50)) == []
    assert store.get_condition("acme", condition_key("expansion_seats")) is False
    assert started(feed(T0 + DAY, seats_used=85)) == ["expansion_seats"]
    assert started(feed(T0 + 2 * DAY, seats_used=90)) == []  # still true: no new edge
    assert started(feed(T0 + 3 * DAY, seats_used=None)) == []  # unknown keeps it armed as true
    assert started(feed(T0 + 4 * DAY, seats_used=95)) == []
    assert started(feed(T0 + 5 * DAY, seats_used=10)) == []  # false re-arms
    [start] = starts(feed(T0 + 6 * DAY, seats_used=80))
    assert (start.reason, start.entry_at) == ("seats_used >= 80% of seats_licensed", T0 + 6 * DAY)


def test_unknown_never_triggers(feed: Feed, store: Store) -> None:
    assert started(feed(T0, seats_used=95)) == []  # seats_licensed missing
    assert store.get_condition("acme", condition_key("expansion_seats")) is None
    assert started(feed(T0 + DAY, seats_licensed=100)) == ["expansion_seats"]  # unknown -> true is an edge


def test_conditions_are_not_reevaluated_for_unrelated_changes(feed: Feed, store: Store) -> None:
    feed(T0, segment="smb")
    assert store.get_condition("acme", condition_key("expansion_seats")) is None


# ------------------------------------------------------------------ event triggers and admission


def test_event_trigger_starts_with_the_event_and_its_data(feed: Feed) -> None:
    feed(T0, segment="smb")
    [start] = starts(feed(T0 + DAY, event="signed", data={"plan": "pro"}))
    assert (start.playbook, start.reason, start.event, start.data) == (
        "onboarding",
        "event signed",
        "signed",
        {"plan": "pro"},
    )
    assert start.entry_at == T0 + DAY


def test_where_clause_reads_the_event_payload(feed: Feed) -> None:
    assert started(feed(T0, event="nps_response", data={"score": 7})) == []
    assert started(feed(T0 + DAY, event="nps_response", data={"score": 10})) == ["testimonial"]
    assert started(feed(T0 + 2 * DAY, event="nps_response", data={})) == []


def test_audience_refusal_is_logged_with_reads(feed: Feed, store: Store) -> None:
    feed(T0, segment="enterprise")
    result = feed(T0 + DAY, event="signed")
    assert started(result) == []
    [decided] = actions(result, "decided")
    assert decided.playbook == "onboarding"
    assert decided.data["what"] == "not_admitted"
    assert decided.data["reads"] == {"segment": "enterprise"}
    assert decided.data["detail"] == 'audience: segment == "smb" is false'
    assert decided.data["trigger"] == "event signed"
    assert decided in store.actions(account="acme")


def test_unknown_audience_never_admits(feed: Feed) -> None:
    [decided] = actions(feed(T0, event="signed"), "decided")
    assert decided.data["what"] == "not_admitted"
    assert decided.data["reads"] == {"segment": None}
    assert decided.data["detail"] == 'audience: segment == "smb" is unknown (segment missing)'


def test_an_active_journey_blocks_a_second_start(feed: Feed, store: Store) -> None:
    enter(store, "payments", T0)
    result = feed(T0 + DAY, event="payment_failed")
    assert started(result) == []
    [decided] = actions(result, "decided")
    assert decided.data["what"] == "already_active"


def test_default_reentry_allows_a_new_journey_once_the_previous_ended(feed: Feed, store: Store) -> None:
    run = enter(store, "payments", T0)
    end(store, "payments", run, T0 + DAY)
    assert started(feed(T0 + 2 * DAY, event="payment_failed")) == ["payments"]


def test_reentry_never_blocks_for_good(feed: Feed, store: Store) -> None:
    feed(T0, segment="smb")
    run = enter(store, "onboarding", T0)
    end(store, "onboarding", run, T0 + DAY)
    result = feed(T0 + 400 * DAY, event="signed")
    assert started(result) == []
    assert [a.data["what"] for a in actions(result, "decided")] == ["reentry_blocked"]


def test_reentry_after_30_days_counts_from_the_last_entry(feed: Feed, store: Store) -> None:
    feed(T0, dau_pct=20, nps=5)
    run = enter(store, "health_red", T0)
    end(store, "health_red", run, T0 + 2 * DAY)
    feed(T0 + 3 * DAY, dau_pct=60)
    early = feed(T0 + 10 * DAY, dau_pct=10)
    assert started(early) == []
    [decided] = actions(early, "decided")
    assert decided.data["what"] == "reentry_blocked"
    assert "after 30 days" in decided.data["detail"]
    feed(T0 + 20 * DAY, dau_pct=60)
    assert started(feed(T0 + 30 * DAY, dau_pct=10)) == ["health_red"]


# ------------------------------------------------------------------ idempotency


def test_routing_a_change_twice_starts_and_logs_once(feed: Feed, store: Store, router: Router) -> None:
    change = feed.change(T0, dau_pct=20, nps=5, segment="enterprise", seats_licensed=10, seats_used=9)
    first = router.route(change)
    assert sorted(started(first)) == ["expansion_seats", "health_red"]
    assert len(actions(first, "score")) == 1
    again = router.route(change)  # e.g. the first routing stopped before its journeys started
    assert again.actions == []  # nothing is logged twice
    assert sorted(started(again)) == ["expansion_seats", "health_red"]  # the starts are offered again
    signed = feed.change(T0 + DAY, event="signed")
    assert len(actions(router.route(signed), "decided")) == 1
    assert router.route(signed).actions == []
    kinds = [action.kind for action in store.actions(account="acme")]
    assert kinds == ["score", "decided"]


def test_rerouting_an_event_whose_journey_started_is_silent(feed: Feed, store: Store, router: Router) -> None:
    change = feed.change(T0, event="payment_failed")
    assert started(router.route(change)) == ["payments"]
    enter(store, "payments", T0)
    assert router.route(change) == RouteResult()


# ------------------------------------------------------------------ reserved events and signals


def open_task(store: Store, task_id: str, playbook: str) -> None:
    task = TaskRecord(
        id=task_id,
        account="acme",
        playbook=playbook,
        title="Outreach",
        owner="sam@vendor.example",
        due=None,
        priority="urgent",
        created_at=T0,
    )
    store.create_task(task, f"key-{task_id}", f"journey/{playbook}/acme")


def test_task_completed_closes_the_task_and_signals_its_journey(feed: Feed, store: Store) -> None:
    enter(store, "health_red", T0)
    open_task(store, "t-1", "health_red")
    result = feed(T0 + DAY, event="task_completed", data={"task": "t-1"})
    [signal] = signals(result)
    assert (signal.playbook, signal.task_done, signal.at) == ("health_red", "t-1", T0 + DAY)
    assert store.task("t-1").status == "done"  # type: ignore[union-attr]
    assert result.actions == []


def test_task_completed_by_playbook_closes_all_its_tasks(feed: Feed, store: Store) -> None:
    open_task(store, "t-1", "health_red")
    open_task(store, "t-2", "health_red")
    open_task(store, "t-3", "renewal")
    result = feed(T0 + DAY, event="task_completed", data={"playbook": "health_red"})
    assert signals(result) == []  # no journey is active: nothing to signal
    assert [t.status for t in store.tasks(account="acme")] == ["done", "done", "open"]


def test_unsubscribed_and_bounced_suppress_the_address(feed: Feed, store: Store) -> None:
    feed(T0, event="unsubscribed", data={"email": "ana@acme.example"})
    feed(T0, event="bounced", data={"email": "bob@acme.example"})
    assert store.suppression("ana@acme.example") == "unsubscribed"
    assert store.suppression("bob@acme.example") == "bounced"


def test_journeys_hear_exit_and_wait_events_only(feed: Feed, store: Store) -> None:
    enter(store, "onboarding", T0)
    assert signals(feed(T0 + DAY, event="login")) == []
    [waited] = signals(feed(T0 + DAY, event="project_created", data={"name": "p"}))
    assert (waited.playbook, waited.event, waited.data) == ("onboarding", "project_created", {"name": "p"})
    [churned] = signals(feed(T0 + 2 * DAY, event="churned"))
    assert churned.event == "churned" and churned.fields_changed == []


def test_journeys_hear_changes_of_the_date_fields_their_steps_follow(feed: Feed, store: Store) -> None:
    enter(store, "renewal", T0)
    enter(store, "payments", T0)
    [signal] = signals(feed(T0 + DAY, renewal_date="2026-05-01", arr=5))
    assert (signal.playbook, signal.event, signal.fields_changed) == ("renewal", None, ["renewal_date"])


def test_a_task_completed_change_closes_tasks_the_store_has_not_closed(store: Store, router: Router) -> None:
    enter(store, "health_red", T0)
    open_task(store, "t-1", "health_red")
    change = Change(seq=99, account="acme", at=T0 + DAY, event="task_completed", data={"playbook": "health_red"})
    [signal] = signals(router.route(change))
    assert signal.task_done == "t-1"
    assert store.task("t-1").status == "done"  # type: ignore[union-attr]


def test_rescore_records_a_score_whose_history_is_behind_and_fires_its_band_edge(store: Store, router: Router) -> None:
    store.add_change("acme", T0, event=None, data={}, traits={"dau_pct": 20, "nps": 5}, event_id="direct")
    result = router.rescore("acme", T0 + DAY, only="health")
    assert [(a.at, a.data["band"]) for a in result.actions] == [(T0 + DAY, "red")]
    assert started(result) == ["health_red"]
    again = router.rescore("acme", T0 + DAY, only="health")
    assert again.actions == [] and started(again) == ["health_red"]  # the same edge, offered again
    assert router.rescore("acme", T0 + 2 * DAY) == RouteResult()
    assert router.rescore("acme", T0 + 2 * DAY, only="fit") == RouteResult()



def test_routing_the_same_change_again_fires_its_edge_again_but_a_later_change_does_not(
    store: Store, router: Router
) -> None:
    change = store.add_change("acme", T0, event=None, data={}, event_id=None,
                              traits={"seats_used": 90, "seats_licensed": 100})
    assert change is not None
    assert started(router.route(change)) == ["expansion_seats"]
    again = starts(router.route(change))  # the first routing stopped before the journey started
    later = store.add_change("acme", T0 + DAY, event=None, data={}, event_id=None, traits={"seats_used": 95})
    assert later is not None
    assert [start.entry_at for start in again] == [T0]
    assert started(router.route(later)) == []
