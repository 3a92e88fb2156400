"""The statements a journey runs on the driver's cursor read and write what SQLAlchemy's column
types read and write, on SQLite (a file and in memory) and on PostgreSQL (when
`PLAYBOOK_TEST_POSTGRES_URL` is set; `bash .ci/postgres.sh` starts one)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.records import ActionRecord
from engine.store import Store
from engine.store.outbox import SendOutcome
from engine.store.schema import actions, journeys, messages
from tests.stores import POSTGRES_URL, wipe

T0 = datetime(2026, 3, 2, 9, 30, 15, 250_000, tzinfo=UTC)

# Every shape of value a trait may hold, the awkward ones among them.
VALUES: dict[str, Any] = {
    "name": "Initech", "looks_numeric": "42", "looks_null": "null", "quoted": '"x"', "empty": "",
    "unicode": "Zoë ☕", "count": 7, "ratio": 0.25, "big": 10**15, "yes": True, "no": False,
    "nested": {"email": "ana@initech.example", "tags": ["a", 1, None]}, "items": [1, "two", {"three": 3}],
}



@pytest.fixture(params=["sqlite-file", "sqlite-memory", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("PLAYBOOK_TEST_POSTGRES_URL is not set (bash .ci/postgres.sh starts a server)")
        wipe(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite-file" else "sqlite://"
    opened = Store.open(url)
    yield opened
    opened.close()


def test_a_snapshot_reads_every_kind_of_field_value_as_it_was_stored(store: Store) -> None:
    store.add_change("a", T0, event=None, data={}, traits=VALUES, event_id="t-1")
    store.add_change("a", T0 + timedelta(hours=1), event="signed", data={"plan": "pro"}, traits={"count": 8},
                     event_id="e-1")
    store.add_change("a", T0 + timedelta(hours=2), event=None, data={}, traits={"name": None}, event_id="t-2")
    fields, stamps = store.fields_and_event_stamps("a", T0 + timedelta(hours=1))
    assert fields == {**VALUES, "count": 8}
    assert [type(fields[name]) for name in ("looks_numeric", "count", "ratio", "yes")] == [str, int, float, bool]
    assert stamps == [("signed", T0 + timedelta(hours=1))]
    assert stamps[0][1].tzinfo is not None
    later, _ = store.fields_and_event_stamps("a", T0 + timedelta(hours=2))
    assert "name" not in later  # a field set to null is gone from then on
    assert later == {name: value for name, value in store.current_fields("a").items()}
    assert store.fields_and_event_stamps("a", T0 - timedelta(microseconds=1)) == ({}, [])
    assert store.fields_and_event_stamps("nobody", T0) == ({}, [])


def test_a_snapshot_reads_up_to_the_microsecond(store: Store) -> None:
    store.add_change("a", T0, event="signed", data={}, traits={"count": 1}, event_id="e-1")
    assert store.fields_and_event_stamps("a", T0 - timedelta(microseconds=1)) == ({}, [])
    assert store.fields_and_event_stamps("a", T0) == ({"count": 1}, [("signed", T0)])


def _outcome(store: Store, key: str, at: datetime, to: str | None = "ana@a.example", *,
             defer: bool = False) -> SendOutcome:
    return store.record_message_logged(
        account="a", playbook="onboarding", channel="email", template="welcome", to=to, subject="Hi ☕",
        text="Hello\n", html=None, at=at, key=key, cap_count=2, cap_seconds=86400, defer=defer,
        logged=lambda status, reason: ActionRecord(
            at=at, account="a", playbook="onboarding", kind="deferred" if status == "deferred" else "email",
            data={"status": status, "reason": reason, "due": at}, key=f"{key}/{status}/{at.isoformat()}"
            if status == "deferred" else key))


def _send(store: Store, key: str, at: datetime, to: str | None = "ana@a.example") -> tuple[str, str | None, bool]:
    outcome = _outcome(store, key, at, to)
    return outcome.status, outcome.reason, outcome.delivered


def test_over_the_cap_a_deferred_send_records_nothing_and_learns_when_the_cap_frees_a_slot(store: Store) -> None:
    assert _outcome(store, "k1", T0).status == "sent"
    assert _outcome(store, "k2", T0 + timedelta(hours=1)).status == "sent"
    deferred = _outcome(store, "k3", T0 + timedelta(hours=2), defer=True)
    # at most 2 per day: the first send leaves the window a day after it went
    assert deferred == SendOutcome("deferred", "frequency cap: at most 2 emails per 1 day", False,
                                   T0 + timedelta(days=1))
    assert [m.key for m in store.messages("a")] == ["k1", "k2"]
    logged = [a for a in store.actions("a") if a.kind == "deferred"]
    assert [a.data["until"] for a in logged] == [(T0 + timedelta(days=1)).isoformat()]
    # the same step, tried again at that moment, goes out under its own key
    assert _outcome(store, "k3", T0 + timedelta(days=1), defer=True) == SendOutcome("sent", None, False)
    # without `defer`, over the cap is suppressed as before
    assert _outcome(store, "k4", T0 + timedelta(days=1, minutes=1)).status == "suppressed"


def test_a_send_is_decided_recorded_and_logged_as_the_column_types_store_it(store: Store) -> None:
    assert _send(store, "k1", T0) == ("sent", None, False)
    assert _send(store, "k1", T0) == ("sent", None, False)  # the same key: its first outcome
    assert _send(store, "k2", T0 + timedelta(hours=1)) == ("sent", None, False)
    assert _send(store, "k3", T0 + timedelta(hours=2))[:2] == (
        "suppressed", "frequency cap: at most 2 emails per 1 day")
    assert _send(store, "k4", T0 + timedelta(days=1, microseconds=1)) == ("sent", None, False)  # k1 is out of the day
    store.mark_delivered("k4", T0 + timedelta(days=1, seconds=1))
    assert _send(store, "k4", T0 + timedelta(days=1, microseconds=1)) == ("sent", None, True)
    store.suppress("Ana@A.example", "unsubscribed", T0)
    assert _send(store, "k5", T0 + timedelta(days=3))[:2] == ("suppressed", "unsubscribed")
    rows = store.messages("a")
    assert [(m.key, m.status, m.at, m.subject) for m in rows][:2] == [("k1", "sent", T0, "Hi ☕"),
                                                                      ("k2", "sent", T0 + timedelta(hours=1), "Hi ☕")]
    logged = [a for a in store.actions("a") if a.kind == "email"]
    assert [a.key for a in logged] == ["k1", "k2", "k3", "k4", "k5"]
    assert logged[0].data == {"status": "sent", "reason": None, "due": T0.isoformat()}
    assert logged[0].at == T0
    with store.database.engine.connect() as conn:  # read back through SQLAlchemy's column types
        at = conn.execute(select(messages.c.at).where(messages.c.key == "k1")).scalar_one()
        logged_at = conn.execute(select(actions.c.at).where(actions.c.key == "k1")).scalar_one()
    assert at == logged_at == T0


def test_entering_and_ending_a_journey_are_recorded_once(store: Store) -> None:
    enrolled = ActionRecord(at=T0, account="a", playbook="p", kind="enrolled", data={"reason": "event signed"},
                            key="w/r/enter")
    store.journey_entered_logged("w", "r", "p", "a", "v1", T0, enrolled)
    store.journey_entered_logged("w", "r", "p", "a", "v2", T0 + timedelta(hours=1), enrolled)
    [active] = store.active_journeys("a")
    assert (active.version, active.entered_at, active.status) == ("v1", T0, "active")
    ended = ActionRecord(at=T0 + timedelta(days=1), account="a", playbook="p", kind="completed", key="w/r/end")
    store.journey_ended_logged("w", "r", T0 + timedelta(days=1), "completed", None, [], ended)
    store.journey_ended_logged("w", "r", T0 + timedelta(days=2), "exited", "late", [], ended)
    assert store.active_journeys("a") == []
    with store.database.engine.connect() as conn:
        row = conn.execute(select(journeys.c.status, journeys.c.ended_at, journeys.c.reason)).one()
    assert tuple(row) == ("completed", T0 + timedelta(days=1), None)
    assert [a.kind for a in store.actions("a")] == ["enrolled", "completed"]


def test_an_action_without_a_key_is_logged_every_time(store: Store) -> None:
    note = ActionRecord(at=T0, account="a", playbook=None, kind="note", data={})
    assert store.log_action(note) and store.log_action(note)
    assert store.log_actions([note, note.model_copy(update={"key": "k"}), note.model_copy(update={"key": "k"})]) == [
        True, True, False]
    assert len(store.actions("a")) == 4
