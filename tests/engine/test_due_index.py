"""The index of next-due moments (`engine.routing.due_index`): kept by routing when a date field,
the time zone or the playbooks' time triggers change, and read by the scheduler's pass, which
looks at the accounts due and no other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dsl import ir
from engine.records import Change, Intent, StartJourney
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday
STEPS = (ir.Step(name="day 0", body=(ir.SendEmail(template="hello"),)),)
RENEWAL = ir.Playbook(id="renewal", trigger=ir.DateTrigger(field="renewal_date", offset_days=-90), steps=STEPS)
MONTHLY = ir.Playbook(id="monthly", trigger=ir.ScheduleTrigger(every="month"), steps=STEPS)
NO_SPREAD = timedelta(0)


def bundle_of(*playbooks: ir.Playbook) -> ir.Bundle:
    return ir.Bundle(model=ir.Model(), playbooks={playbook.id: playbook for playbook in playbooks})


class _Starter(JourneyStarter):
    """Starts nothing on Temporal: keeps the intents it was handed."""

    def __init__(self, store: Store) -> None:
        super().__init__(None, "q", store)  # type: ignore[arg-type]
        self.carried: list[Intent] = []

    async def execute(self, bundle: ir.Bundle, intents: list[Intent],
                      clock_offset_seconds: float | None = None) -> list[StartJourney]:
        self.carried.extend(intents)
        return []


READS = ("fields_at", "events_until", "histories_of", "fields_of", "all_fields", "account_ids", "current_fields")


def count_reads(store: Store) -> list[str]:
    """The accounts whose fields or events the store is asked for from now on (each read, in order)."""
    read: list[str] = []

    def counting(name: str) -> Any:
        method = getattr(store, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            found = method(*args, **kwargs)
            if name in ("all_fields", "account_ids"):
                read.extend(found)
            elif isinstance(args[0], str):
                read.append(args[0])
            else:
                read.extend(args[0])
            return found
        return counted

    for name in READS:
        setattr(store, name, counting(name))
    return read


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest) -> Store:
    """The test's store on SQLite, and on PostgreSQL when a server is given."""
    found: Store = request.getfixturevalue("store" if request.param == "sqlite" else "pg_store")
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def core_of(store: Store, playbooks: ir.Bundle) -> tuple[RoutingCore, _Starter]:
    starter = _Starter(store)
    return RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), playbooks, starter, spread=NO_SPREAD), starter


def route(core: RoutingCore, store: Store, account: str, at: datetime, **traits: Any) -> Change:
    change = store.add_change(account, at, event=None, data={}, traits=traits, event_id=None)
    assert change is not None
    core.route_run([change])
    return change


def due(store: Store, until: datetime) -> dict[str, datetime | None]:
    return {account: at for account, at, _ in store.due_rows(until)}


def test_a_new_account_and_a_date_change_mark_the_account_due_and_other_changes_do_not(any_store: Store) -> None:
    store = any_store
    core, _ = core_of(store, bundle_of(RENEWAL))
    route(core, store, "acme", T0, renewal_date="2026-06-01")
    assert core.next_due(T0) == datetime(2026, 3, 3, 9, tzinfo=UTC)  # 90 days before, 09:00 UTC
    [(_, at, version)] = store.due_rows(datetime(2027, 1, 1, tzinfo=UTC))
    route(core, store, "acme", T0 + timedelta(hours=1), arr=5000)  # not a date field: the row stays
    assert store.due_rows(datetime(2027, 1, 1, tzinfo=UTC)) == [("acme", at, version)]
    moved = T0 + timedelta(hours=2)
    route(core, store, "acme", moved, renewal_date="2026-05-01")
    assert due(store, moved) == {"acme": moved}  # due from the change, until the scheduler looks again
    assert core.next_due(moved) == datetime(2026, 1, 31, 9, tzinfo=UTC)


