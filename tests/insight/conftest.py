"""A store filled by real journeys: the standard playbooks run over `timeline.jsonl`.

`run_timeline` is `simulation.simulate.simulate` on a store the tests keep: the timeline workflow,
the journey workflow and the real activities on Temporal's time-skipping test server. It runs
once per test session (it takes several seconds); tests only read the store it fills.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from activities.context import OutgoingMail
from dsl import ir
from engine.store import Store
from simulation.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
TIMELINE = Path(__file__).with_name("timeline.jsonl")
PUBLIC_URL = "http://engine.test"
UNSUBSCRIBE_SECRET = "insight-secret"
DAYS = 19


@dataclass
class Ran:
    store: Store
    bundle: ir.Bundle
    start: datetime
    end: datetime
    outbox: list[OutgoingMail]


async def run_timeline(store: Store, bundle: ir.Bundle, events: Path, days: float) -> tuple[datetime, datetime,
                                                                                             list[OutgoingMail]]:
    result = await simulate(bundle, events, days=days, store=store, live_plugins=True, public_url=PUBLIC_URL,
                            extras={"unsubscribe_secret": UNSUBSCRIBE_SECRET})
    assert not result.rejected, result.rejected
    return result.start, result.end, result.outbox


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("insight") / "store.db"


@pytest.fixture(scope="session")
async def ran(store_path: Path, bundle: ir.Bundle) -> AsyncIterator[Ran]:
    store = Store.open(f"sqlite:///{store_path}")
    try:
        start, end, outbox = await run_timeline(store, bundle, TIMELINE, DAYS)
        yield Ran(store=store, bundle=bundle, start=start, end=end, outbox=outbox)
    finally:
        store.close()


@pytest.fixture
def empty_store(store: Store) -> Store:
    """The root conftest's fresh store, by the name the insight tests give it."""
    return store
