"""`playbook simulate [DIR] --events FILE [--start DATE] [--days N] [--json]`.

Runs the folder's playbooks against an event timeline on the real engine (see
`simulation/simulate.py`) and prints every action, ordered by time: a table, or with `--json`
one object per line in the format of the action log. Bad timeline lines are reported on stderr
as `FILE:LINE: reason`; the good ones still run, and the exit status is then 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from activities.plugin_config import PluginNotConfigured, bundle_configs
from activities.registry import load_registry
from cli.commands import DEFAULT_FOLDER, UsageError, existing_folder
from cli.commands.check import report, summary
from cli.commands.log import describe
from cli.commands.plugins import installed_catalog
from dsl.project import compile_folder
from engine.records import ActionRecord
from engine.semantics.time_rules import parse_horizon
from engine.settings import Settings
from simulation.simulate import Simulation, TimelineError, action_lines, simulate

__all__ = ["register", "run"]


def _start(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as error:
        raise UsageError(f"--start: expected a date such as 2026-01-05 or 2026-01-05T09:00:00Z, got {raw!r}") \
            from error
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _describe(action: ActionRecord) -> str:
    """What one action was, in the words of `playbook log` (the same line for the same action)."""
    data = json.loads(json.dumps(action.data, default=_json_value))
    data.pop("version", None)
    return describe({"kind": action.kind, **data})


def _json_value(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _table(actions: list[ActionRecord]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for column in ("at", "account", "playbook", "kind"):
        table.add_column(column, no_wrap=True)  # identifiers stay whole
    table.add_column("what", overflow="fold", ratio=1)
    for action in actions:
        table.add_row(action.at.strftime("%Y-%m-%d %H:%M"), action.account, action.playbook or "",
                      action.kind, _describe(action))
    Console(width=max(120, Console().width)).print(table)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "settings"
        raise UsageError(f"the configuration is not valid: {where}: {first.get('msg', '')} "
                         "(check the PLAYBOOK_* variables and playbook.toml)") from None


def _horizon(args: argparse.Namespace) -> timedelta:
    """`--horizon`, else `PLAYBOOK_TRIGGER_HORIZON`: the live engine's, so both agree."""
    if args.horizon is None:
        return _settings().trigger_horizon
    try:
        return parse_horizon(args.horizon)
    except ValueError as error:
        raise UsageError(f"--horizon: {error}") from None


def _processes(args: argparse.Namespace) -> int | None:
    """`--processes`, else `PLAYBOOK_SIMULATE_PROCESSES`, else None: two per core for a large timeline."""
    if args.processes is not None:
        return int(args.processes)
    return _settings().simulate_processes


async def _stopped_by_sigterm(simulation: Coroutine[Any, Any, Simulation]) -> Simulation:
    """Run the simulation; SIGTERM stops it as Ctrl-C does, so its test servers are shut down."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals here: no handler
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await simulation
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None


def _quiet_engine_logs() -> None:
    """A failed step is reported as a `failed` action; the worker's own log of it is noise here."""
    if os.environ.get("PLAYBOOK_DEBUG", "").strip() in ("", "0", "false", "no"):
        logging.getLogger("temporalio").setLevel(logging.CRITICAL)


def run(args: argparse.Namespace) -> int:
    _quiet_engine_logs()
    folder = existing_folder(args.folder)
    events = Path(args.events)
    if not events.is_file():
        raise UsageError(f"--events: no such file: {args.events}")
    if args.days is not None and args.days <= 0:
        raise UsageError("--days: expected a positive number of days")
    if args.processes is not None and args.processes < 1:
        raise UsageError("--processes: expected a number of processes, 1 or more")
    compilation = compile_folder(folder, plugins=installed_catalog())
    report(compilation)
    if not compilation.ok or compilation.bundle is None:
        print(summary(compilation), file=sys.stderr)
        return 1
    if args.live_plugins:
        try:
            bundle_configs(load_registry(), compilation.bundle)
        except PluginNotConfigured as error:
            print(f"{error}\nplaybook simulate: not starting", file=sys.stderr)
            return 1
    try:
        result = asyncio.run(_stopped_by_sigterm(simulate(
            compilation.bundle, events, start=_start(args.start), days=args.days, live_plugins=args.live_plugins,
            processes=_processes(args), horizon=_horizon(args))))
    except TimelineError as error:
        for rejection in error.rejected:
            print(f"{events}:{rejection.line}: {rejection.reason}", file=sys.stderr)
        print(f"playbook simulate: {error}", file=sys.stderr)
        return 1
    for rejection in result.rejected:
        print(f"{events}:{rejection.line}: {rejection.reason}", file=sys.stderr)
    if args.json:
        out = "\n".join(action_lines(result.actions))
        sys.stdout.write(out + ("\n" if out else ""))
    else:
        _table([a for a in result.actions if args.decisions or a.kind != "decided"])
    return 1 if result.rejected else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="run playbooks against an event timeline and print every action",
        description="Run a folder of playbooks against a timeline of events (JSON lines) on Temporal's "
                    "time-skipping test server, with the real workflows and activities, and print the actions.",
    )
    parser.add_argument("folder", nargs="?", default=DEFAULT_FOLDER, metavar="DIR",
                        help=f"the folder of playbooks (default: {DEFAULT_FOLDER})")
    parser.add_argument("--events", required=True, metavar="FILE", help="the timeline: one JSON event per line")
    parser.add_argument("--start", metavar="DATE", help="when the simulated clock starts (default: the first event)")
    parser.add_argument("--days", type=float, metavar="N", help="how many days to simulate (default: 30, or the "
                        "timeline's length plus a day)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line, as in the action log")
    parser.add_argument("--decisions", action="store_true", help="show the decision log in the table too")
    parser.add_argument("--live-plugins", action="store_true",
                        help="really carry out plugin activities (`do ...`); by default they are only logged")
    parser.add_argument("--horizon", metavar="DURATION",
                        help="input older than this when it arrives (a line's `received_at`) is history and "
                             "triggers nothing (default: PLAYBOOK_TRIGGER_HORIZON, 24h, as the live engine)")
    parser.add_argument("--processes", type=int, metavar="N",
                        help="split the accounts over N processes (default: two per core, up to 8, for a "
                             "timeline of 4,000 lines or more; 1: one process); the actions are the same")
    parser.set_defaults(handler=run)