def test_a_time_zone_change_moves_the_next_instant(any_store: Store) -> None:
    store = any_store
    core, _ = core_of(store, bundle_of(MONTHLY))
    route(core, store, "acme", T0, timezone="UTC")
    assert core.next_due(T0) == datetime(2026, 2, 1, 10, tzinfo=UTC)
    later = T0 + timedelta(days=1)
    route(core, store, "acme", later, timezone="Asia/Tokyo")
    assert due(store, later) == {"acme": later}
    assert core.next_due(later) == datetime(2026, 2, 1, 1, tzinfo=UTC)  # 10:00 in Tokyo


def test_a_change_of_the_time_triggers_makes_every_account_due_again(any_store: Store) -> None:
    store = any_store
    core, _ = core_of(store, bundle_of(RENEWAL))
    for account in ("a", "b", "c"):
        route(core, store, account, T0, renewal_date="2026-06-01")
    assert core.next_due(T0) == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert due(store, T0 + timedelta(days=1)) == {}
    new_version, _ = core_of(store, bundle_of(RENEWAL, MONTHLY))  # a playbook added: a new plan
    assert new_version.next_due(T0) == datetime(2026, 2, 1, 10, tzinfo=UTC)
    assert set(due(store, datetime(2026, 2, 1, 10, tzinfo=UTC))) == {"a", "b", "c"}


async def test_a_pass_reads_only_the_accounts_due(store_url: str) -> None:
    store = Store.open(store_url)
    read = count_reads(store)
    try:
        core, starter = core_of(store, bundle_of(RENEWAL))
        changes = [store.add_change(f"acct-{n:03d}", T0, event=None, data={}, event_id=None,
                                    traits={"renewal_date": "2026-04-06" if n < 3 else "2027-01-01"})
                   for n in range(100)]
        core.route_run([change for change in changes if change is not None])
        after = T0
        assert core.next_due(after) == datetime(2026, 1, 6, 9, tzinfo=UTC)  # the index is built: every account read
        read.clear()
        until = datetime(2026, 1, 7, tzinfo=UTC)
        assert await core.fire_due(after, until) == 3
        assert sorted(set(read)) == ["acct-000", "acct-001", "acct-002"]
        assert sorted(intent.account for intent in starter.carried) == ["acct-000", "acct-001", "acct-002"]
        read.clear()
        assert core.next_due(until) == datetime(2026, 10, 3, 9, tzinfo=UTC)  # a quiet round reads no account
        assert read == []
    finally:
        store.close()


async def test_an_account_marked_during_a_pass_stays_due(any_store: Store) -> None:
    store = any_store
    core, _ = core_of(store, bundle_of(RENEWAL))
    route(core, store, "acme", T0, renewal_date="2026-04-06")
    core.next_due(T0)
    rows = store.due_rows(datetime(2026, 1, 7, tzinfo=UTC))
    route(core, store, "acme", T0 + timedelta(hours=1), renewal_date="2026-04-07")  # meanwhile
    assert core.due_index is not None
    assert core.due_index.advance(rows, datetime(2026, 1, 7, tzinfo=UTC)) == 0
    assert due(store, T0 + timedelta(hours=1)) == {"acme": T0 + timedelta(hours=1)}


def test_a_simulation_keeps_no_index_in_its_store(any_store: Store) -> None:
    store = any_store
    core = RoutingCore(AccountCache(store, lifetime=Lifetime.PRIVATE_STORE), bundle_of(RENEWAL), _Starter(store),
                       spread=NO_SPREAD)
    change = store.add_change("acme", T0, event=None, data={}, traits={"renewal_date": "2026-06-01"}, event_id=None)
    assert change is not None
    core.route_run([change])
    assert core.due_index is None
    assert store.due_rows(datetime(2100, 1, 1, tzinfo=UTC)) == []
    assert core.next_due(T0) == datetime(2026, 3, 3, 9, tzinfo=UTC)
