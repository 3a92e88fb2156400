"""The journeys', split arms' and tasks' counts kept as they change (`engine.store.playbook_tallies`,
`engine.store.task_tallies`) equal a recount from the journeys, the log and the tasks: after a
mixed run, after erasure, with writers at once, and when migration 0013 fills them on a store
that has data. On SQLite, and on PostgreSQL
when `PLAYBOOK_TEST_POSTGRES_URL` is set."""

from __future__ import annotations

import statistics
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select

from engine.records import ActionRecord, TaskRecord
from engine.store import Store
from engine.store.migrate import alembic_config
from engine.store.playbook_tallies import recount
from engine.store.schema import tasks
from engine.store.task_tallies import TaskTally, recount_tasks, task_path
from tests.stores import NO_POSTGRES, POSTGRES_URL, sqlite_url, wipe

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
ARMS = ("control", "offer")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: a SQLite file, then PostgreSQL when `PLAYBOOK_TEST_POSTGRES_URL` is set."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip(NO_POSTGRES)
        wipe(POSTGRES_URL)
        return POSTGRES_URL
    return sqlite_url(tmp_path / "store.db")


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    opened = Store.open(url)
    yield opened
    opened.close()


def _enter(store: Store, playbook: str, account: str, run: str, version: str = "v1") -> None:
    workflow = f"journey/{playbook}/{account}"
    store.journey_entered_logged(workflow, run, playbook, account, version, NOW, ActionRecord(
        at=NOW, account=account, playbook=playbook, kind="enrolled", data={"version": version},
        key=f"{workflow}/{run}/enter"))


def _split(store: Store, playbook: str, account: str, run: str, arm: str, n: int = 0) -> None:
    store.log_action(ActionRecord(at=NOW, account=account, playbook=playbook, kind="decided",
                                  data={"what": "split", "outcome": arm, "subject": f"arm {arm} (50%)"},
                                  key=f"journey/{playbook}/{account}/{run}/day 0/1/split/{n}"))


def _end(store: Store, playbook: str, account: str, run: str, status: str, reason: str | None = None) -> None:
    workflow = f"journey/{playbook}/{account}"
    store.journey_ended_logged(workflow, run, NOW + timedelta(days=1), status, reason, [], ActionRecord(
        at=NOW + timedelta(days=1), account=account, playbook=playbook, kind="ended",
        data={"status": status}, key=f"{workflow}/{run}/end"))


def _kept(store: Store) -> tuple[Counter[tuple[str, str, str, str | None]], Counter[tuple[str, str, str, str]]]:
    journeys = Counter({(r.playbook, r.version, r.status, r.reason): r.n for r in store.journey_tallies()})
    arms = Counter({(r.playbook, r.path, r.label, r.status): r.n for r in store.arm_tallies(["trial", "renewal"])})
    return journeys, arms


def _by_hand(store: Store) -> tuple[Counter[tuple[str, str, str, str | None]], Counter[tuple[str, str, str, str]]]:
    """The counts from every journey and every split decision, one by one."""
    rows = store.journeys()
    journeys: Counter[tuple[str, str, str, str | None]] = Counter(
        (row.playbook, row.version, str(row.status), row.reason or None) for row in rows)
    status = {(row.workflow_id, row.run_id): row.status for row in rows}
    arms: Counter[tuple[str, str, str, str]] = Counter()
    for action in store.actions():
        if action.kind == "decided" and action.data.get("what") == "split" and action.playbook is not None:
            run = (action.key or "").split("/")[-5]
            workflow = f"journey/{action.playbook}/{action.account}"
            arms[(action.playbook, "day 0/1", action.data["outcome"], status.get((workflow, run), "active"))] += 1
    return journeys, arms


def _mixed_run(store: Store) -> None:
    """Starts, completions, exits with reasons, goals, failures, A/B arms, a second version, and a
    journey recorded twice, a decision logged after its journey ended."""
    for number in range(24):
        account, playbook = f"acct/{number:02d}", ("trial", "renewal")[number % 2]
        run = f"run-{number}"
        _enter(store, playbook, account, run, "v1" if number < 16 else "v2")
        _enter(store, playbook, account, run, "v1")  # recorded again: counted once
        _split(store, playbook, account, run, ARMS[number % 3 % 2])
        ending = number % 6
        if ending == 1:
            _end(store, playbook, account, run, "completed")
        elif ending == 2:
            _end(store, playbook, account, run, "goal_reached")
            _split(store, playbook, account, run, "offer", 1)  # logged late: under the journey's ending
        elif ending == 3:
            _end(store, playbook, account, run, "exited", "renewed early" if number % 4 else "churned")
        elif ending == 4:
            _end(store, playbook, account, run, "failed")
            _end(store, playbook, account, run, "completed")  # a run that ended keeps its first ending
    _split(store, "trial", "acct/99", "run-unknown", "offer")  # a decision of a journey never recorded


def test_the_kept_counts_equal_a_recount_after_a_mixed_run_and_erasure(store: Store) -> None:
    _mixed_run(store)
    journeys, arms = _kept(store)
    assert (journeys, arms) == _by_hand(store)
    assert journeys[("trial", "v1", "goal_reached", None)] > 0 and journeys[("renewal", "v2", "active", None)] > 0
    assert arms[("trial", "day 0/1", "offer", "active")] > 0
    store.forget_account("acct/03", NOW)  # an exited journey and its split decision go
    store.forget_account("acct/00", NOW)
    _enter(store, "trial", "acct/40", "run-40", "v2")
    _split(store, "trial", "acct/40", "run-40", "offer")
    _end(store, "trial", "acct/40", "run-40", "goal_reached")
    assert _kept(store) == _by_hand(store)
    with store.database.write("recount") as conn:
        recount(conn)
    assert _kept(store) == _by_hand(store)


