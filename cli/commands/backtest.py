"""`playbook backtest --base DIR_OR_GIT_REF --head DIR [--since DATE] [--until DATE] [--account ID…]
[--database-url URL] [--json | --format text|json|markdown]`.

Replays the event history kept in the store through the base and the head version of the
playbooks (see `simulation/backtest.py`) and prints what head would have done differently: a
summary sentence per playbook, the counts, and per account the differing actions with the
decisions that made them differ (`simulation/backtest_diff.py`, `simulation/backtest_report.py`).
Nothing is sent and the store is only read. `--format markdown` prints it as a pull-request
comment (`simulation/backtest_markdown.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cli.commands import DEFAULT_FOLDER, UsageError, existing_folder
from cli.commands.check import report, summary
from cli.commands.plugins import installed_catalog
from dsl import ir
from dsl.project import compile_folder
from engine.settings import Settings
from simulation.backtest import BacktestError, Window, materialise_base
from simulation.backtest_diff import DEFAULT_MATCH_WITHIN
from simulation.backtest_markdown import to_markdown
from simulation.backtest_report import run_backtest, to_json, to_text

__all__ = ["parse_moment", "register", "run"]


def parse_moment(raw: str | None, option: str, *, end_of_day: bool) -> datetime | None:
    """A date (`2026-03-31`) or an instant (`2026-03-31T12:00:00Z`), in UTC.

    A bare date means the start of that day for `--since`, and the end of it for `--until`
    (`end_of_day`): `--since 2026-01-01 --until 2026-03-31` is the whole first quarter.
    """
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            value = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return value + timedelta(days=1) if end_of_day else value
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as error:
        raise UsageError(f"{option}: expected a date such as 2026-01-05 or 2026-01-05T09:00:00Z, got {raw!r}") \
            from error
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _quiet_engine_logs() -> None:
    """A failed step is reported as a `failed` action; the worker's own log of it is noise here."""
    if os.environ.get("PLAYBOOK_DEBUG", "").strip() in ("", "0", "false", "no"):
        logging.getLogger("temporalio").setLevel(logging.CRITICAL)


def _compile(folder: Path, label: str) -> ir.Bundle | None:
    compilation = compile_folder(folder, plugins=installed_catalog())
    report(compilation)
    if not compilation.ok or compilation.bundle is None:
        print(f"playbook backtest: the {label} version does not compile: {summary(compilation)}", file=sys.stderr)
        return None
    return compilation.bundle


def run(args: argparse.Namespace) -> int:
    _quiet_engine_logs()
    if args.json and args.format not in ("text", "json"):
        raise UsageError(f"--json and --format {args.format} ask for two reports: give one")
    head_folder = existing_folder(args.head)
    since = parse_moment(args.since, "--since", end_of_day=False)
    until = parse_moment(args.until, "--until", end_of_day=True)
    if since is not None and until is not None and until <= since:
        raise UsageError("--until: the window ends before it starts")
    if args.warmup < 0 or args.match_within < 0:
        raise UsageError("--warmup and --match-within take a positive number of days")
    if args.warmup and since is None:
        raise UsageError("--warmup needs --since (the warm-up is the days before it)")
    window = Window(since=since, until=until, warmup=timedelta(days=args.warmup), on_time=args.on_time)
    store_url = args.database_url or Settings().store_url
    with tempfile.TemporaryDirectory(prefix="playbook-backtest-base-") as scratch:
        try:
            base_folder, base_label = materialise_base(args.base, head_folder, Path(scratch) / "base")
        except BacktestError as error:
            raise UsageError(str(error)) from error
        base = _compile(base_folder, "base")
        head = _compile(head_folder, "head")
        if base is None or head is None:
            return 1
        try:
            result = asyncio.run(run_backtest(
                base, head, store_url, window, accounts=args.account, base_label=base_label,
                head_label=str(head_folder), match_within=timedelta(days=args.match_within)))
        except BacktestError as error:
            print(f"playbook backtest: {error}", file=sys.stderr)
            return 1
    if args.json or args.format == "json":
        sys.stdout.write(json.dumps(to_json(result), ensure_ascii=False, indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(to_markdown(result))
    else:
        sys.stdout.write(to_text(result, accounts_shown=args.accounts_shown or None))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="replay the stored event history through two versions of the playbooks and show the difference",
        description="Replay the events kept in the store through the base and the head version of the "
                    "playbooks on Temporal's time-skipping test server and print what head would have done "
                    "differently: per playbook, emails, tasks and in-app messages added and removed, and per "
                    "account the differing actions with the decisions behind them. Nothing is sent; the store "
                    "is only read.",
    )
    parser.add_argument("--base", required=True, metavar="DIR_OR_GIT_REF",
                        help="the version to compare against: a folder, or a git revision (main, HEAD~1) whose "
                             "copy of the --head folder is used")
    parser.add_argument("--head", default=DEFAULT_FOLDER, metavar="DIR",
                        help=f"the folder of the proposed playbooks (default: {DEFAULT_FOLDER})")
    parser.add_argument("--since", metavar="DATE", help="compare from this date or instant (default: the first "
                        "stored event)")
    parser.add_argument("--until", metavar="DATE", help="compare up to the end of this date, or up to this "
                        "instant (default: now)")
    parser.add_argument("--account", action="append", default=[], metavar="ID",
                        help="only this account (repeat for more)")
    parser.add_argument("--database-url", metavar="URL", help="the store to read the history from (default: "
                        "PLAYBOOK_DATABASE_URL or the embedded store)")
    parser.add_argument("--warmup", type=float, default=0.0, metavar="DAYS",
                        help="also replay this many days before --since, without comparing them, so journeys "
                             "already under way are (default: 0)")
    parser.add_argument("--match-within", type=float, default=DEFAULT_MATCH_WITHIN / timedelta(days=1),
                        metavar="DAYS", help="an action that moved by at most this many days counts as moved, "
                        "not as removed and added (default: 7)")
    parser.add_argument("--accounts-shown", type=int, default=20, metavar="N",
                        help="how many accounts the text report lists (0: all; default: 20)")
    parser.add_argument("--on-time", action="store_true",
                        help="replay each stored object as if it had arrived at its own time (default: when it "
                             "arrived live; back-fill stays history): what the playbooks would have done with a "
                             "back-filled history")
    parser.add_argument("--json", action="store_true", help="the whole comparison as one JSON object")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="text (default), json (as --json) or markdown (a pull-request comment: per playbook "
                             "a table before and after, and the accounts that differ most, with why)")
    parser.set_defaults(handler=run)
