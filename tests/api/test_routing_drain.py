"""The drain of routed intents to Temporal (`server.api.routing_drain`): in order per account, a
bounded number at once, an account whose call failed waiting while the others go on, and a signal
carried out again ignored by its journey."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dsl import ir
from engine.intake.ingestion import Ingestor
from engine.records import Intent, JourneySignal, StartJourney
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.store.routing_queue import StoredIntent
from engine.workflows.journey_state import JourneyState
from engine.workflows.payloads import JourneyInput
from server.api.routing_drain import Drain, as_carried_out
from server.api.routing_status import RoutingStopped
from server.web.limits import Limits

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Recording(JourneyStarter):
    """Takes every call a moment later, noting it, the most at once, and failing where told."""

    def __init__(self, store: Store, failing: set[str] | None = None) -> None:
        super().__init__(None, "drain", store)  # type: ignore[arg-type]  # no Temporal
        self.calls: list[tuple[str, int | None]] = []
        self.failing = failing or set()
        self.now = self.most = 0

    async def execute(self, bundle: Any, intents: list[Intent],
                      clock_offset_seconds: float | None = None) -> list[StartJourney]:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0)  # others may start meanwhile
            for intent in intents:
                if intent.account in self.failing:
                    raise ConnectionError("Temporal away")
                self.calls.append((intent.account, intent.change if isinstance(intent, JourneySignal) else None))
        finally:
            self.now -= 1
        return []

    async def wake_scheduler(self) -> None:
        return None


def _signals(store: Store, accounts: list[str], each: int) -> None:
    """`each` signals per account, committed as routing commits them, accounts interleaved."""
    rows = [(seq * 10 + number, 0, account, JourneySignal(
                playbook="smb_onboarding", account=account, at=AT, event="login").model_dump(mode="json"))
            for seq in range(each) for number, account in enumerate(accounts)]
    store.add_intents(rows, AT)


def _drain(store: Store, bundle: ir.Bundle, starter: JourneyStarter, in_flight: int) -> Drain:
    core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle, starter)
    return Drain(store, core, Limits(routing_timeout_seconds=5), in_flight=in_flight)


async def test_the_drain_carries_out_each_accounts_intents_in_order_with_at_most_n_at_once(
        store: Store, bundle: ir.Bundle) -> None:
    accounts = ["acme", "globex", "initech", "umbrella"]
    _signals(store, accounts, each=5)
    starter = Recording(store)
    drain = _drain(store, bundle, starter, in_flight=2)
    assert await drain.round() == 20
    assert await drain.round() == 0
    for account in accounts:
        origins = [change or 0 for who, change in starter.calls if who == account]
        assert origins == sorted(origins) and len(origins) == 5
    assert starter.most == 2
    assert store.undrained(None, 100) == []
    assert (drain.backlog, drain.oldest_age_seconds(), drain.record.routed) == (0, None, 20)


async def test_an_account_whose_call_fails_waits_while_the_others_are_carried_out(
        store: Store, bundle: ir.Bundle) -> None:
    _signals(store, ["acme", "globex"], each=3)
    starter = Recording(store, failing={"acme"})
    drain = _drain(store, bundle, starter, in_flight=4)
    with pytest.raises(RoutingStopped, match="Temporal is unreachable"):
        await drain.round()
    assert [who for who, _ in starter.calls] == ["globex"] * 3
    waiting = store.undrained(None, 100)
    assert [(found.account, found.change) for found in waiting] == [("acme", 0), ("acme", 10), ("acme", 20)]
    assert drain.backlog == 3 and drain.oldest == AT
    starter.failing.clear()  # Temporal is back
    assert await drain.round() == 3
    assert [change for who, change in starter.calls if who == "acme"] == [0, 10, 20]
    assert store.undrained(None, 100) == []


async def test_a_drained_signal_carries_its_origin_and_a_journey_ignores_it_heard_again(bundle: ir.Bundle) -> None:
    routed = JourneySignal(playbook="smb_onboarding", account="acme", at=AT, event="login")
    signal = as_carried_out(StoredIntent(7, 41, 2, "acme", routed.model_dump(mode="json")))
    assert isinstance(signal, JourneySignal) and (signal.change, signal.position) == (41, 2)
    playbook = bundle.playbooks["smb_onboarding"]
    state = JourneyState(JourneyInput(playbook=playbook, version="1", account="acme", entry_at=AT, reason="test"))
    later = signal.model_copy(update={"position": 3})
    told = routed  # told directly (a draft answered): no origin, always heard
    for heard in (signal, signal, later, signal, told, told):
        state.notify(heard)
    assert [(event.change, event.position) for event in state.events] == [(41, 2), (41, 3), (None, 0), (None, 0)]


def _routing_batch_keeps_all_or_nothing(store: Store, bundle: ir.Bundle) -> None:
    objects = [{"id": f"{account}-signed", "account": account, "event": "signed", "at": AT.isoformat()}
               for account in ("acme", "globex")]
    first, second = Ingestor(store, bundle.model).ingest_objects(objects, AT, horizon=timedelta(days=365)).accepted
    start = StartJourney(playbook="smb_onboarding", account="acme", entry_at=AT, reason="event signed")
    with pytest.raises(RuntimeError), store.routing_batch({"acme"}):
        store.add_intents([(first.seq, 0, "acme", start.model_dump(mode="json"))], AT)
        store.mark_routed([first.seq], AT)
        raise RuntimeError("the process dies mid-batch")
    assert [change.seq for change in store.unrouted()] == [first.seq, second.seq]
    assert store.undrained(None, 10) == []
    with store.routing_batch({"acme"}):
        store.add_intents([(first.seq, 0, "acme", start.model_dump(mode="json"))], AT)
        store.mark_routed([first.seq], AT)
    assert [change.seq for change in store.unrouted()] == [second.seq]
    assert [(found.change, found.intent["kind"]) for found in store.undrained(None, 10)] == [(first.seq, "start")]
    assert store.drain_backlog() == (1, AT)


def test_a_routing_batch_commits_its_intents_and_marks_together_or_not_at_all(store: Store, bundle: ir.Bundle) -> None:
    _routing_batch_keeps_all_or_nothing(store, bundle)


def test_a_routing_batch_on_postgresql_commits_its_intents_and_marks_together_or_not_at_all(
        pg_store: Store, bundle: ir.Bundle) -> None:
    _routing_batch_keeps_all_or_nothing(pg_store, bundle)
