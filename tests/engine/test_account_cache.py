"""The routing cache (`engine.routing.AccountCache`): an account's rows from memory, kept in step by
its own writes, for one run of routing (what other processes write is seen from the next run
on) or for the whole life of a private store (a simulation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.records import ActionRecord, ScoreState
from engine.routing import AccountCache, Lifetime
from engine.routing.account_histories import ACCOUNT_BYTES, ROW_BYTES, AccountHistories
from engine.store import NewChange, Store
from engine.store.account_cards import rebuild_cards
from engine.store.routing import event_data
from engine.store.schema import account_cards, accounts, events
from tests.stores import sqlite_url

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def store(store: Store) -> Store:
    """The root conftest's fresh store, with acme signed up on the smb plan."""
    store.add_change("acme", T0, event="signed", data={}, traits={"plan": "smb"}, event_id="e-1")
    return store


def _set(store: Store | AccountCache, at: datetime, plan: str, event_id: str) -> None:
    store.add_change("acme", at, event=None, data={}, traits={"plan": plan}, event_id=event_id)


def _entered(at: datetime) -> ActionRecord:
    return ActionRecord(at=at, account="acme", playbook="onboarding", kind="enrolled", data={}, key=f"k-{at}")


def test_a_run_answers_from_what_it_read_and_the_next_run_sees_other_writers(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    cache.begin_run({"acme"}, T0 + 2 * HOUR)
    assert cache.fields_at("acme", T0 + 2 * HOUR) == {"plan": "smb"}
    assert cache.get_condition("acme", "trigger:x") is None
    _set(store, T0 + HOUR, "enterprise", "e-2")  # another process writes meanwhile
    store.set_condition("acme", "trigger:x", True, T0 + HOUR)
    assert cache.get_condition("acme", "trigger:x") is None  # as first read in this run
    assert cache.fields_at("acme", T0 + 2 * HOUR) == {"plan": "smb"}
    cache.end_run()
    cache.begin_run({"acme"}, T0 + 2 * HOUR)
    assert cache.fields_at("acme", T0 + 2 * HOUR) == {"plan": "enterprise"}
    assert cache.get_condition("acme", "trigger:x") is True


def test_outside_its_run_a_per_run_cache_reads_the_store(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    cache.begin_run({"acme"}, T0)
    assert cache.fields_at("acme", T0) == {"plan": "smb"}
    _set(store, T0 + HOUR, "enterprise", "e-2")
    # later than the run's latest moment, and another account: the store answers
    assert cache.fields_at("acme", T0 + HOUR) == {"plan": "enterprise"}
    cache.end_run()
    _set(store, T0 + 2 * HOUR, "trial", "e-3")
    assert cache.fields_at("acme", T0 + 2 * HOUR) == {"plan": "trial"}
    assert [name for name, _ in cache.event_stamps_until("acme", T0 + 2 * HOUR)] == ["signed"]


def test_a_private_store_cache_keeps_rows_and_its_own_writes_in_step(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PRIVATE_STORE)
    assert cache.fields_at("acme", T0) == {"plan": "smb"}
    _set(store, T0 + HOUR / 2, "unseen", "e-0")  # behind the cache's back: kept rows answer, across runs
    cache.begin_run({"acme"}, T0 + HOUR)
    cache.end_run()
    assert cache.fields_at("acme", T0 + HOUR) == {"plan": "smb"}
    _set(cache, T0 + 2 * HOUR, "enterprise", "e-2")  # written through: in memory at once
    assert cache.fields_and_event_stamps("acme", T0 + 2 * HOUR) == ({"plan": "enterprise"}, [("signed", T0)])
    _set(cache, T0 + HOUR, "trial", "e-3")  # older than the latest kept: the history is read again
    assert cache.fields_at("acme", T0 + HOUR) == {"plan": "trial"}
    assert cache.fields_at("acme", T0 + 2 * HOUR) == {"plan": "enterprise"}
    assert cache.fields_and_event_stamps("acme", T0 + 3 * HOUR) == store.fields_and_event_stamps(
        "acme", T0 + 3 * HOUR)


def test_journeys_entered_and_ended_through_the_cache_are_seen_at_once(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PRIVATE_STORE)
    assert cache.active_journeys("acme") == []
    cache.journey_entered_logged("journey/onboarding/acme", "r1", "onboarding", "acme", "v1", T0, _entered(T0))
    found = cache.active_journey("onboarding", "acme")
    assert found is not None and found.entered_at == T0
    cache.journey_ended_logged("journey/onboarding/acme", "r1", T0 + HOUR, "completed", None, [],
                               ActionRecord(at=T0 + HOUR, account="acme", playbook="onboarding",
                                            kind="completed", data={}, key="k-end"))
    assert cache.active_journeys("acme") == []
    assert store.active_journeys("acme") == []


def test_condition_states_and_scores_are_written_through_in_time_order(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PRIVATE_STORE)
    assert cache.score_at("acme", "health", T0 + 3 * HOUR) is None
    assert cache.get_condition("acme", "trigger:x") is None
    late = ScoreState(name="health", value=90.0, band="green")
    early = ScoreState(name="health", value=20.0, band="red")
    cache.record_score("acme", late, T0 + 2 * HOUR)
    cache.record_score("acme", early, T0 + HOUR)  # recorded after, dated before
    cache.set_condition("acme", "trigger:x", False, T0 + HOUR)
    for reads in (cache, store):
        assert reads.score_at("acme", "health", T0 + 90 * timedelta(minutes=1)) == early
        assert reads.score_at("acme", "health", T0 + 3 * HOUR) == late
        assert reads.get_condition("acme", "trigger:x") is False
        assert reads.condition_since("acme", "trigger:x") == T0 + HOUR


def test_a_runs_scores_and_condition_states_are_written_together_at_its_flush(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    cache.begin_run({"acme"}, T0 + 2 * HOUR)
    cache.set_condition("acme", "trigger:x", False, T0 + HOUR)
    cache.set_condition("acme", "trigger:x", True, T0 + 2 * HOUR)
    cache.set_condition("acme", "trigger:y", None, T0 + HOUR)
    health = ScoreState(name="health", value=40.0, band="yellow")
    cache.record_score("acme", health, T0 + HOUR)
    assert cache.score_at("acme", "health", T0 + 2 * HOUR) == health
    assert store.score_at("acme", "health", T0 + 2 * HOUR) is None  # not written yet
    assert cache.get_condition("acme", "trigger:x") is True
    assert cache.condition_since("acme", "trigger:x") == T0 + 2 * HOUR
    assert store.get_condition("acme", "trigger:x") is None  # not written yet
    cache.flush_cards()
    assert store.get_condition("acme", "trigger:x") is True
    assert store.condition_since("acme", "trigger:x") == T0 + 2 * HOUR
    assert store.condition_since("acme", "trigger:y") == T0 + HOUR
    assert store.score_at("acme", "health", T0 + 2 * HOUR) == health
    cache.end_run()


def test_scores_and_condition_states_of_a_rolled_back_run_are_not_written_after_it(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    cache.begin_run({"acme"}, T0 + 2 * HOUR)
    cache.set_condition("acme", "trigger:x", True, T0 + HOUR)
    cache.record_score("acme", ScoreState(name="health", value=40.0, band="yellow"), T0 + HOUR)
    cache.drop_writes()
    cache.end_run()
    assert store.condition_since("acme", "trigger:x") is None
    assert store.score_history("acme", "health") == []


def test_a_per_run_cache_reads_an_accounts_history_once_and_adds_each_runs_changes(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    cache.begin_run({"acme"}, T0)
    cache.end_run()
    for hour in range(1, 4):
        change = store.add_change("acme", T0 + hour * HOUR, event="login", data={}, traits={"seats": hour},
                                  event_id=f"login-{hour}")
        assert change is not None
        cache.begin_run({"acme"}, change.at, [change])
        assert cache.fields_at("acme", change.at) == {"plan": "smb", "seats": hour}
        assert [name for name, _ in cache.event_stamps_until("acme", change.at)] == ["signed"] + ["login"] * hour
        cache.end_run()
    assert cache.histories.reads == 1


def test_a_change_another_process_stored_has_the_history_read_again_at_the_next_run(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    cache.begin_run({"acme"}, T0)
    cache.end_run()
    _set(store, T0 + HOUR, "enterprise", "e-2")  # not handed to the run: stored by someone else
    cache.begin_run({"acme"}, T0 + HOUR)
    assert cache.fields_at("acme", T0 + HOUR) == {"plan": "enterprise"}
    assert cache.fields_at("acme", T0) == {"plan": "smb"}
    assert cache.histories.reads == 2


def test_a_change_out_of_time_order_has_the_history_read_again(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    _set(store, T0 + 2 * HOUR, "enterprise", "e-2")
    cache.begin_run({"acme"}, T0 + 2 * HOUR)
    cache.end_run()
    late = store.add_change("acme", T0 + HOUR, event=None, data={}, traits={"plan": "trial"}, event_id="e-3")
    assert late is not None
    cache.begin_run({"acme"}, T0 + 2 * HOUR, [late])
    assert cache.fields_at("acme", T0 + HOUR) == {"plan": "trial"}
    assert cache.fields_at("acme", T0 + 2 * HOUR) == {"plan": "enterprise"}
    assert cache.histories.reads == 2


def test_an_event_without_traits_another_process_stored_has_the_history_read_again(
        store: Store, tmp_path: Path) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    cache.begin_run({"acme"}, T0 + HOUR)
    cache.end_run()
    other = Store.open(sqlite_url(tmp_path / "store.db"))  # a second process on the same store
    try:
        other.add_change("acme", T0 + HOUR, event="login", data={"n": 1}, traits={}, event_id="l-1")
    finally:
        other.close()
    cache.begin_run({"acme"}, T0 + HOUR)
    assert cache.events_until("acme", T0 + HOUR) == [("signed", T0, {}), ("login", T0 + HOUR, {"n": 1})]
    assert cache.histories.reads == 2


def test_a_new_account_whose_changes_are_all_in_the_run_is_built_from_them_not_read(store: Store) -> None:
    stored = store.add_changes([
        NewChange(account="beta", at=T0, event="signed", data={"by": "web"}, traits={"plan": "trial"}, event_id="b-1"),
        NewChange(account="beta", at=T0 + HOUR, event="login", data={}, traits={"seats": 3}, event_id="b-2")])
    run = [change for change in stored if change is not None]
    building = AccountHistories(store)
    built = building.for_run(["beta"], run)["beta"]
    assert building.reads == 0
    read = AccountHistories(store).for_run(["beta"])["beta"]
    assert (built.traits, built.fields, built.latest, list(built.seqs)) == (
        read.traits, read.fields, read.latest, list(read.seqs))
    assert [(name, at, event_data(data)) for name, at, data in built.events] == [
        (name, at, event_data(data)) for name, at, data in read.events]
    histories = AccountHistories(store)
    histories.for_run(["beta"], run[1:])  # the run does not hold the sign-up: read
    assert histories.reads == 1


def _counters(store: Store) -> tuple[dict[str, int], dict[str, int]]:
    """Each account's change counter, and its events counted."""
    with store.database.read() as conn:
        kept = {row.id: row.changes for row in conn.execute(select(accounts.c.id, accounts.c.changes))}
        counted = {row.account: row.n for row in conn.execute(
            select(events.c.account, func.count().label("n")).group_by(events.c.account))}
    return kept, counted


def test_the_stores_change_counter_is_each_accounts_number_of_changes(store: Store) -> None:
    _check_change_counter(store)


def test_the_stores_change_counter_is_each_accounts_number_of_changes_on_postgresql(pg_store: Store) -> None:
    pg_store.add_change("acme", T0, event="signed", data={}, traits={"plan": "smb"}, event_id="e-1")
    _check_change_counter(pg_store)


def _check_change_counter(store: Store) -> None:
    store.add_change("acme", T0 + HOUR, event="login", data={}, traits={}, event_id="l-1")  # no trait
    store.add_change("acme", T0 + HOUR, event="login", data={}, traits={}, event_id="l-1")  # repeated id
    store.add_change("acme", T0 - HOUR, event=None, data={}, traits={"plan": "trial"}, event_id="late")  # late
    store.add_changes([NewChange(account=name, at=T0, event="seen", data={}, traits={"seats": n}, event_id=f"s-{n}")
                       for n, name in enumerate(["acme", "beta", "beta", "gamma"])])
    kept, counted = _counters(store)
    assert kept == counted == {"acme": 4, "beta": 2, "gamma": 1}
    store.forget_account("beta", T0 + HOUR)
    kept, counted = _counters(store)
    assert kept == counted == {"acme": 4, "gamma": 1}
    assert store.change_counts_of(["acme", "beta", "gamma"]) == {"acme": 4, "gamma": 1}


def test_histories_beyond_the_memory_kept_are_forgotten_least_recently_routed_first(store: Store) -> None:
    store.add_change("beta", T0, event="signed", data={}, traits={"plan": "trial"}, event_id="b-1")
    histories = AccountHistories(store, keep_bytes=ACCOUNT_BYTES + 2 * ROW_BYTES)  # one history of two rows
    histories.for_run(["acme"])
    histories.for_run(["beta"])  # two rows each: acme, routed before, is forgotten
    assert len(histories) == 1 and histories.reads == 2
    histories.for_run(["beta"])
    assert histories.reads == 2
    histories.for_run(["acme"])
    assert histories.reads == 3


def _cards(store: Store) -> dict[str, dict[str, object]]:
    with store.database.read() as conn:
        return {row.account: row._asdict() for row in conn.execute(select(account_cards))}


def test_a_runs_score_changes_reach_the_cards_at_its_end_as_a_rebuild_has_them(store: Store) -> None:
    store.add_change("globex", T0, event="signed", data={}, traits={"plan": "smb"}, event_id="e-g")
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    cache.begin_run({"acme", "globex"}, T0 + 3 * HOUR)
    cache.record_score("acme", ScoreState(name="adoption", value=1.0, band="red"), T0 + HOUR)
    cache.record_score("acme", ScoreState(name="health", value=90.0, band="green"), T0 + 2 * HOUR)
    cache.record_score("acme", ScoreState(name="health", value=20.0, band="red"), T0 + HOUR)  # late: not shown
    cache.record_score("acme", ScoreState(name="adoption", value=5.0, band="green"), T0 + 3 * HOUR)  # not primary
    cache.record_score("globex", ScoreState(name="adoption", value=7.0, band="yellow"), T0 + HOUR)
    assert _cards(store)["acme"]["score_name"] is None  # the run is under way
    cache.end_run()
    cards = _cards(store)
    assert [(cards[a]["score_name"], cards[a]["score"], cards[a]["band"]) for a in ("acme", "globex")] == [
        ("health", 90.0, "green"), ("adoption", 7.0, "yellow")]
    with store.database.write() as conn:
        rebuild_cards(conn)
    assert _cards(store) == cards


def test_a_score_recorded_outside_a_run_reaches_the_card_at_once(store: Store) -> None:
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    cache.record_score("acme", ScoreState(name="health", value=40.0, band="yellow"), T0)
    assert (_cards(store)["acme"]["score_name"], _cards(store)["acme"]["band"]) == ("health", "yellow")


def test_a_run_reads_each_scores_latest_recording_and_the_whole_history_when_asked_before_it(store: Store) -> None:
    states = [ScoreState(name="health", value=float(value), band="red") for value in (10, 20, 30)]
    for hours, state in enumerate(states):
        store.record_score("acme", state, T0 + hours * HOUR)
    cache = AccountCache(store, lifetime=Lifetime.PER_RUN)
    cache.begin_run({"acme"}, T0 + 5 * HOUR, scored={"acme"})
    assert cache.score_at("acme", "health", T0 + 4 * HOUR) == states[2]
    assert cache.score_at("acme", "adoption", T0 + 4 * HOUR) is None
    assert cache.score_at("acme", "health", T0 + 90 * timedelta(minutes=1)) == states[1]  # before the latest
    assert cache.score_at("acme", "health", T0 - HOUR) is None
    cache.end_run()
    cache.begin_run({"acme"}, T0 + 5 * HOUR, scored={"acme"})
    late = ScoreState(name="health", value=15.0, band="red")
    cache.record_score("acme", late, T0 + 30 * timedelta(minutes=1))  # recorded now, dated before the latest
    for at in (T0 + 40 * timedelta(minutes=1), T0 + 4 * HOUR):
        assert cache.score_at("acme", "health", at) == store.score_at("acme", "health", at)
