"""The store on PostgreSQL: the same behaviour, and the per-account lock under concurrent sends.

Runs when `PLAYBOOK_TEST_POSTGRES_URL` names an empty database that the tests may wipe, e.g.
`postgresql+psycopg://postgres@/playbook_test?host=/tmp/pg&port=5432`; skipped otherwise.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from engine.records import ActionRecord, ScoreState, TaskRecord
from engine.store import Store
from tests.stores import POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PLAYBOOK_TEST_POSTGRES_URL is not set")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(pg_store: Store) -> Store:
    """The store on the emptied PostgreSQL database (the root conftest's `pg_store`)."""
    return pg_store


def test_the_schema_is_migrated_and_current(store: Store) -> None:
    assert store.dialect == "postgresql"
    assert store.schema_is_current()


def test_changes_round_trip_once_per_id_with_history(store: Store) -> None:
    first = store.add_change("a", T0, event="signed", data={"plan": "pro"}, traits={"arr": 1}, event_id="e-1")
    assert first is not None
    assert store.add_change("a", T0, event="signed", data={}, traits={"arr": 9}, event_id="e-1") is None
    store.add_change("a", T0 + timedelta(days=2), event=None, data={}, traits={"arr": 2}, event_id=None)
    assert store.current_fields("a") == {"arr": 2}
    assert store.fields_at("a", T0 + timedelta(days=1)) == {"arr": 1}
    assert store.events_until("a", T0) == [("signed", T0, {"plan": "pro"})]


def test_keys_make_tasks_actions_and_messages_idempotent(store: Store) -> None:
    task = TaskRecord(id="t1", account="a", playbook="p", title="Call", owner="sam@v.example", due=None,
                      priority="high", created_at=T0)
    assert store.create_task(task, "k", None) == (task, True)
    assert store.create_task(task.model_copy(update={"id": "t2"}), "k", None) == (task, False)
    action = ActionRecord(at=T0, account="a", playbook="p", kind="enrolled", key="k")
    assert store.log_action(action) is True
    assert store.log_action(action) is False
    kwargs = dict(account="a", playbook="p", channel="email", template="t", to="ana@t.example", subject="s",
                  text="x", html=None, at=T0, key="m", cap_count=None, cap_seconds=None)
    assert store.record_message(**kwargs) == ("sent", None)  # type: ignore[arg-type]
    assert store.record_message(**kwargs) == ("sent", None)  # type: ignore[arg-type]
    assert len(store.messages()) == 1


def test_scores_conditions_journeys_and_suppressions(store: Store) -> None:
    state = ScoreState(name="health", value=69, band="yellow", breakdown={"engagement": 25})
    store.record_score("a", state, T0)
    assert store.score_at("a", "health", T0) == state
    store.set_condition("a", "c", True, T0)
    store.set_condition("a", "c", False, T0)
    assert store.get_condition("a", "c") is False
    store.journey_entered("w", "r", "p", "a", "v1", T0)
    assert store.last_entry("p", "a") == T0
    store.suppress("Ana@T.example", "bounced", T0)
    assert store.suppression("ana@t.example") == "bounced"


def test_condition_states_of_many_accounts_are_set_in_one_statement_the_last_of_a_key_kept(store: Store) -> None:
    store.set_condition("a", "c", True, T0)
    store.set_conditions([("a", "c", False, T0 + timedelta(hours=1)), ("b", "c", None, T0),
                          ("b", "c", True, T0 + timedelta(hours=2))])
    assert store.get_condition("a", "c") is False
    assert store.condition_since("a", "c") == T0 + timedelta(hours=1)
    assert store.get_condition("b", "c") is True
    assert store.condition_since("b", "c") == T0 + timedelta(hours=2)


def test_scores_of_many_accounts_are_recorded_in_one_statement_in_order(store: Store) -> None:
    early = ScoreState(name="health", value=20.0, band="red", breakdown={"usage": 20.0}, missing=["nps"])
    late = ScoreState(name="health", value=None, band=None)
    store.record_scores([("a", early, T0), ("b", late, T0), ("a", late, T0)])
    assert store.score_history("a", "health") == [(T0, early), (T0, late)]
    assert store.score_at("b", "health", T0) == late


def test_concurrent_sends_for_one_account_never_exceed_the_cap(store: Store) -> None:
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def worker(i: int) -> None:
        barrier.wait()
        status, _ = store.record_message(
            account="a", playbook=None, channel="email", template="t", to="ana@t.example", subject="s",
            text="x", html=None, at=T0, key=f"k{i}", cap_count=3, cap_seconds=7 * 86400,
        )
        outcomes.append(status)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent"] * 3 + ["suppressed"] * 7


def test_routings_reads_ahead_of_a_run_answer_as_the_one_by_one_reads(store: Store) -> None:
    for hours, value in enumerate((10.0, 30.0, 20.0)):
        store.record_score("a", ScoreState(name="health", value=value, band="red"), T0 + timedelta(hours=hours))
    store.journey_entered("w1", "r1", "p", "a", "v1", T0)
    store.journey_entered("w2", "r2", "q", "a", "v1", T0 + timedelta(hours=1))
    latest = store.latest_scores_of(["a", "b"])
    assert list(latest) == [("a", "health")]
    assert latest[("a", "health")] == (T0 + timedelta(hours=2), store.score_at("a", "health", T0 + timedelta(days=1)))
    assert store.active_journeys_of(["a", "b"]) == {"a": store.active_journeys("a"), "b": []}
    assert store.last_entries_of(["a"]) == {("a", "p"): T0, ("a", "q"): T0 + timedelta(hours=1)}
    change = store.add_change("a", T0, event="login", data={}, traits={}, event_id="e-9")
    assert change is not None and [found.seq for found in store.unrouted()] == [change.seq]
    store.mark_routed([change.seq], T0)
    assert store.unrouted() == []
