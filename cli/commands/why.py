"""`playbook why ACCOUNT [PLAYBOOK] [--at DATE] [--json]`: the account's story, from the decision log.

In time order, one plain sentence a line: when the account entered a playbook (and what the
trigger and the audience read) or was not admitted (which condition, with the values read), each
branch and split with the values it read, each suppression and its reason, each quiet-hours
delay, waits and how they ended, tasks done, exits, goals and endings; then, for every journey
still active, what is scheduled next and when.

By default it asks the running engine's API (`GET /v1/accounts/{id}/why`); with `--database-url`
or `--store` it reads the store directly, with the playbooks of `--playbooks DIR`. `--at` tells
the story as of a moment (a simulation's day, say). `--json` prints the structured story.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from cli.commands import UsageError
from cli.commands.api_client import EngineError, api_from_args, failing_cleanly, parse_when
from cli.commands.stats import add_source_options, local_bundle, local_store, reads_store
from engine.insight.story import Story, tell
from engine.read_model import known_account

__all__ = ["register", "report", "run"]


def report(story: Story) -> str:
    """The story as text: `2026-03-03 13:00  smb_onboarding  Day 0: sent email welcome …`."""
    scope = f" in {story.playbook}" if story.playbook else ""
    head = f"{story.account}{scope}, as of {story.now.astimezone(UTC).strftime('%Y-%m-%d %H:%M')} UTC " \
           f"(account time: {story.timezone})"
    if not story.lines:
        return head + "\nnothing in the log for this account" + (scope and " in this playbook") + "\n"
    width = max(len(line.playbook or "") for line in story.lines)
    rows = [head, ""]
    for line in story.lines:
        when = line.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        rows.append(f"{when}  {(line.playbook or '').ljust(width)}  {line.text}")
    return "\n".join(rows) + "\n"


def _from_api(args: argparse.Namespace) -> Story:
    params = {key: value for key, value in (("playbook", args.playbook), ("at", args.at)) if value}
    path = f"/v1/accounts/{urllib.parse.quote(args.account, safe='')}/why"
    with api_from_args(args) as api:
        body: Any = api.json("GET", path, params=params or None)
    try:
        return Story.model_validate(body)
    except ValueError:
        raise EngineError(f"the engine at {api.url} answered {path} with something that is not a story") from None


def _from_store(args: argparse.Namespace, now: datetime) -> Story:
    bundle = local_bundle(args.playbooks)
    if args.playbook is not None and args.playbook not in bundle.playbooks:
        raise UsageError(f"no playbook '{args.playbook}' in {args.playbooks}")
    store = local_store(args)
    try:
        if not known_account(store, args.account):
            raise EngineError(f"no account '{args.account}'")
        return tell(store, bundle, args.account, args.playbook, now)
    finally:
        store.close()


def _run(args: argparse.Namespace) -> int:
    now = parse_when(args.at, "--at") if args.at else datetime.now(UTC)
    story = _from_store(args, now) if reads_store(args) else _from_api(args)
    if args.json:
        sys.stdout.write(json.dumps(story.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n")
        return 0
    sys.stdout.write(report(story))
    return 0


run = failing_cleanly("why", _run)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "why",
        help="an account's story in the playbooks, from the decision log",
        description="Tell, in time order, what the playbooks did with an account and why: entries and "
                    "refusals with the values read, branches, suppressions, quiet hours, waits, exits, and "
                    "what is scheduled next.",
    )
    parser.add_argument("account", metavar="ACCOUNT", help="the account's id")
    parser.add_argument("playbook", nargs="?", default=None, metavar="PLAYBOOK",
                        help="only this playbook (default: all)")
    parser.add_argument("--at", metavar="DATE", default=None,
                        help="the story as of DATE (ISO date or date and time; UTC when no offset); default now")
    parser.add_argument("--json", action="store_true", help="the structured story as JSON")
    add_source_options(parser)
    parser.set_defaults(handler=run)
