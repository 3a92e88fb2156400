"""An intent Temporal refuses for a reason that is not an outage is tried a bounded number of
times, then parked: kept with its error, logged as a decision, its account's later intents going on;
an outage is waited out however long it lasts. Operators list, retry and drop the parked ones."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.service import RPCError, RPCStatusCode

from cli.main import main
from dsl import ir
from engine.records import Intent, JourneySignal, StartJourney
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store
from server.api import routing_drain
from server.api.routing_drain import REFUSALS, Drain
from server.api.routing_shared import SharedRouter
from server.api.routing_status import RoutingStopped, refusal_of
from server.app import create_app
from server.web.limits import Limits
from tests.api.conftest import http, offline_starter, settings

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Refusing(JourneyStarter):
    """Refuses (or finds Temporal away for) the signals of one event name; notes the others."""

    def __init__(self, store: Store, status: RPCStatusCode = RPCStatusCode.INVALID_ARGUMENT) -> None:
        super().__init__(None, "drain", store)  # type: ignore[arg-type]  # no Temporal
        self.status = status
        self.calls: list[tuple[str, str]] = []
        self.refusals = 0

    async def execute(self, bundle: Any, intents: list[Intent],
                      clock_offset_seconds: float | None = None) -> list[StartJourney]:
        await asyncio.sleep(0)
        for intent in intents:
            assert isinstance(intent, JourneySignal)
            if intent.event == "poison":
                self.refusals += 1
                raise RPCError("payload too large", self.status, b"")
            self.calls.append((intent.account, intent.event or ""))
        return []

    async def wake_scheduler(self) -> None:
        return None


def _signal(account: str, event: str) -> dict[str, Any]:
    return JourneySignal(playbook="smb_onboarding", account=account, at=AT, event=event).model_dump(mode="json")


def _commit(store: Store) -> None:
    store.add_intents([(1, 0, "acme", _signal("acme", "poison")), (2, 0, "acme", _signal("acme", "login")),
                       (3, 0, "globex", _signal("globex", "login"))], AT)


def _drain(store: Store, bundle: ir.Bundle, starter: JourneyStarter) -> Drain:
    core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle, starter)
    limits = Limits(routing_timeout_seconds=5, retry_min_seconds=0.0, retry_max_seconds=0.0)
    return Drain(store, core, limits, in_flight=4)


async def test_a_refused_intent_is_parked_after_bounded_attempts_and_its_account_goes_on(
        store: Store, bundle: ir.Bundle) -> None:
    _commit(store)
    starter = Refusing(store)
    drain = _drain(store, bundle, starter)
    assert await drain.round() == 1  # globex carried out; acme waits behind its refused intent
    assert starter.calls == [("globex", "login")]
    for _ in range(REFUSALS - 1):
        await drain.round()
    assert starter.refusals == REFUSALS
    assert starter.calls == [("globex", "login"), ("acme", "login")]  # parked: acme's later intent went on
    assert store.undrained(None, 10) == [] and drain.backlog == 0
    [parked] = store.parked_intents()
    assert (parked.account, parked.attempts, parked.intent["event"]) == ("acme", REFUSALS, "poison")
    assert parked.last_error is not None and "INVALID_ARGUMENT" in parked.last_error
    assert drain.parked == 1 and store.parked_count() == 1
    [decided] = [a for a in store.actions(account="acme") if a.kind == "decided"]
    assert decided.data["what"] == "intent_parked"
    assert f"parked after {REFUSALS} refusal(s) by Temporal" in decided.data["detail"]
    assert f"playbook intents retry|drop {parked.id}" in decided.data["detail"]
    assert await drain.round() == 0 and starter.refusals == REFUSALS  # parked: not tried again


async def test_an_outage_is_waited_out_and_never_parks(store: Store, bundle: ir.Bundle) -> None:
    _commit(store)
    starter = Refusing(store, RPCStatusCode.UNAVAILABLE)
    drain = _drain(store, bundle, starter)
    for _ in range(REFUSALS + 2):
        with pytest.raises(RoutingStopped, match="UNAVAILABLE"):
            await drain.round()
    assert store.parked_intents() == []
    assert [found.attempts for found in store.undrained(None, 10)] == [0, 0]  # acme's two wait, untouched


def test_outages_are_told_from_refusals() -> None:
    assert refusal_of(RPCError("down", RPCStatusCode.UNAVAILABLE, b"")) is None
    assert refusal_of(RPCError("late", RPCStatusCode.DEADLINE_EXCEEDED, b"")) is None
    assert refusal_of(TimeoutError()) is None and refusal_of(ConnectionError("refused")) is None
    assert refusal_of(RuntimeError("Failed client connect")) is None
    assert "INVALID_ARGUMENT" in (refusal_of(RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b"")) or "")
    assert refusal_of(KeyError("template")) == "KeyError: 'template'"


@pytest.mark.parametrize("which", ["store", "pg_store"])
def test_a_parked_intent_is_retried_afresh_or_dropped_on_either_database(
        which: str, request: pytest.FixtureRequest) -> None:
    store: Store = request.getfixturevalue(which)
    _commit(store)
    first, second, _ = (found.id for found in store.undrained(None, 10))
    assert store.refused(first, "INVALID_ARGUMENT: x", AT, park=False) == 1
    assert store.refused(first, "INVALID_ARGUMENT: y", AT, park=True) == 2
    assert store.refused(second, "bad", AT, park=True) == 1
    assert [found.account for found in store.undrained(None, 10)] == ["globex"]
    assert store.drain_backlog().waiting == 1 and store.parked_count() == 2
    assert [(p.id, p.last_error) for p in store.parked_intents(account="acme")] == [
        (first, "INVALID_ARGUMENT: y"), (second, "bad")]
    assert store.retry_parked(first) and not store.retry_parked(first)
    assert next((found.id, found.attempts) for found in store.undrained(None, 10)) == (first, 0)
    assert store.drop_parked(second, AT) and not store.drop_parked(second, AT)
    assert store.parked_intents() == [] and store.parked_count() == 0
    assert not store.drop_parked(first, AT)  # waiting again, not parked


async def test_operators_list_retry_and_drop_parked_intents_over_http(store: Store, bundle: ir.Bundle) -> None:
    _commit(store)
    first, second, _ = (found.id for found in store.undrained(None, 10))
    store.refused(first, "INVALID_ARGUMENT: too large", AT, park=True)
    store.refused(second, "INVALID_ARGUMENT: too large", AT, park=True)
    app = create_app(settings(), store, bundle, await offline_starter(store),
                     Limits(routing_timeout_seconds=1, retry_min_seconds=5, retry_max_seconds=5))
    async with http(app) as api:
        listed = (await api.get("/v1/intents", params={"state": "parked"})).json()
        retried = await api.post(f"/v1/intents/{first}/retry")
        dropped = await api.post(f"/v1/intents/{second}/drop")
        again = await api.post(f"/v1/intents/{second}/drop")
        wrong = await api.get("/v1/intents", params={"state": "drained"})
        huge = await api.post(f"/v1/intents/{2**63}/retry")  # past a row id: refused, not a database error
        zero = await api.post("/v1/intents/0/drop")
        after = (await api.get("/v1/intents")).json()
    assert listed["total"] == 2
    assert [(i["id"], i["account"], i["kind"], i["attempts"]) for i in listed["intents"]] == [
        (first, "acme", "signal", 1), (second, "acme", "signal", 1)]
    assert listed["intents"][0]["last_error"] == "INVALID_ARGUMENT: too large"
    assert retried.json() == {"id": first, "state": "waiting"} and dropped.json() == {"id": second, "state": "dropped"}
    assert again.status_code == 404 and "no parked intent" in again.json()["detail"]
    assert wrong.status_code == 422
    assert (huge.status_code, zero.status_code) == (422, 422)
    assert after == {"state": "parked", "total": 0, "intents": []}


def test_playbook_intents_lists_retries_and_drops_parked_intents_in_the_store(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PLAYBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")  # the `store` fixture's
    _commit(store)
    first, second, _ = (found.id for found in store.undrained(None, 10))
    store.refused(first, "INVALID_ARGUMENT: too large", AT, park=True)
    store.refused(second, "INVALID_ARGUMENT: too large", AT, park=True)
    assert main(["intents"]) == 0
    listed = capsys.readouterr().out
    assert main(["intents", "retry", str(first)]) == 0
    assert main(["intents", "drop", str(second)]) == 0
    done = capsys.readouterr().out
    assert main(["intents", "drop", str(second)]) == 2
    refused = capsys.readouterr().err
    assert main(["intents", "retry"]) == 2
    assert main(["intents", "retry", str(2**63)]) == 2
    assert f"no parked intent {2**63}" in capsys.readouterr().err
    assert f"{first}  acme  signal smb_onboarding  parked" in listed and "INVALID_ARGUMENT: too large" in listed
    assert f"intent {first}: given back to the drain" in done and f"intent {second}: dropped" in done
    assert f"no parked intent {second}" in refused
    assert store.parked_intents() == [] and next(found.id for found in store.undrained(None, 10)) == first


async def test_a_round_skips_a_held_accounts_intents_however_many_so_others_never_wait_behind_them(
        store: Store, bundle: ir.Bundle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routing_drain, "ROUND", 3)
    rows = [(1, 0, "acme", _signal("acme", "poison"))]
    rows += [(2 + n, 0, "acme", _signal("acme", "login")) for n in range(4)]  # more than a round reads
    rows += [(9, 0, "globex", _signal("globex", "login"))]
    store.add_intents(rows, AT)
    starter = Refusing(store)
    core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle, starter)
    drain = Drain(store, core, Limits(routing_timeout_seconds=5, retry_min_seconds=600, retry_max_seconds=600),
                  in_flight=4)
    assert await drain.round() == 0  # the three oldest are acme's: the first refused, acme held
    assert await drain.round() == 1  # acme held: its intents left out of the read, globex's carried out
    assert starter.calls == [("globex", "login")] and starter.refusals == 1
    assert [found.account for found in store.undrained(None, 10)] == ["acme"] * 5


async def test_shared_routing_parks_a_refused_intent_and_its_account_goes_on(
        pg_store: Store, bundle: ir.Bundle) -> None:
    _commit(pg_store)
    starter = Refusing(pg_store)
    core = RoutingCore(AccountCache(pg_store, lifetime=Lifetime.PER_RUN), bundle, starter)
    router = SharedRouter(pg_store, core, 5.0, loop=asyncio.get_running_loop(),
                          limits=Limits(routing_timeout_seconds=5, retry_min_seconds=0.0, retry_max_seconds=0.0))
    assert await asyncio.to_thread(router.cycle) == 1  # globex carried out; acme waits behind its refused intent
    assert starter.calls == [("globex", "login")]
    for _ in range(REFUSALS - 1):
        await asyncio.to_thread(router.cycle)
    assert starter.refusals == REFUSALS
    assert starter.calls == [("globex", "login"), ("acme", "login")]  # parked: acme's later intent went on
    assert pg_store.undrained(None, 10) == [] and pg_store.drain_backlog().waiting == 0
    [parked] = pg_store.parked_intents()
    assert (parked.account, parked.attempts, parked.intent["event"]) == ("acme", REFUSALS, "poison")
    [decided] = [a for a in pg_store.actions(account="acme") if a.kind == "decided"]
    assert decided.data["what"] == "intent_parked"
    assert await asyncio.to_thread(router.cycle) == 0 and starter.refusals == REFUSALS  # not tried again


async def test_shared_routing_waits_out_an_outage_without_parking(pg_store: Store, bundle: ir.Bundle) -> None:
    _commit(pg_store)
    starter = Refusing(pg_store, RPCStatusCode.UNAVAILABLE)
    core = RoutingCore(AccountCache(pg_store, lifetime=Lifetime.PER_RUN), bundle, starter)
    router = SharedRouter(pg_store, core, 5.0, loop=asyncio.get_running_loop())
    for _ in range(REFUSALS + 2):
        with pytest.raises(RPCError, match="payload too large"):
            await asyncio.to_thread(router.cycle)
    assert pg_store.parked_intents() == []
    assert [found.attempts for found in pg_store.undrained(None, 10) if found.account == "acme"] == [0, 0]


async def test_shared_routing_shows_the_parked_intents_in_healthz(pg_store: Store, bundle: ir.Bundle) -> None:
    _commit(pg_store)
    first = pg_store.undrained(None, 10)[0].id
    pg_store.refused(first, "INVALID_ARGUMENT: too large", AT, park=True)
    shared = settings().model_copy(update={"api_routing_shared": True})
    app = create_app(shared, pg_store, bundle, Refusing(pg_store), Limits(routing_timeout_seconds=1))
    async with http(app) as api:
        await api.post("/v1/events", content="")  # starts the router
        deadline = asyncio.get_running_loop().time() + 30
        while (routing := (await api.get("/healthz")).json()["routing"])["parked"] is None:
            assert asyncio.get_running_loop().time() < deadline, routing
            await asyncio.sleep(0.05)
    assert routing["parked"] == 1


class RefusingThenDown(Refusing):
    """Refuses `poison`; finds Temporal away for `down`."""

    async def execute(self, bundle: Any, intents: list[Intent],
                      clock_offset_seconds: float | None = None) -> list[StartJourney]:
        if any(isinstance(intent, JourneySignal) and intent.event == "down" for intent in intents):
            raise RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")
        return await super().execute(bundle, intents, clock_offset_seconds)


async def test_shared_routing_keeps_the_parking_decision_when_an_outage_stops_the_cycle_after_it(
        pg_store: Store, bundle: ir.Bundle) -> None:
    pg_store.add_intents([(1, 0, "acme", _signal("acme", "poison")), (2, 0, "globex", _signal("globex", "down"))], AT)
    poison = pg_store.undrained(None, 10)[0].id
    for _ in range(REFUSALS - 1):
        pg_store.refused(poison, "INVALID_ARGUMENT: x", AT, park=False)
    core = RoutingCore(AccountCache(pg_store, lifetime=Lifetime.PER_RUN), bundle, RefusingThenDown(pg_store))
    router = SharedRouter(pg_store, core, 5.0, loop=asyncio.get_running_loop())
    with pytest.raises(RPCError, match="unavailable"):
        await asyncio.to_thread(router.cycle)  # acme's intent parked, then Temporal away for globex's
    assert [parked.id for parked in pg_store.parked_intents()] == [poison]
    assert [a.data["what"] for a in pg_store.actions(account="acme") if a.kind == "decided"] == ["intent_parked"]
