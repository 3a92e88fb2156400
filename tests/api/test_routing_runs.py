"""The background router routes runs of changes with what it reads ahead for the whole run
(`workers/api/routing.py`, `_RunStore`): the same intents and the same logged actions, scores
and condition states as routing each change against the store alone."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dsl import ir
from engine.ingestion import Ingestor
from engine.records import Change
from engine.router import Router
from engine.store import Store
from workers.api.routing import _RunStore

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


def test_routing_runs_read_ahead_decides_as_routing_change_by_change(tmp_path: Path, bundle: ir.Bundle) -> None:
    objects = _timeline()
    plain, changes = _stored(tmp_path, "plain.db", bundle, objects)
    ahead, same = _stored(tmp_path, "ahead.db", bundle, objects)
    try:
        assert [c.seq for c in changes] == [c.seq for c in same]
        router = Router(plain, bundle)
        one_by_one = [intent for change in changes for intent in router.route(change).intents]
        run_store = _RunStore(ahead)
        runs = Router(run_store, bundle)
        in_runs: list[Any] = []
        for first in range(0, len(same), 97):
            run = same[first:first + 97]
            run_store.begin_run(run)
            try:
                in_runs.extend(intent for change in run for intent in runs.route(change).intents)
            finally:
                run_store.end_run()
        assert one_by_one, "the timeline starts journeys"
        assert _outcome(ahead, in_runs) == _outcome(plain, one_by_one)
    finally:
        plain.close()
        ahead.close()
