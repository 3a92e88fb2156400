"""The two sides `journeys_vs_bare.py` compares, each a worker on its own task queue of one
shared dev server and a way to start one journey:

- `EngineSide`: a playbook of six in-app sends at entry (the onboarding shape with its steps at
  day 0), started the way the engine starts journeys (`engine.routing.starter.JourneyStarter`), run by a
  worker from `workers.runtime.build_worker` with the real activities, a real store and a
  `CaptureMailer`;
- `BareSide`: `bare_journey.py`, the same timer and six activities that each write one row to
  SQLite, on a worker with the same sandbox and the same defaults.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bare_journey
from dev_server import cpu_seconds, server_cpu_seconds
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.context import ActivityContext, CaptureMailer
from activities.registry import load_registry
from dsl import ir
from dsl.project import compile_folder
from engine.intake.ingestion import Ingestor
from engine.records import StartJourney
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.workflows.effects import JOURNEY_ENTER
from workers.runtime import build_worker, workflow_runner

__all__ = ["BareSide", "EngineSide", "Side", "bench_bundle", "seed_accounts"]

STEPS = bare_journey.STEPS

MODEL = """\
account fields:
    name: text
    segment: one of enterprise, mid_market, smb, trial
    primary_contact: contact
    csm: owner

events:
    signed
"""

PLAYBOOK = """\
# Six steps at entry: the onboarding shape with every step at day 0.

playbook bench_onboarding "Six in-app steps at entry":
    trigger: event signed
    audience: segment == "smb"

""" + "".join(f"    send in_app step_{n}\n" for n in range(1, STEPS + 1))

TEMPLATE = """\
{{% block subject %}}Step {n} for {{{{ account.name }}}}{{% endblock %}}
{{% block text -%}}
Hello {{{{ contact.name | default("there", true) }}}}, this is step {n} for {{{{ account.name }}}}.
{{%- endblock %}}
"""


async def run_batch(count: int, start_one: Callable[[int], Awaitable[WorkflowHandle[Any, Any]]],
                    concurrency: int = 50) -> float:
    """Start `count` journeys (at most `concurrency` start calls in flight), await every result;
    the seconds from the first start to the last completion."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            handle = await start_one(index)
        await handle.result()

    began = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(count)))
    return time.perf_counter() - began


async def history_shape(client: Client, workflow_id: str) -> dict[str, int]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    kinds = Counter(EventType.Name(event.event_type) for event in history.events)
    return {
        "events": len(history.events),
        "activities": kinds.get("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", 0),
        "timers": kinds.get("EVENT_TYPE_TIMER_STARTED", 0),
        "workflow_tasks": kinds.get("EVENT_TYPE_WORKFLOW_TASK_COMPLETED", 0),
    }


def bench_bundle(folder: Path) -> ir.Bundle:
    (folder / "templates").mkdir(parents=True)
    (folder / "model.play").write_text(MODEL)
    (folder / "bench.play").write_text(PLAYBOOK)
    for n in range(1, STEPS + 1):
        (folder / "templates" / f"step_{n}.in_app.jinja").write_text(TEMPLATE.format(n=n))
    compilation = compile_folder(folder)
    if not compilation.ok or compilation.bundle is None:
        raise SystemExit("the bench playbook does not compile: "
                         + "; ".join(d.headline() for d in compilation.diagnostics))
    return compilation.bundle


def seed_accounts(store: Store, bundle: ir.Bundle, accounts: list[str], at: datetime) -> None:
    objects = [{"account": account, "at": at.isoformat(), "traits": {
        "name": f"Account {account}", "segment": "smb",
        "primary_contact": {"email": f"ana@{account}.example", "name": "Ana"},
        "csm": {"email": "sam@vendor.example", "name": "Sam"}}} for account in accounts]
    result = Ingestor(store, bundle.model).ingest_objects(objects, now=at)
    if result.rejected:
        raise SystemExit(f"seeding the store failed: {result.rejected[:3]}")


def one_at_a_time_registry(registry: Any) -> Any:
    """`registry` with a `journey.enter` that tells the journey this worker sends nothing together
    (an experiment, `--one-at-a-time`): each message its own activity, the end its own local
    activity, as before the engine sent them together."""
    spec = registry.specs[JOURNEY_ENTER]

    async def enter(params: Any, ctx: Any, _fn: Any = spec.fn) -> Any:
        entered = await _fn(params, ctx)
        return entered.model_copy(update={"end_with_last_effect": False, "in_app_runs": False})

    registry.specs[JOURNEY_ENTER] = dataclasses.replace(spec, fn=enter)
    return registry


