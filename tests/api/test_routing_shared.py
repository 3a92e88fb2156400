"""Routing shared by several processes on PostgreSQL (`server.api.routing_shared`): two real router
processes route disjoint accounts at once, and one killed (SIGKILL) in the middle of a batch
leaves nothing routed twice and nothing skipped; the journeys started and signalled are those one
process routing alone starts and signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dsl import ir
from engine.intake.ingestion import Ingestor
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.settings import Settings
from engine.store import Store
from engine.store.schema import events, routing_intents
from server.app import create_app
from tests.api.conftest import TOKEN, engine, http
from tests.stores import sqlite_url

ROUTER = Path(__file__).resolve().parent / "shared_router_process.py"
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
NOW = T0 + timedelta(days=3)
FAR = timedelta(days=365)
RUN = 20  # changes per batch: a router takes several batches


def _timeline(accounts: int, logins: int) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for number in range(accounts):
        account = f"acct-{number:03d}"
        segment = ("smb", "mid_market", "trial")[number % 3]
        objects.append({"id": f"{account}-traits", "account": account, "at": T0.isoformat(),
                        "traits": {"name": account, "segment": segment, "timezone": "UTC",
                                   "primary_contact": {"email": f"ops@{account}.example", "name": "Ops"}}})
        objects.append({"id": f"{account}-signed", "account": account, "event": "signed", "data": {},
                        "at": (T0 + timedelta(minutes=5)).isoformat()})
        objects.extend({"id": f"{account}-login-{day}", "account": account, "event": "login", "data": {},
                        "at": (T0 + timedelta(hours=1 + day)).isoformat()} for day in range(logins))
        if number % 4 == 0:  # heard by the onboarding journeys (their exit)
            objects.append({"id": f"{account}-churned", "account": account, "event": "churned", "data": {},
                            "at": (T0 + timedelta(hours=2 + logins)).isoformat()})
    return objects


def _intents_routing_alone(bundle: ir.Bundle, objects: list[dict[str, Any]], folder: Path
                           ) -> set[tuple[str, str, str]]:
    """(event id, start or signal, playbook) of every intent one process routing alone decides."""
    store = Store.open(sqlite_url(folder / "alone.db"))
    try:
        changes = Ingestor(store, bundle.model).ingest_objects(objects, NOW, horizon=FAR).accepted
        core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle,
                           JourneyStarter(None, "alone", store))  # type: ignore[arg-type]  # nothing carried out
        found = core.route_run(changes)
        return {(str(change.event_id), intent.kind, intent.playbook)
                for change, intents in zip(changes, found, strict=True) for intent in intents}
    finally:
        store.close()


def _wait_for(fact: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not fact():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _routed_counts(log: Path) -> list[int]:
    return [int(line.split()[1]) for line in log.read_text().splitlines() if line.startswith("routed ")]


def _router(url: str, log: Path, *hold: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(ROUTER), url, str(RUN), *map(str, hold)],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=ROUTER.parents[2])


def test_a_router_killed_mid_batch_leaves_nothing_routed_twice_or_skipped(
        pg_store: Store, postgres_url: str, bundle: ir.Bundle, tmp_path: Path) -> None:
    objects = _timeline(accounts=48, logins=6)
    stored = Ingestor(pg_store, bundle.model).ingest_objects(objects, NOW, horizon=FAR).accepted
    assert len(stored) == len(objects)
    held, first_log, second_log = tmp_path / "held", tmp_path / "first.log", tmp_path / "second.log"
    first = _router(postgres_url, first_log, held)
    second: subprocess.Popen[bytes] | None = None
    try:
        _wait_for(held.exists, "the first router to hold its second batch")
        second = _router(postgres_url, second_log)
        # the second routes other accounts while the first holds its partitions mid-batch
        _wait_for(lambda: any(_routed_counts(second_log)), "the second router to route beside the first")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert second.wait(timeout=300) == 0, second_log.read_text()[-2000:]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    committed_by_first = _routed_counts(first_log)[-1]
    assert 0 < committed_by_first < len(stored)
    with pg_store.database.engine.connect() as conn:
        unrouted = conn.execute(select(func.count()).select_from(events).where(events.c.routed_at.is_(None)))
        assert unrouted.scalar_one() == 0  # nothing skipped
        undrained = conn.execute(select(func.count()).select_from(routing_intents)
                                 .where(routing_intents.c.drained_at.is_(None)))
        assert undrained.scalar_one() == 0
        intents = {(row.id, row.intent["kind"], row.intent["playbook"]) for row in conn.execute(
            select(events.c.id, routing_intents.c.intent).join(events, events.c.seq == routing_intents.c.change))}
    # nothing routed twice: what the two committed adds up to the changes stored, no more
    assert committed_by_first + _routed_counts(second_log)[-1] == len(stored)
    # the journeys started and signalled are those one process routing alone starts and signals
    assert intents == _intents_routing_alone(bundle, objects, tmp_path)
    assert {kind for _, kind, _ in intents} == {"start", "signal"}


def _signup(account: str) -> str:
    objects = [{"id": f"{account}-1", "account": account, "traits": {
                    "name": account, "segment": "smb", "timezone": "UTC",
                    "primary_contact": {"email": f"ana@{account}.example", "name": "Ana"}}},
               {"id": f"{account}-2", "account": account, "event": "signed"}]
    return "\n".join(json.dumps(obj) for obj in objects)


async def test_two_api_processes_sharing_the_routing_each_answer_wait_true_once_a_router_routed_it(
        pg_store: Store, bundle: ir.Bundle) -> None:
    shared = Settings(api_token=TOKEN, unsubscribe_secret="test", public_url="http://api.test",
                      api_routing_shared=True)
    async with engine(pg_store, bundle) as running:
        first, second = (create_app(shared, pg_store, bundle, running.starter) for _ in range(2))
        async with http(first) as one, http(second) as two:
            answers = [await one.post("/v1/events", params={"wait": "true"}, content=_signup("globex")),
                       await two.post("/v1/events", params={"wait": "true"}, content=_signup("initech"))]
            assert [answer.json()["routed"] for answer in answers] == [True, True]
            assert pg_store.unrouted(limit=10) == []
            deadline = time.monotonic() + 30
            while True:  # each router says what it did once its cycle is over
                statuses = [(await api.get("/healthz")).json()["routing"] for api in (one, two)]
                settled = all(status["backlog"] == 0 for status in statuses)
                if (sum(status["routed"] for status in statuses) == 4 and settled) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
    assert sorted(wid for wid, _ in running.starter.started) == ["journey/smb_onboarding/globex",
                                                                 "journey/smb_onboarding/initech"]
    assert sum(status["routed"] for status in statuses) == 4  # each event routed by one of the two
    assert [status["backlog"] for status in statuses] == [0, 0]


def test_a_partition_held_by_one_router_is_skipped_by_another_not_waited_for(
        pg_store: Store, bundle: ir.Bundle) -> None:
    Ingestor(pg_store, bundle.model).ingest_objects(_timeline(accounts=8, logins=1), NOW, horizon=FAR)
    other = Store.open(pg_store.url, migrate=False)  # another router's connections
    try:
        with pg_store.claimed(64) as first, other.claimed(64) as second:
            assert first and second == []  # at once: nothing left to it, and no waiting
        with other.claimed(2) as second:  # released with the first's transaction
            assert len(second) == 2 and set(second) <= set(first)
    finally:
        other.close()