def test_writers_at_once_lose_no_count(store: Store) -> None:
    writers, each = 4, 15
    failures: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(number: int) -> None:
        try:
            start.wait()
            for index in range(each):
                account, run = f"w{number}-{index}", f"run-{number}-{index}"
                _enter(store, "trial", account, run)
                _split(store, "trial", account, run, ARMS[index % 2])
                if index % 3:
                    _end(store, "trial", account, run, "goal_reached" if index % 3 == 1 else "exited", None)
                store.create_task(TaskRecord(id=f"t-{account}", account=account, playbook="trial", title="Call",
                                             owner="ana@example.com", due=NOW, priority="normal", created_at=NOW),
                                  f"journey/trial/{account}/{run}/day 0/{index % 2}", f"journey/trial/{account}")
                if index % 2:
                    store.complete_tasks(account, NOW + timedelta(minutes=index), outcome="reached")
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(number,)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    journeys, arms = _kept(store)
    assert (journeys, arms) == _by_hand(store)
    assert sum(journeys.values()) == writers * each
    assert journeys[("trial", "v1", "goal_reached", None)] == writers * 5
    assert sum(arms.values()) == writers * each
    assert store.task_tallies() == _tasks_by_hand(store)
    assert sum(tally.opened for tally in store.task_tallies()) == writers * each


def test_migration_0013_counts_a_store_that_has_data(url: str) -> None:
    store = Store.open(url)
    try:
        _mixed_run(store)
        for number in range(3):
            store.create_task(TaskRecord(id=f"t{number}", account="acct/01", playbook="renewal", title="Call",
                                         owner="ana@example.com", due=NOW, priority="normal", created_at=NOW),
                              f"journey/renewal/acct/01/run-1/day 0/{number}", "journey/renewal/acct/01")
        store.complete_tasks("acct/01", NOW + timedelta(hours=2), task_id="t1", outcome="reached")
        expected = _by_hand(store)
        tasks_expected = _tasks_by_hand(store)
    finally:
        store.close()
    command.downgrade(alembic_config(url), "0012")
    command.upgrade(alembic_config(url), "head")
    store = Store.open(url)
    try:
        assert _kept(store) == expected
        assert sum(expected[0].values()) == 24
        assert store.task_tallies() == tasks_expected and tasks_expected[1].completed == 1
    finally:
        store.close()


def _tasks_by_hand(store: Store) -> list[TaskTally]:
    found: dict[tuple[str, str], list[TaskRecord]] = {}
    for task in store.tasks():
        key = store_key(store, task.id)
        path = task_path(task.playbook, task.account, key)
        if path is not None and task.playbook is not None:
            found.setdefault((task.playbook, path), []).append(task)
    tallies = []
    for (playbook, path), opened in sorted(found.items()):
        done = [task for task in opened if task.status == "done"]
        seconds = [(task.completed_at - task.created_at).total_seconds() for task in done
                   if task.completed_at is not None]
        outcomes = Counter(task.outcome for task in opened if task.outcome is not None)
        tallies.append(TaskTally(playbook, path, len(opened), len(done),
                                 statistics.median(seconds) if seconds else None, dict(sorted(outcomes.items()))))
    return tallies


def store_key(store: Store, task: str) -> str | None:
    with store.database.read() as conn:
        return conn.execute(select(tasks.c.key).where(tasks.c.id == task)).scalar()


def test_task_counts_follow_tasks_opened_closed_and_erased(store: Store) -> None:
    def task(number: int, **fields: Any) -> TaskRecord:
        return TaskRecord(id=f"t{number}", account=f"acct/{number % 5}", playbook="trial", title="Call",
                          owner="ana@example.com", due=NOW, priority="normal", created_at=NOW, **fields)

    for number in range(12):
        account = f"acct/{number % 5}"
        key = f"journey/trial/{account}/run-{number}/day {number % 2}/0"
        if number % 4 == 3:  # a deduped work item: one open per account, type and reason
            store.open_work_item(task(number, task_type="call", reason=f"r{number}"), key, f"journey/trial/{account}")
        else:
            store.create_task(task(number), key, f"journey/trial/{account}")
        store.create_task(task(number), key, f"journey/trial/{account}")  # the same key again: counted once
    store.create_task(task(50).model_copy(update={"playbook": None}), "manual/1", None)  # no journey's: not counted
    for number, hours, outcome in ((0, 5, "reached"), (1, 1, None), (2, 30, "reached"), (4, 2, "no answer"),
                                   (6, 7, None), (7, 3, "reached")):
        store.complete_tasks(f"acct/{number % 5}", NOW + timedelta(hours=hours), task_id=f"t{number}",
                             outcome=outcome)
    assert store.task_tallies(["trial"]) == _tasks_by_hand(store)
    assert {tally.path: tally.completed for tally in store.task_tallies()} == {"day 0/0": 4, "day 1/0": 2}
    store.forget_account("acct/2", NOW)
    assert store.task_tallies(["trial"]) == _tasks_by_hand(store)
    with store.database.write("recount") as conn:
        recount_tasks(conn)
    assert store.task_tallies(["trial"]) == _tasks_by_hand(store)
