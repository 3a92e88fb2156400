"""Mass wake-ups spread: a schedule shared by every account fires for each at its own fixed offset
within the spread window (`engine.semantics.spread`), the same in every pass and every process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dsl import ir
from engine.records import StartJourney
from engine.routing.router import Router
from engine.semantics.spread import DEFAULT_SPREAD, spread_offset
from engine.settings import Settings
from engine.store import NewChange, Store

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
WINDOW = timedelta(minutes=5)
STEPS = (ir.Step(name="day 0", body=(ir.SendEmail(template="hello"),)),)
MONTHLY = ir.Bundle(model=ir.Model(), playbooks={
    "monthly": ir.Playbook(id="monthly", trigger=ir.ScheduleTrigger(every="month"), steps=STEPS)})
RENEWAL = ir.Bundle(model=ir.Model(), playbooks={
    "renewal": ir.Playbook(id="renewal", trigger=ir.DateTrigger(field="renewal_date", offset_days=-90), steps=STEPS)})
FEB_1_10_UTC = datetime(2026, 2, 1, 10, tzinfo=UTC)


def accounts(store: Store, count: int, **traits: str) -> list[str]:
    names = [f"acct-{n:04d}" for n in range(count)]
    store.add_changes([NewChange(account=name, at=T0, traits={"timezone": "UTC", **traits}) for name in names])
    return names


def starts(router: Router, after: datetime, until: datetime) -> dict[str, datetime]:
    return {intent.account: intent.entry_at for intent in router.due(after, until).intents
            if isinstance(intent, StartJourney)}


def test_an_account_offset_is_fixed_by_its_id_and_within_the_window() -> None:
    offsets = [spread_offset(f"acct-{n}", WINDOW) for n in range(2000)]
    assert offsets == [spread_offset(f"acct-{n}", WINDOW) for n in range(2000)]
    assert all(timedelta(0) <= offset < WINDOW and offset.microseconds == 0 for offset in offsets)
    assert len(set(offsets)) > 250  # spread over the window's 300 seconds, not bunched
    assert spread_offset("acct-1", timedelta(0)) == timedelta(0)
    assert spread_offset("acct-1", timedelta(milliseconds=900)) == timedelta(0)


def test_every_account_of_a_monthly_schedule_fires_once_at_its_own_offset(store: Store) -> None:
    names = accounts(store, 200)
    router = Router(store, MONTHLY, spread=WINDOW)
    fired = starts(router, T0, FEB_1_10_UTC + WINDOW)
    assert fired == {name: FEB_1_10_UTC + spread_offset(name, WINDOW) for name in names}
    assert len(set(fired.values())) > 100
    # the window split anywhere: each account still fires once, at the same instant
    middle = FEB_1_10_UTC + timedelta(minutes=2, seconds=30)
    assert starts(router, T0, middle) | starts(router, middle, FEB_1_10_UTC + WINDOW) == fired


def test_the_next_due_instant_is_the_account_firing_instant(store: Store) -> None:
    [name] = accounts(store, 1)
    router = Router(store, MONTHLY, spread=WINDOW)
    assert router.next_due(T0) == FEB_1_10_UTC + spread_offset(name, WINDOW)
    assert router.time.next_for(name, {"timezone": "UTC"}, FEB_1_10_UTC) == FEB_1_10_UTC + spread_offset(name, WINDOW)


def test_date_triggers_are_not_spread(store: Store) -> None:
    names = accounts(store, 20, renewal_date="2026-05-01")
    router = Router(store, RENEWAL, spread=WINDOW)
    instant = datetime(2026, 1, 31, 9, tzinfo=UTC)
    assert starts(router, T0, instant + WINDOW) == dict.fromkeys(names, instant)


def test_the_spread_is_a_setting_five_minutes_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAYBOOK_SCHEDULE_SPREAD", raising=False)
    assert Settings().schedule_spread == DEFAULT_SPREAD == timedelta(minutes=5)
    monkeypatch.setenv("PLAYBOOK_SCHEDULE_SPREAD", "15m")
    assert Settings().schedule_spread == timedelta(minutes=15)
    monkeypatch.setenv("PLAYBOOK_SCHEDULE_SPREAD", "0")
    assert Settings().schedule_spread == timedelta(0)
