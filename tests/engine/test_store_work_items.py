"""Deduped work items in the store: one open item per account, type and reason, under races too;
a second trigger updates the open item and binds its journey; closing takes an outcome and frees
the slot for a new item. On SQLite and, when it is given, on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.records import TaskRecord
from engine.store import Store
from tests.stores import POSTGRES_URL, sqlite_url, wipe

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("PLAYBOOK_TEST_POSTGRES_URL is not set (bash .ci/postgres.sh starts a server)")
        wipe(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = sqlite_url(tmp_path / "store.db")
    store = Store.open(url)
    yield store
    store.close()


def _item(id: str, playbook: str, *, due: datetime | None = None, priority: str = "normal",
          reason: str = "low_usage") -> TaskRecord:
    return TaskRecord(id=id, account="acme", playbook=playbook, title=f"Risk from {playbook}",
                      owner="sam@vendor.example", due=due, priority=priority, created_at=T0, task_type="risk",
                      reason=reason)


def test_a_second_trigger_updates_the_open_item_and_binds_its_journey(any_store: Store) -> None:
    first, opened = any_store.open_work_item(_item("t1", "usage", due=T0 + timedelta(days=3)), "k1",
                                             "journey/usage/acme")
    second, updated = any_store.open_work_item(
        _item("t2", "health", due=T0 + timedelta(days=1), priority="urgent"), "k2", "journey/health/acme")
    again, seen = any_store.open_work_item(_item("t2", "health"), "k2", "journey/health/acme")
    assert (opened, updated, seen) == ("created", "updated", "seen")
    assert first.id == second.id == again.id == "t1"
    assert (second.due, second.priority) == (T0 + timedelta(days=1), "urgent")  # the earlier, the higher
    assert [binding.playbook for binding in second.bound] == ["health"]
    assert second.waiting_playbooks() == ["usage", "health"]
    assert [task.id for task in any_store.tasks(account="acme")] == ["t1"]


def test_another_reason_opens_another_item(any_store: Store) -> None:
    any_store.open_work_item(_item("t1", "usage"), "k1", None)
    _other, opened = any_store.open_work_item(_item("t2", "usage", reason="no_login"), "k2", None)
    assert opened == "created"
    assert [item.reason for item in any_store.open_work_items("acme")] == ["low_usage", "no_login"]


def test_closing_with_an_outcome_keeps_it_and_frees_the_slot_for_a_new_item(any_store: Store) -> None:
    any_store.open_work_item(_item("t1", "usage"), "k1", None)
    [closed] = any_store.complete_tasks("acme", T0 + timedelta(days=1), task_id="t1", outcome="resolved")
    assert (closed.status, closed.outcome) == ("done", "resolved")
    stored = any_store.task("t1")
    assert stored is not None and stored.outcome == "resolved"
    _new, opened = any_store.open_work_item(_item("t3", "usage"), "k3", None)
    assert opened == "created"
    assert [item.id for item in any_store.open_work_items("acme")] == ["t3"]


def test_two_triggers_racing_open_one_item(any_store: Store) -> None:
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def trigger(n: int) -> None:
        try:
            start.wait()
            item, opened = any_store.open_work_item(_item(f"t{n}", f"playbook{n}"), f"k{n}", f"journey/{n}")
            results.append(f"{opened}:{item.id}")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=trigger, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    [item] = any_store.tasks(account="acme")
    assert sorted(result.split(":")[0] for result in results) == ["created"] + ["updated"] * 7
    assert {result.split(":")[1] for result in results} == {item.id}
    assert len(item.bound) == 7


TEAM = ("ana@vendor.example", "ben@vendor.example", "cy@vendor.example")


def _unassigned(id: str, account: str) -> TaskRecord:
    return TaskRecord(id=id, account=account, playbook="welcome", title="Welcome call", owner="", due=None,
                      priority="normal", created_at=T0)


def test_round_robin_gives_each_member_a_turn_even_when_assignments_race(any_store: Store) -> None:
    owners: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def assign(n: int) -> None:
        try:
            start.wait()
            done = any_store.assign_task(_unassigned(f"t{n}", f"a{n}"), f"k{n}", None, team="smb", members=TEAM,
                                         rule="round_robin")
            owners.append(done.task.owner)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=assign, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(owners) == sorted(TEAM * 2)  # two turns each, whatever the order
    again = any_store.assign_task(_unassigned("t0", "a0"), "k0", None, team="smb", members=TEAM, rule="round_robin")
    assert again.opened == "seen"  # a retried activity assigns nothing again


def test_least_loaded_picks_the_member_with_the_fewest_open_tasks_first_in_order_on_a_tie(any_store: Store) -> None:
    for n, owner in enumerate(("ana@vendor.example", "ana@vendor.example", "ben@vendor.example")):
        any_store.create_task(_unassigned(f"o{n}", "x").model_copy(update={"owner": owner}), f"ko{n}", None)
    first = any_store.assign_task(_unassigned("t1", "a"), "k1", None, team="smb", members=TEAM, rule="least_loaded")
    second = any_store.assign_task(_unassigned("t2", "b"), "k2", None, team="smb", members=TEAM, rule="least_loaded")
    assert (first.task.owner, first.task.team) == ("cy@vendor.example", "smb")
    assert first.reads == {"open_tasks": {"ana@vendor.example": 2, "ben@vendor.example": 1, "cy@vendor.example": 0}}
    assert second.task.owner == "ben@vendor.example"  # ben and cy have one each: ben comes first
