"""The routing core (`engine.routing.RoutingCore`): routing and carrying out are separate steps, and
a start Temporal refused is not a running journey for the routing that follows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from dsl import ir
from engine.records import Change, Intent, JourneySignal, StartJourney
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store
from tests.engine.test_router import BUNDLE

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


class _Temporal(JourneyStarter):
    """Carries nothing out; refuses every start when `refusing` (a journey already running)."""

    def __init__(self, store: Store, *, refusing: bool) -> None:
        super().__init__(None, "q", store)  # type: ignore[arg-type]  # no client: nothing reaches Temporal
        self.refusing = refusing
        self.carried: list[Intent] = []

    async def execute(self, bundle: ir.Bundle, intents: list[Intent],
                      clock_offset_seconds: float | None = None) -> list[StartJourney]:
        self.carried.extend(intents)
        return [intent for intent in intents if isinstance(intent, StartJourney)] if self.refusing else []


def _stored(store: Store, at: datetime, event: str, event_id: str, **traits: str) -> Change:
    change = store.add_change("acme", at, event=event, data={}, traits=traits, event_id=event_id)
    assert change is not None
    return change


@pytest.mark.parametrize("refusing", [False, True])
async def test_a_refused_start_is_not_signalled_by_the_changes_that_follow(store: Store, refusing: bool) -> None:
    starter = _Temporal(store, refusing=refusing)
    core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), BUNDLE, starter)
    signed = _stored(store, T0, "signed", "e-1", segment="smb")
    [intents] = core.route_run([signed])
    assert [(type(i), i.playbook) for i in intents] == [(StartJourney, "onboarding")]
    assert starter.carried == []  # routing carries nothing out by itself
    await core.carry_out(intents)
    assert starter.carried == intents
    [after] = core.route_run([_stored(store, T0 + timedelta(hours=1), "project_created", "e-2")])
    if refusing:
        assert after == []
    else:
        assert [(type(i), i.playbook, i.event) for i in after if isinstance(i, JourneySignal)] == [
            (JourneySignal, "onboarding", "project_created")]


def test_a_run_reads_condition_states_only_for_accounts_whose_changes_concern_a_condition(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), BUNDLE, _Temporal(store, refusing=False))
    asked: list[list[str]] = []
    read = store.conditions_of

    def conditions_of(accounts: Sequence[str]) -> dict[tuple[str, str], tuple[bool | None, datetime]]:
        asked.append(sorted(accounts))
        return read(accounts)

    monkeypatch.setattr(store, "conditions_of", conditions_of)
    seats = store.add_change("acme", T0, event=None, data={}, traits={"seats_used": 9, "seats_licensed": 10},
                             event_id="e-1")
    login = store.add_change("globex", T0, event="login", data={}, traits={}, event_id="e-2")
    assert seats is not None and login is not None
    [fired, nothing] = core.route_run([seats, login])
    assert asked == [["acme"]]
    assert [(type(i), i.playbook) for i in fired] == [(StartJourney, "expansion_seats")] and nothing == []
    assert store.get_condition("acme", "trigger:expansion_seats") is True
