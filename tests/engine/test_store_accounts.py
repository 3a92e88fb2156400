"""Accounts, events and trait history in the store: what goes in comes out, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.records import TaskRecord
from engine.store import NewChange, Store, StoreUnavailable

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_change_round_trips_with_its_event_and_traits(store: Store) -> None:
    change = store.add_change("techcorp", T0, event="signed", data={"plan": "pro"},
                              traits={"segment": "smb", "arr": 18000}, event_id="e-1")
    assert change is not None
    assert change.seq >= 1
    assert (change.account, change.at, change.event, change.event_id) == ("techcorp", T0, "signed", "e-1")
    assert change.traits == {"segment": "smb", "arr": 18000}
    assert change.previous == {}
    assert store.account_ids() == ["techcorp"]
    assert store.current_fields("techcorp") == {"segment": "smb", "arr": 18000}
    assert store.events_until("techcorp", T0) == [("signed", T0, {"plan": "pro"})]


def test_the_same_event_id_is_stored_once(store: Store) -> None:
    first = store.add_change("techcorp", T0, event="login", data={}, traits={"arr": 1}, event_id="e-1")
    again = store.add_change("techcorp", T0 + timedelta(hours=1), event="login", data={},
                             traits={"arr": 2}, event_id="e-1")
    assert first is not None
    assert again is None
    assert store.current_fields("techcorp") == {"arr": 1}
    assert len(store.events_until("techcorp", T0 + timedelta(days=1))) == 1


def test_changes_without_an_id_are_each_stored(store: Store) -> None:
    for _ in range(2):
        assert store.add_change("a", T0, event="login", data={}, traits={}, event_id=None) is not None
    assert len(store.events_until("a", T0)) == 2


def test_only_changed_traits_are_reported_with_their_previous_values(store: Store) -> None:
    store.add_change("a", T0, event=None, data={}, traits={"arr": 1000, "segment": "smb"}, event_id=None)
    change = store.add_change("a", T0 + timedelta(hours=1), event=None, data={},
                              traits={"arr": 1000, "segment": "mid_market", "nps": 9}, event_id=None)
    assert change is not None
    assert change.traits == {"segment": "mid_market", "nps": 9}
    assert change.previous == {"segment": "smb"}


def test_a_boolean_is_not_the_same_value_as_a_number(store: Store) -> None:
    store.add_change("a", T0, event=None, data={}, traits={"flag": 1}, event_id=None)
    change = store.add_change("a", T0, event=None, data={}, traits={"flag": True}, event_id=None)
    assert change is not None and change.traits == {"flag": True}


def test_null_clears_a_field(store: Store) -> None:
    store.add_change("a", T0, event=None, data={}, traits={"nps": 8}, event_id=None)
    change = store.add_change("a", T0 + timedelta(days=1), event=None, data={}, traits={"nps": None},
                              event_id=None)
    assert change is not None
    assert change.traits == {"nps": None} and change.previous == {"nps": 8}
    assert "nps" not in store.current_fields("a")
    assert store.fields_at("a", T0) == {"nps": 8}
    assert store.fields_at("a", T0 + timedelta(days=2)) == {}


def test_clearing_a_missing_field_changes_nothing(store: Store) -> None:
    change = store.add_change("a", T0, event=None, data={}, traits={"nps": None}, event_id=None)
    assert change is not None and change.traits == {} and change.previous == {}


def test_fields_at_reads_the_history_at_a_logical_time(store: Store) -> None:
    store.add_change("a", T0, event=None, data={}, traits={"arr": 1, "segment": "smb"}, event_id=None)
    store.add_change("a", T0 + timedelta(days=2), event=None, data={}, traits={"arr": 2}, event_id=None)
    store.add_change("a", T0 + timedelta(days=4), event=None, data={}, traits={"arr": 3}, event_id=None)
    assert store.fields_at("a", T0 - timedelta(seconds=1)) == {}
    assert store.fields_at("a", T0) == {"arr": 1, "segment": "smb"}
    assert store.fields_at("a", T0 + timedelta(days=3)) == {"arr": 2, "segment": "smb"}
    assert store.fields_at("a", T0 + timedelta(days=9)) == {"arr": 3, "segment": "smb"}
    assert store.fields_at("unknown", T0) == {}


def test_an_older_value_arriving_late_goes_to_history_but_not_to_the_present(store: Store) -> None:
    store.add_change("a", T0, event=None, data={}, traits={"arr": 1}, event_id=None)
    store.add_change("a", T0 + timedelta(days=4), event=None, data={}, traits={"arr": 3}, event_id=None)
    late = store.add_change("a", T0 + timedelta(days=2), event=None, data={}, traits={"arr": 2},
                            event_id=None)
    assert late is not None and late.traits == {}
    assert store.current_fields("a") == {"arr": 3}
    assert store.fields_at("a", T0 + timedelta(days=3)) == {"arr": 2}
    assert store.fields_at("a", T0 + timedelta(days=5)) == {"arr": 3}


def test_events_until_filters_by_time_and_name_in_time_order(store: Store) -> None:
    store.add_change("a", T0 + timedelta(days=2), event="login", data={"n": 2}, traits={}, event_id=None)
    store.add_change("a", T0, event="login", data={"n": 1}, traits={}, event_id=None)
    store.add_change("a", T0 + timedelta(days=1), event="signed", data={}, traits={}, event_id=None)
    store.add_change("a", T0, event=None, data={}, traits={"arr": 1}, event_id=None)
    store.add_change("b", T0, event="login", data={}, traits={}, event_id=None)
    assert [(n, d) for n, _, d in store.events_until("a", T0 + timedelta(days=1))] == [
        ("login", {"n": 1}), ("signed", {})
    ]
    assert [d for _, _, d in store.events_until("a", T0 + timedelta(days=5), {"login"})] == [
        {"n": 1}, {"n": 2}
    ]


def test_times_come_back_in_utc_whatever_offset_went_in(store: Store) -> None:
    from datetime import timezone

    berlin = T0.astimezone(timezone(timedelta(hours=1)))
    change = store.add_change("a", berlin, event="login", data={}, traits={}, event_id=None)
    assert change is not None and change.at == T0 and change.at.tzinfo == UTC
    assert store.events_until("a", T0)[0][1].utcoffset() == timedelta(0)


def test_a_set_statement_is_recorded_with_its_source(store: Store) -> None:
    change = store.add_change("a", T0, event=None, data={}, traits={"stage": "rescue"}, event_id=None,
                              source="playbook:smb_onboarding")
    assert change is not None and change.source == "playbook:smb_onboarding"


def _task(id: str, playbook: str) -> TaskRecord:
    return TaskRecord(id=id, account="a", playbook=playbook, title="Call", owner="sam@vendor.example",
                      due=None, priority="high", created_at=T0)


def test_a_task_completed_event_closes_that_playbooks_open_tasks_in_the_same_change(store: Store) -> None:
    store.create_task(_task("t1", "renewal"), "k1", None)
    store.create_task(_task("t2", "renewal"), "k2", None)
    store.create_task(_task("t3", "health_red"), "k3", None)
    change = store.add_change("a", T0 + timedelta(hours=2), event="task_completed",
                              data={"playbook": "renewal"}, traits={}, event_id="done-1")
    assert change is not None and change.closed_tasks == ["t1", "t2"]
    assert [t.id for t in store.tasks(status="open")] == ["t3"]
    closed = store.task("t1")
    assert closed is not None and closed.completed_at == T0 + timedelta(hours=2)


def test_a_task_completed_event_closes_one_task_by_id(store: Store) -> None:
    store.create_task(_task("t1", "renewal"), "k1", None)
    store.create_task(_task("t2", "renewal"), "k2", None)
    change = store.add_change("a", T0, event="task_completed", data={"task": "t2"}, traits={},
                              event_id=None)
    assert change is not None and change.closed_tasks == ["t2"]
    assert [t.id for t in store.tasks(status="open")] == ["t1"]


def test_unsubscribed_and_bounced_events_suppress_the_address(store: Store) -> None:
    store.add_change("a", T0, event="unsubscribed", data={"email": "Ana@TechCorp.example"}, traits={},
                     event_id=None)
    store.add_change("a", T0, event="bounced", data={"email": "bob@techcorp.example"}, traits={},
                     event_id=None)
    assert store.suppression("ana@techcorp.example") == "unsubscribed"
    assert store.suppression("bob@techcorp.example") == "bounced"
    assert store.suppression("cy@techcorp.example") is None


def test_a_batch_of_changes_is_stored_in_order_and_a_repeated_id_counts_once(store: Store) -> None:
    stored = store.add_changes([
        NewChange(account="a", at=T0, event="signed", event_id="e-1"),
        NewChange(account="b", at=T0, traits={"arr": 1}, event_id="e-2"),
        NewChange(account="a", at=T0, event="signed", event_id="e-1"),
        NewChange(account="a", at=T0 + timedelta(hours=1), traits={"arr": 2}),
    ])
    assert [None if c is None else (c.account, c.event, c.traits) for c in stored] == [
        ("a", "signed", {}), ("b", None, {"arr": 1}), None, ("a", None, {"arr": 2})
    ]
    assert [c.seq for c in stored if c is not None] == sorted(c.seq for c in stored if c is not None)
    assert store.add_changes([NewChange(account="a", at=T0, event="signed", event_id="e-1")]) == [None]


def test_opening_a_file_in_a_missing_folder_creates_the_folder(tmp_path: Path) -> None:
    opened = Store.open(f"sqlite:///{tmp_path / 'state' / 'deeper' / 'store.db'}")
    try:
        assert opened.schema_is_current()
    finally:
        opened.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url", "is not a database URL"),
        ("nosuchdb://host/x", "cannot open the store at nosuchdb://host/x"),
        ("mysql://host/x", "the store runs on SQLite (sqlite:///state/store.db) or PostgreSQL"),
        ("sqlite:////proc/no/store.db", "cannot open the store at sqlite:////proc/no/store.db"),
    ],
)
def test_a_store_that_cannot_be_opened_says_which_and_why(url: str, reason: str) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        Store.open(url)
    assert reason in str(caught.value)
