"""A store filled by real journeys: the standard playbooks run over `timeline.jsonl`.

`run_timeline` is `workers.simulation.simulate` on a store the tests keep: the timeline workflow,
the journey workflow and the real activities on Temporal's time-skipping test server. It runs
once per test session (it takes several seconds); tests only read the store it fills.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.context import ActivityContext, CaptureMailer, OutgoingMail
from activities.registry import load_registry
from dsl import ir
from dsl.project import compile_folder
from engine.starter import JourneyStarter
from engine.store import Store
from engine.workflows.timeline import TimelineInput
from workers.runtime import DATA_CONVERTER, build_worker, quiet_runtime
from workers.simulation import _settle, load_timeline, time_skipping_server

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


@pytest.fixture(scope="session")
def bundle() -> ir.Bundle:
    compilation = compile_folder(ROOT / "playbooks")
    assert compilation.bundle is not None, compilation.render()
    return compilation.bundle


async def run_timeline(store: Store, bundle: ir.Bundle, events: Path, days: float) -> tuple[datetime, datetime,
                                                                                             list[OutgoingMail]]:
    feed, begin = load_timeline(events, bundle.model, None)
    end = begin + timedelta(days=days)
    mailer = CaptureMailer()
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=time_skipping_server(), runtime=quiet_runtime())
    async with env:
        task_queue = f"insight-{uuid.uuid4().hex[:8]}"
        context = ActivityContext(store=store, bundle=bundle, starter=JourneyStarter(env.client, task_queue, store),
                                  mailer=mailer, public_url=PUBLIC_URL,
                                  extras={"timeline": feed, "unsubscribe_secret": UNSUBSCRIBE_SECRET})
        async with build_worker(env.client, task_queue, load_registry(), context, max_concurrent_activities=8):
            await env.client.execute_workflow(
                "timeline", TimelineInput(start=begin, end=end, event_times=feed.times()),
                id=f"timeline/{task_queue}", task_queue=task_queue, execution_timeout=timedelta(days=days + 400))
            await _settle(context)
    assert not feed.rejected, feed.rejected
    return begin, end, list(mailer.outbox)


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
def empty_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    yield store
    store.close()
