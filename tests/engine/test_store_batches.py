"""`Store.add_changes` is set-based; what it stores is what storing each change alone would store.

A seeded random mix of events and trait updates (repeated ids inside a batch and across batches,
values arriving late, nulls that clear fields, reserved events) goes in as one batch, in batches
of a few, and one change at a time; the results, the accounts' fields now and in the past, and
the rows are the same every way, and match a plain model of the trait rules. On SQLite always,
on PostgreSQL when `PLAYBOOK_TEST_POSTGRES_URL` is set.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from engine.records import Change, TaskRecord
from engine.store import NewChange, Store
from engine.store.accounts import same_value
from engine.store.schema import events, trait_history
from tests.stores import POSTGRES_URL, wipe

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
MISSING = object()


def _changes(seed: int, count: int) -> list[NewChange]:
    rng = random.Random(seed)
    made: list[NewChange] = []
    for n in range(count):
        account = rng.choice(["a", "b", "c"])
        at = T0 + timedelta(hours=rng.randrange(0, 200))  # often older than what came before: late
        event_id = rng.choice([f"e-{n}", f"e-{rng.randrange(0, max(n, 1))}", None])
        traits = {field: rng.choice([None, 1, 1.0, 2, True, "x", {"email": "a@b.example"}])
                  for field in rng.sample(["arr", "seats", "flag", "owner"], rng.randrange(0, 3))}
        event = rng.choice([None, "login", "signed"]) if traits else rng.choice(["login", "signed"])
        made.append(NewChange(account=account, at=at, event=event, data={"n": n} if event else {},
                              traits=traits, event_id=event_id))
    return made


class Model:
    """The trait rules as plain Python: last writer by time; a late value goes only to history."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.current: dict[str, dict[str, Any]] = {}
        self.observed: dict[str, dict[str, datetime]] = {}
        self.history: dict[str, list[tuple[str, Any, datetime]]] = {}

    def _in_effect(self, account: str, field: str, at: datetime) -> Any:
        found: Any = MISSING
        best: datetime | None = None
        for name, value, when in self.history.get(account, []):
            if name == field and when <= at and (best is None or when >= best):
                best, found = when, value
        return MISSING if found is None else found

    def add(self, new: NewChange) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if new.event_id is not None:
            if new.event_id in self.ids:
                return None
            self.ids.add(new.event_id)
        current = self.current.setdefault(new.account, {})
        observed = self.observed.setdefault(new.account, {})
        history = self.history.setdefault(new.account, [])
        changed: dict[str, Any] = {}
        previous: dict[str, Any] = {}
        for field, value in new.traits.items():
            last = observed.get(field)
            if last is not None and new.at < last:
                in_effect = self._in_effect(new.account, field, new.at)
                if not ((in_effect is MISSING and value is None) or same_value(in_effect, value)):
                    history.append((field, value, new.at))
                continue
            observed[field] = new.at
            old = current.get(field, MISSING)
            if (old is MISSING and value is None) or same_value(old, value):
                continue
            changed[field] = value
            if old is not MISSING:
                previous[field] = old
            if value is None:
                del current[field]
            else:
                current[field] = value
            history.append((field, value, new.at))
        return changed, previous

    def fields_at(self, account: str, at: datetime) -> dict[str, Any]:
        entries = sorted(((when, index, field, value) for index, (field, value, when)
                          in enumerate(self.history.get(account, [])) if when <= at), key=lambda e: (e[0], e[1]))
        fields: dict[str, Any] = {}
        for _, _, field, value in entries:
            if value is None:
                fields.pop(field, None)
            else:
                fields[field] = value
        return fields


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A factory of empty stores of one kind (PostgreSQL: the same database, wiped each time)."""
    opened: list[Store] = []

    def make() -> Store:
        if request.param == "postgresql":
            for store in opened:
                store.close()
            wipe(POSTGRES_URL)
            url = POSTGRES_URL
        else:
            url = f"sqlite:///{tmp_path / f'store-{len(opened)}.db'}"
        store = Store.open(url)
        opened.append(store)
        return store

    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("PLAYBOOK_TEST_POSTGRES_URL is not set (bash .ci/postgres.sh starts a server)")
    yield make
    for store in opened:
        store.close()


def _summary(results: list[Change | None]) -> list[Any]:
    return [None if change is None else (change.account, change.event_id, change.traits, change.previous)
            for change in results]


def _rows(store: Store) -> tuple[int, int]:
    engine = create_engine(store.url)
    try:
        with engine.connect() as conn:
            return (conn.execute(select(func.count()).select_from(events)).scalar_one(),
                    conn.execute(select(func.count()).select_from(trait_history)).scalar_one())
    finally:
        engine.dispose()


def _store_in(store: Store, changes: list[NewChange], size: int) -> list[Change | None]:
    results: list[Change | None] = []
    for first in range(0, len(changes), size):
        results.extend(store.add_changes(changes[first:first + size]))
    return results


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_stores_what_one_change_at_a_time_stores_and_what_the_rules_say(fresh: Any, seed: int) -> None:
    changes = _changes(seed, 120)
    model = Model()
    expected = [None if (r := model.add(new)) is None else (new.account, new.event_id, r[0], r[1])
                for new in changes]
    outcomes = []
    for size in (len(changes), 7, 1):
        store = fresh()
        results = _store_in(store, changes, size)
        seqs = [change.seq for change in results if change is not None]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # stored order is input order
        fields = {account: store.current_fields(account) for account in "abc"}
        past = {(account, hours): store.fields_at(account, T0 + timedelta(hours=hours))
                for account in "abc" for hours in (0, 50, 100, 150, 250)}
        outcomes.append((_summary(results), fields, past, _rows(store)))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    summary, fields, past, (event_rows, _) = outcomes[0]
    assert summary == expected
    assert fields == {account: model.current.get(account, {}) for account in "abc" if account in model.current} | {
        account: {} for account in "abc" if account not in model.current}
    assert past == {key: model.fields_at(*key[:1], T0 + timedelta(hours=key[1])) for key in past}
    assert event_rows == sum(1 for entry in expected if entry is not None)


def test_ids_repeated_in_a_batch_and_stored_before_count_once(fresh: Any) -> None:
    store = fresh()
    store.add_change("a", T0, event="login", data={}, traits={}, event_id="e-1")
    results = store.add_changes([
        NewChange(account="a", at=T0, event="login", event_id="e-1"),
        NewChange(account="a", at=T0, event="login", event_id="e-2", traits={"arr": 1}),
        NewChange(account="b", at=T0, event="login", event_id="e-2", traits={"arr": 2}),
        NewChange(account="b", at=T0, event="login"),
        NewChange(account="b", at=T0, event="login"),
    ])
    assert [change is not None for change in results] == [False, True, False, True, True]
    assert store.current_fields("a") == {"arr": 1} and store.current_fields("b") == {}
    assert _rows(store)[0] == 4


def test_reserved_events_in_a_batch_take_effect_in_order(fresh: Any) -> None:
    store = fresh()
    for task_id in ("t1", "t2"):
        store.create_task(TaskRecord(id=task_id, account="a", playbook="renewal", title="Call",
                                     owner="sam@vendor.example", due=None, priority="high", created_at=T0),
                          f"key-{task_id}", None)
    results = store.add_changes([
        NewChange(account="a", at=T0 + timedelta(hours=1), event="task_completed", data={"task": "t1"}),
        NewChange(account="a", at=T0 + timedelta(hours=2), event="task_completed", data={"playbook": "renewal"}),
        NewChange(account="a", at=T0 + timedelta(hours=3), event="unsubscribed", data={"email": "Ana@X.example"}),
    ])
    assert [change.closed_tasks for change in results if change is not None] == [["t1"], ["t2"], []]
    closed = store.task("t1")
    assert closed is not None and closed.completed_at == T0 + timedelta(hours=1)
    assert store.suppression("ana@x.example") == "unsubscribed"


def test_a_new_account_with_only_events_is_created_without_fields(fresh: Any) -> None:
    store = fresh()
    store.add_changes([NewChange(account="new", at=T0, event="login"), NewChange(account="new", at=T0, event="signed")])
    assert store.account_ids() == ["new"]
    assert store.current_fields("new") == {}
