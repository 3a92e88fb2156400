"""The routing core routes runs of changes through its cache of accounts (`engine.routing`):
with the per-run lifetime of the API's background router, and with the private-store lifetime of
a simulation, it decides as routing each change against the store alone: the same intents and
the same logged actions, scores and condition states."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dsl import ir
from engine.intake.ingestion import Ingestor
from engine.records import Change
from engine.routing import AccountCache, Lifetime, Router, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _timeline() -> list[dict[str, Any]]:
    sys.path.insert(0, str(BENCH))
    import generate_timeline

    return list(generate_timeline.generate(40, 30, 11, generate_timeline.DEFAULT_START))


def _stored(tmp_path: Path, name: str, bundle: ir.Bundle, objects: list[dict[str, Any]]) -> tuple[Store, list[Change]]:
    store = Store.open(f"sqlite:///{tmp_path / name}")
    # routed as live input: a horizon that takes the whole timeline
    result = Ingestor(store, bundle.model).ingest_objects(objects, datetime(2026, 3, 1, tzinfo=UTC),
                                                           horizon=timedelta(days=365))
    assert not result.rejected, result.rejected[:3]
    return store, result.accepted


def _outcome(store: Store, intents: list[Any]) -> tuple[Any, ...]:
    actions = [(a.at, a.account, a.playbook, a.kind, a.key) for a in store.actions()]
    accounts = store.account_ids()
    scores = {account: {name: state.model_dump() for name, state in store.latest_scores(account).items()}
              for account in accounts}
    conditions = store.conditions_of(accounts)
    return [intent.model_dump() for intent in intents], actions, scores, conditions


@pytest.mark.parametrize("lifetime", [Lifetime.PER_RUN, Lifetime.PRIVATE_STORE])
def test_routing_runs_through_the_cache_decides_as_routing_change_by_change(
        tmp_path: Path, bundle: ir.Bundle, lifetime: Lifetime) -> None:
    objects = _timeline()
    plain, changes = _stored(tmp_path, "plain.db", bundle, objects)
    cached, same = _stored(tmp_path, "cached.db", bundle, objects)
    try:
        assert [c.seq for c in changes] == [c.seq for c in same]
        router = Router(plain, bundle)
        one_by_one = [intent for change in changes for intent in router.route(change).intents]
        core = RoutingCore(AccountCache(cached, lifetime=lifetime), bundle,
                           JourneyStarter(None, "q", cached))  # type: ignore[arg-type]  # nothing is carried out
        in_runs: list[Any] = []
        for first in range(0, len(same), 97):
            in_runs.extend(intent for intents in core.route_run(same[first:first + 97]) for intent in intents)
        assert one_by_one, "the timeline starts journeys"
        assert _outcome(cached, in_runs) == _outcome(plain, one_by_one)
    finally:
        plain.close()
        cached.close()
