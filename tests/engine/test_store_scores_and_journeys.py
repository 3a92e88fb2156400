"""Score history, edge-trigger state and journey rows in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.records import ScoreState
from engine.store import Store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


YELLOW = ScoreState(name="health", value=69, band="yellow",
                    breakdown={"product usage": 20, "engagement": 25, "support health": 15,
                               "relationship": 7, "financial": 2})
RED = ScoreState(name="health", value=40, band="red", breakdown={"product usage": 0})
UNSCORED = ScoreState(name="health", missing=["csat", "nps"])


def test_a_score_round_trips_with_its_breakdown(store: Store) -> None:
    store.record_score("techcorp", YELLOW, T0)
    assert store.score_at("techcorp", "health", T0) == YELLOW
    assert store.latest_scores("techcorp") == {"health": YELLOW}


def test_score_at_reads_the_history_at_a_logical_time(store: Store) -> None:
    store.record_score("techcorp", UNSCORED, T0)
    store.record_score("techcorp", YELLOW, T0 + timedelta(days=1))
    store.record_score("techcorp", RED, T0 + timedelta(days=3))
    assert store.score_at("techcorp", "health", T0 - timedelta(seconds=1)) is None
    assert store.score_at("techcorp", "health", T0) == UNSCORED
    assert store.score_at("techcorp", "health", T0 + timedelta(days=2)) == YELLOW
    assert [state.band for _, state in store.score_history("techcorp", "health")] == [None, "yellow", "red"]
    assert store.latest_scores("techcorp")["health"] == RED
    assert store.score_at("techcorp", "other", T0 + timedelta(days=9)) is None


def test_latest_scores_keeps_each_score_apart(store: Store) -> None:
    adoption = ScoreState(name="adoption", value=10, band="low")
    store.record_score("techcorp", YELLOW, T0)
    store.record_score("techcorp", adoption, T0 + timedelta(days=1))
    store.record_score("globex", RED, T0)
    assert store.latest_scores("techcorp") == {"health": YELLOW, "adoption": adoption}


def test_a_condition_is_unknown_until_set_and_keeps_its_last_value(store: Store) -> None:
    assert store.get_condition("techcorp", "expansion_seats") is None
    store.set_condition("techcorp", "expansion_seats", False, T0)
    assert store.get_condition("techcorp", "expansion_seats") is False
    store.set_condition("techcorp", "expansion_seats", True, T0 + timedelta(hours=1))
    assert store.get_condition("techcorp", "expansion_seats") is True
    store.set_condition("techcorp", "expansion_seats", None, T0 + timedelta(hours=2))
    assert store.get_condition("techcorp", "expansion_seats") is None
    assert store.get_condition("globex", "expansion_seats") is None


def enter(store: Store, run: str, at: datetime, playbook: str = "health_red") -> None:
    store.journey_entered(f"journey/{playbook}/techcorp", run, playbook, "techcorp", "v1", at)


def test_an_entered_journey_is_active_until_it_ends(store: Store) -> None:
    enter(store, "r1", T0)
    active = store.active_journey("health_red", "techcorp")
    assert active is not None
    assert (active.run_id, active.status, active.entered_at, active.version) == ("r1", "active", T0, "v1")
    assert [j.playbook for j in store.active_journeys("techcorp")] == ["health_red"]
    store.journey_ended("journey/health_red/techcorp", "r1", T0 + timedelta(days=2), "exited",
                        "event churned")
    assert store.active_journey("health_red", "techcorp") is None
    assert store.active_journeys("techcorp") == []
    [ended] = store.journeys(account="techcorp")
    assert (ended.status, ended.reason, ended.ended_at) == ("exited", "event churned", T0 + timedelta(days=2))


def test_a_run_keeps_its_first_ending_and_entry(store: Store) -> None:
    enter(store, "r1", T0)
    enter(store, "r1", T0 + timedelta(days=1))  # a retried activity
    store.journey_ended("journey/health_red/techcorp", "r1", T0 + timedelta(days=2), "goal_reached", None)
    store.journey_ended("journey/health_red/techcorp", "r1", T0 + timedelta(days=3), "failed", "boom")
    [row] = store.journeys()
    assert (row.entered_at, row.status, row.ended_at) == (T0, "goal_reached", T0 + timedelta(days=2))


def test_an_unknown_ending_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="completed"):
        store.journey_ended("w", "r", T0, "paused", None)


def test_last_entry_and_ever_entered_cover_ended_runs(store: Store) -> None:
    assert store.last_entry("health_red", "techcorp") is None
    assert store.ever_entered("health_red", "techcorp") is False
    enter(store, "r1", T0)
    store.journey_ended("journey/health_red/techcorp", "r1", T0 + timedelta(days=1), "completed", None)
    enter(store, "r2", T0 + timedelta(days=40))
    assert store.last_entry("health_red", "techcorp") == T0 + timedelta(days=40)
    assert store.ever_entered("health_red", "techcorp") is True
    assert store.ever_entered("renewal", "techcorp") is False
