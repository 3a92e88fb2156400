"""A start or a signal routed for a playbook that is no longer loaded when the drain carries it out
(removed or renamed by a deploy in between) is not dropped in silence: a decision in the account's
log says so and it is counted; the start starts nothing, the signal still reaches the running
journey (which keeps the version it entered with)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dsl import ir
from engine.records import JourneySignal, StartJourney
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store
from server.api.routing_drain import Drain
from server.app import create_app
from server.web.limits import Limits
from tests.api.conftest import http, settings

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Signals(JourneyStarter):
    """No Temporal: notes the signals told."""

    def __init__(self, store: Store) -> None:
        super().__init__(None, "drain", store)  # type: ignore[arg-type]  # no Temporal
        self.told: list[JourneySignal] = []

    async def signal(self, intent: JourneySignal) -> None:
        self.told.append(intent)

    async def started_by(self, intent: StartJourney) -> bool:
        return False  # no journey under that id


def _intents() -> list[tuple[int, int, str, dict[str, Any]]]:
    start = StartJourney(playbook="renamed_onboarding", account="acme", entry_at=AT, reason="event signed")
    signal = JourneySignal(playbook="renamed_onboarding", account="globex", at=AT, event="login")
    return [(1, 0, "acme", start.model_dump(mode="json")), (2, 0, "globex", signal.model_dump(mode="json"))]


async def test_a_start_or_signal_for_a_playbook_no_longer_loaded_leaves_a_decision_and_is_counted(
        store: Store, bundle: ir.Bundle) -> None:
    assert "renamed_onboarding" not in bundle.playbooks
    store.add_intents(_intents(), AT)
    starter = Signals(store)
    core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle, starter)
    drain = Drain(store, core, Limits(routing_timeout_seconds=5), in_flight=2)
    assert await drain.round() == 2 and store.undrained(None, 10) == []
    assert starter.started == [] and [signal.account for signal in starter.told] == ["globex"]
    assert starter.not_loaded == 2
    [started] = [a for a in store.actions(account="acme") if a.kind == "decided"]
    assert (started.data["what"], started.data["outcome"]) == ("playbook_not_loaded", "not_started")
    assert started.data["detail"] == "event signed: not started: playbook renamed_onboarding is no longer loaded"
    [signalled] = [a for a in store.actions(account="globex") if a.kind == "decided"]
    assert (signalled.data["what"], signalled.data["outcome"]) == ("playbook_not_loaded", "signalled")
    assert "login: playbook renamed_onboarding is no longer loaded" in signalled.data["detail"]
    await core.carry_out([StartJourney.model_validate(_intents()[0][3])])  # carried out again (at least once)
    assert len([a for a in store.actions(account="acme") if a.kind == "decided"]) == 1  # one trace


async def test_healthz_and_metrics_count_the_intents_for_a_playbook_no_longer_loaded(
        store: Store, bundle: ir.Bundle) -> None:
    starter = Signals(store)
    await starter.execute(bundle, [StartJourney.model_validate(_intents()[0][3])])
    async with http(create_app(settings(), store, bundle, starter, Limits())) as api:
        routing = (await api.get("/healthz")).json()["routing"]
        metrics = (await api.get("/metrics")).text
    assert routing["not_loaded"] == 1
    assert "playbook_drain_not_loaded 1.0" in metrics
