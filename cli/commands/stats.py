"""`playbook stats [PLAYBOOK] [--since DATE] [--json]`: what each step of the playbooks did.

Per playbook: journeys entered, active now, completed, goal reached, exited (by reason), failed,
and triggers refused. Per step: the journeys that reached it; per statement: emails sent,
suppressed by reason and delayed by quiet hours, opened and clicked (with engagement tracking
on: messages, and their share of those sent), in-app messages shown, tasks opened and
completed (with the median time to complete), how each `if`, `split` and `wait until` went.

By default it asks the running engine's API (`GET /v1/stats`, `GET /v1/playbooks/{id}/stats`);
with `--database-url` or `--store` it reads the store directly and takes the steps from the
playbooks of `--playbooks DIR` (default: `playbooks`). `--json` prints the API's JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from typing import Any

from cli.commands import DEFAULT_FOLDER, UsageError, existing_folder
from cli.commands.api_client import (
    EngineError,
    api_from_args,
    failing_cleanly,
    load_settings,
    parse_when,
)
from cli.commands.view_sources import StoreViews, add_store_options
from dsl import ir
from engine.insight.analytics import PlaybookStats, StatementStats, Stats, playbook_stats
from engine.insight.arm_results import SplitResults
from engine.store import Store

__all__ = ["add_source_options", "local_bundle", "local_store", "register", "report", "run", "unknown_audience"]


def unknown_audience(name: str, bundle: ir.Bundle) -> str:
    known = ", ".join(sorted(bundle.audiences)) or "none is declared"
    return f"no audience '{name}' in the playbooks (audiences: {known})"


# --------------------------------------------------------------------------- shared by why and preview


def add_source_options(parser: argparse.ArgumentParser) -> None:
    add_store_options(parser)
    parser.add_argument("--playbooks", metavar="DIR", default=DEFAULT_FOLDER,
                        help=f"the folder of playbooks, when reading the store directly (default: {DEFAULT_FOLDER})")


def reads_store(args: argparse.Namespace) -> bool:
    if args.url and (args.database_url or args.store):
        raise UsageError("--url asks the API; --database-url and --store read the store: give one or the other")
    return bool(args.database_url or args.store)


def local_bundle(folder: str) -> ir.Bundle:
    """The compiled folder, or a UsageError that shows its first problems."""
    from cli.commands.plugins import installed_catalog
    from dsl.project import compile_folder

    compilation = compile_folder(existing_folder(folder), plugins=installed_catalog())
    if compilation.bundle is None:
        first = "\n".join(compilation.render().splitlines()[:6])
        raise UsageError(f"the playbooks in {folder} do not compile (run `playbook check {folder}`):\n{first}")
    return compilation.bundle


def local_store(args: argparse.Namespace) -> Store:
    url = args.database_url or load_settings().store_url
    return StoreViews.open(url).store


# --------------------------------------------------------------------------- the report


def _rate(rate: float | None) -> str:
    return "" if rate is None else f" ({rate * 100:.1f}%)"


def _counts(stats: StatementStats) -> str:
    parts: list[str] = []
    if stats.sent is not None:
        parts.append(f"sent {stats.sent}")
    if stats.emails_opened or stats.emails_clicked:  # engagement tracking on, and something heard
        parts.append(f"opened {stats.emails_opened or 0}{_rate(stats.open_rate)}, "
                     f"clicked {stats.emails_clicked or 0}{_rate(stats.click_rate)}")
    if stats.shown is not None:
        parts.append(f"shown {stats.shown}")
    if stats.suppressed:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(stats.suppressed.items()))
        parts.append(f"suppressed {sum(stats.suppressed.values())} ({reasons})")
    if stats.delayed_by_quiet_hours:
        parts.append(f"delayed by quiet hours {stats.delayed_by_quiet_hours}")
    if stats.delayed_by_send_window:
        parts.append(f"held for the send window {stats.delayed_by_send_window}")
    if stats.deferred_over_cap:
        parts.append(f"deferred over the cap {stats.deferred_over_cap}")
    if stats.opened is not None:
        parts.append(f"opened {stats.opened}, completed {stats.completed or 0}")
    if stats.median_hours_to_complete is not None:
        parts.append(f"median {stats.median_hours_to_complete:g} h to complete")
    if stats.outcomes is not None:
        parts.append(", ".join(f"{name} {count}" for name, count in stats.outcomes.items()) or "never ran")
    if stats.done is not None:
        parts.append(f"done {stats.done}")
    if stats.failed:
        parts.append(f"failed {stats.failed}")
    return "; ".join(parts)


def _split(split: SplitResults) -> list[str]:
    lines = [f"  results of {split.path}: {split.statement}"]
    for arm in split.arms:
        rate = f" ({arm.conversion * 100:.1f}%)" if arm.conversion is not None else ""
        sent = "; sent " + ", ".join(f"{name} {count}" for name, count in arm.sent.items()) if arm.sent else ""
        lines.append(f"    {arm.label} ({arm.percent:g}%): entered {arm.entered}, goal reached {arm.goal_reached}"
                     f"{rate}{sent}")
    for comparison in split.comparisons:
        versus = f"    {comparison.arm} vs {comparison.baseline}: "
        if comparison.difference is None:
            lines.append(versus + comparison.verdict)
        else:
            lines.append(f"{versus}{comparison.difference:+.1f} points (95% CI {comparison.low:+.1f} to "
                         f"{comparison.high:+.1f}): {comparison.verdict}")
    return lines


def _playbook(stats: PlaybookStats) -> list[str]:
    title = f' "{stats.title}"' if stats.title else ""
    lines = [f"{stats.id}{title} (version {stats.version})"]
    exited = sum(stats.exited.values())
    reasons = f" ({', '.join(f'{reason}: {n}' for reason, n in sorted(stats.exited.items()))})" if exited else ""
    lines.append(f"  entered {stats.entered}, active now {stats.active}, completed {stats.completed}, "
                 f"goal reached {stats.goal_reached}, exited {exited}{reasons}, failed {stats.failed}")
    refused = [(name, count) for name, count in (("not admitted", stats.not_admitted),
                                                 ("already active", stats.already_active),
                                                 ("re-entry blocked", stats.reentry_blocked)) if count]
    if refused:
        lines.append("  triggers refused: " + ", ".join(f"{name} {count}" for name, count in refused))
    width = max([len(s.path) for step in stats.steps for s in step.statements] + [0])
    for step in stats.steps:
        skipped = f", skipped {step.skipped}" if step.skipped else ""
        lines.append(f"  {step.step}: reached {step.reached}{skipped}")
        for statement in step.statements:
            lines.append(f"    {statement.path.ljust(width)}  {statement.statement}")
            lines.append(f"    {''.ljust(width)}    {_counts(statement)}")
    for split in stats.splits:
        lines.extend(_split(split))
    if stats.other_paths:
        lines.append("  logged by an older version of the playbook:")
        for statement in stats.other_paths:
            lines.append(f"    {statement.path.ljust(width)}  {_counts(statement)}")
    return lines


def report(stats: Stats) -> str:
    since = f"since {stats.since.isoformat()}\n\n" if stats.since is not None else ""
    if stats.audience is not None:
        count = stats.audience_accounts or 0
        since += f"accounts in audience {stats.audience} now: {count}\n\n"
    if not stats.playbooks:
        return since + "no playbooks\n"
    return since + "\n\n".join("\n".join(_playbook(p)) for p in stats.playbooks) + "\n"


# --------------------------------------------------------------------------- the command


def _from_api(args: argparse.Namespace) -> Stats:
    params = {key: value for key, value in (("since", args.since), ("audience", args.audience)) if value} or None
    path = "/v1/stats" if args.playbook is None else \
        f"/v1/playbooks/{urllib.parse.quote(args.playbook, safe='')}/stats"
    with api_from_args(args) as api:
        body: Any = api.json("GET", path, params=params)
    try:
        return Stats.model_validate(body)
    except ValueError:
        raise EngineError(f"the engine at {api.url} answered {path} with something that is not stats") from None


def _from_store(args: argparse.Namespace) -> Stats:
    bundle = local_bundle(args.playbooks)
    if args.playbook is not None and args.playbook not in bundle.playbooks:
        raise UsageError(f"no playbook '{args.playbook}' in {args.playbooks}")
    if args.audience is not None and args.audience not in bundle.audiences:
        raise UsageError(unknown_audience(args.audience, bundle))
    since = parse_when(args.since, "--since") if args.since else None
    store = local_store(args)
    try:
        return playbook_stats(store, bundle, args.playbook, since, args.audience)
    finally:
        store.close()


def _run(args: argparse.Namespace) -> int:
    if args.since:
        parse_when(args.since, "--since")
    stats = _from_store(args) if reads_store(args) else _from_api(args)
    if args.json:
        sys.stdout.write(json.dumps(stats.model_dump(mode="json", exclude_none=True), ensure_ascii=False,
                                    indent=2) + "\n")
        return 0
    sys.stdout.write(report(stats))
    return 0


run = failing_cleanly("stats", _run)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="per-step stats: journeys, emails, suppressions, tasks",
        description="What each step of the playbooks did: journeys that reached it, emails sent and "
                    "suppressed (by reason), in-app messages shown, tasks opened and completed; and per "
                    "playbook, journeys entered, ended (by how) and active now.",
    )
    parser.add_argument("playbook", nargs="?", default=None, metavar="PLAYBOOK",
                        help="only this playbook (default: all)")
    parser.add_argument("--since", metavar="DATE", default=None,
                        help="count only what happened at or after DATE (ISO date or date and time; UTC when "
                             "no offset)")
    parser.add_argument("--audience", metavar="NAME", default=None,
                        help="count only the accounts in this named audience now (an `audience NAME: ...` of "
                             "the playbooks)")
    parser.add_argument("--json", action="store_true", help="the stats as JSON (the API's shape)")
    add_source_options(parser)
    parser.set_defaults(handler=run)