def threaded_registry() -> Any:
    """The real activities, each run on a thread of its own event loop (an experiment, `--threaded`):
    their synchronous store work then no longer holds up the worker's event loop."""
    registry = load_registry()
    for name, spec in list(registry.specs.items()):
        fn = spec.fn

        async def in_thread(params: Any, ctx: Any, _fn: Any = fn) -> Any:
            return await asyncio.to_thread(lambda: asyncio.run(_fn(params, ctx)))

        registry.specs[name] = dataclasses.replace(spec, fn=in_thread)
    return registry


class Side:
    """One side of the comparison: a worker on its own task queue of the shared dev server, and
    a way to start one journey. `batch` runs `count` journeys and measures them."""

    name = ""

    async def start_one(self, index: int) -> WorkflowHandle[Any, Any]:
        raise NotImplementedError

    async def batch(self, count: int, server_pid: int) -> dict[str, Any]:
        cpu, server = cpu_seconds(), server_cpu_seconds(server_pid)
        seconds = await run_batch(count, self.start_one)
        return {"side": self.name, "journeys": count, "seconds": seconds, "cpu": cpu_seconds() - cpu,
                "server_cpu": server_cpu_seconds(server_pid) - server}


class EngineSide(Side):
    """The engine: `JourneyStarter`, a `build_worker` worker, the real activities and store."""

    name = "engine"

    def __init__(self, client: Client, folder: Path, total: int, lead: float, threaded: bool = False,
                 one_at_a_time: bool = False) -> None:
        self.client, self.lead = client, lead
        self.bundle = bench_bundle(folder / "playbooks")
        self.store = Store.open(f"sqlite:///{folder / 'store.db'}")
        self.task_queue = f"bench-engine-{uuid.uuid4().hex[:8]}"
        self.starter = JourneyStarter(client, self.task_queue, self.store)
        context = ActivityContext(store=self.store, bundle=self.bundle, starter=self.starter, mailer=CaptureMailer())
        self.accounts = [f"e{index:06d}" for index in range(total)]
        seed_accounts(self.store, self.bundle, self.accounts, datetime.now(UTC) - timedelta(minutes=5))
        self.next = 0
        registry = threaded_registry() if threaded else load_registry()
        if one_at_a_time:
            registry = one_at_a_time_registry(registry)
        self.worker = build_worker(client, self.task_queue, registry, context)

    async def start_one(self, index: int) -> WorkflowHandle[Any, Any]:
        account = self.accounts[self.next]
        self.next += 1
        entry = datetime.now(UTC) + timedelta(seconds=self.lead)
        await self.starter.start(self.bundle, StartJourney(playbook="bench_onboarding", account=account,
                                                           entry_at=entry, reason="event signed", event="signed"),
                                 0.0)
        wid, run = self.starter.started[-1]
        return self.client.get_workflow_handle(wid, run_id=run or None)

    async def finish(self) -> dict[str, Any]:
        shape = await history_shape(self.client, self.starter.started[-1][0])
        kinds = Counter(action.kind for action in self.store.actions())
        self.store.close()
        expected = STEPS * self.next
        if kinds.get("in_app", 0) != expected or kinds.get("failed", 0):
            print(f"warning: the engine side logged {dict(kinds)}; expected {expected} in_app", file=sys.stderr)
        return {"shape": shape, "actions": dict(kinds)}


class BareSide(Side):
    """`bare_journey.py` on a worker with the same sandbox and defaults."""

    name = "bare"

    def __init__(self, client: Client, folder: Path, lead: float) -> None:
        self.client, self.lead = client, lead
        self.writer = bare_journey.RowWriter(str(folder / "bare.db"))
        self.task_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
        self.serial = 0
        self.worker = Worker(client, task_queue=self.task_queue, workflows=[bare_journey.BareJourney],
                             activities=[bare_journey.step_activity(self.writer)], workflow_runner=workflow_runner())

    async def start_one(self, index: int) -> WorkflowHandle[Any, Any]:
        self.serial += 1
        return await self.client.start_workflow(
            "bare_journey", bare_journey.BareInput(account=f"b{self.serial:06d}",
                                                   entry_at=datetime.now(UTC) + timedelta(seconds=self.lead)),
            id=f"bare/{self.serial:06d}", task_queue=self.task_queue)

    async def finish(self) -> dict[str, Any]:
        shape = await history_shape(self.client, f"bare/{self.serial:06d}")
        rows = self.writer.count()
        self.writer.close()
        if rows != STEPS * self.serial:
            print(f"warning: the bare side wrote {rows} rows; expected {STEPS * self.serial}", file=sys.stderr)
        return {"shape": shape, "rows": rows}
