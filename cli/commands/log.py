"""`playbook log [--account ID] [--playbook ID] [--since DATE] [--kind KIND] [--json]`: the action log.

Everything the engine did to or for the accounts, ordered by time. `--json` prints exactly the
JSON lines of docs/events-and-actions.md ("Actions out"), one action per line; otherwise a table: when, the
account, the playbook, the kind, and what it was (the template and recipient of an email, the
title, owner and due time of a task, the value and band of a score, the reason of an exit …).
"""

from __future__ import annotations

import argparse
from typing import Any

from cli.commands import plural
from cli.commands.api_client import (
    console,
    failing_cleanly,
    parse_when,
    print_json_lines,
    shown_number,
    shown_time,
)
from cli.commands.view_sources import add_store_options, views_from_args
from engine.decision_text import failure_text

__all__ = ["describe", "register", "run"]

_COMMON = ("at", "account", "playbook", "kind")
_KIND_STYLE = {"failed": "bold red", "exited": "yellow", "suppressed": "yellow", "goal_reached": "green",
               "completed": "green", "task": "cyan", "score": "magenta"}


def _value(value: Any) -> str:
    if isinstance(value, dict) and "email" in value:
        return str(value["email"])
    if isinstance(value, dict):
        return ", ".join(f"{key}={_value(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        return shown_time(value) or value
    return shown_number(value) if isinstance(value, float) else str(value)


def describe(line: dict[str, Any]) -> str:
    """What one action was, in a few words."""
    kind = line.get("kind")
    rest = {key: value for key, value in line.items() if key not in _COMMON and value is not None}
    if kind == "email":
        text = f"{rest.pop('template', '')} to {_value(rest.pop('to', ''))}"
        subject = rest.pop("subject", None)
        if subject:
            text += f": {subject}"
    elif kind == "task":
        text = str(rest.pop("title", ""))
        owner, due = rest.pop("owner", None), rest.pop("due", None)
        if owner:
            text += f" for {_value(owner)}"
        if due:
            text += f", due {_value(due)}"
        priority = rest.pop("priority", None)
        if priority:
            text += f", {priority}"
    elif kind == "score":
        value = rest.pop("value", None)
        text = f"{rest.pop('score', '')} {shown_number(value) if value is not None else 'unscored'}"
        band = rest.pop("band", None)
        if band:
            text += f" ({band})"
        breakdown = rest.pop("breakdown", None)
        missing = rest.pop("missing", None)
        if missing:
            text += f", missing {', '.join(map(str, missing))}"
        if isinstance(breakdown, dict) and breakdown:
            text += ": " + ", ".join(f"{name} {_value(points)}" for name, points in breakdown.items())
    elif kind in ("in_app", "suppressed"):
        text = str(rest.pop("template", ""))
        reason = rest.pop("reason", None)
        if reason:
            text += f" ({reason})"
    elif kind in ("exited", "goal_reached", "enrolled"):
        text = str(rest.pop("reason", ""))
    elif kind == "decided":
        text = f"{rest.pop('what', '')}: {rest.pop('detail', '')}"
        reads = rest.pop("reads", None)
        if isinstance(reads, dict) and reads:
            text += f" (read {_value(reads)})"
    elif kind == "failed":
        text = f"{rest.pop('step', '')}: {failure_text(rest)}"
        for key in ("activity", "attempts", "error"):
            rest.pop(key, None)
    elif kind == "call":
        text = str(rest.pop("activity", ""))
        params = rest.pop("params", None)
        if isinstance(params, dict) and params:
            text += "(" + ", ".join(f"{name}={_value(value)}" for name, value in params.items()
                                    if value is not None) + ")"
    else:
        text = ""
    extra = ", ".join(f"{key}={_value(value)}" for key, value in rest.items())
    return f"{text}; {extra}" if text and extra else (text or extra)


def _table(lines: list[dict[str, Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    table.add_column("at (UTC)", no_wrap=True)
    for column in ("account", "playbook", "kind"):
        table.add_column(column, no_wrap=True)  # identifiers stay whole
    table.add_column("what", overflow="fold", ratio=1)
    for line in lines:
        kind = str(line.get("kind", ""))
        table.add_row(Text(shown_time(line.get("at"))), Text(str(line.get("account", ""))),
                      Text(str(line.get("playbook") or "")), Text(kind, style=_KIND_STYLE.get(kind, "")),
                      Text(describe(line)))
    console().print(table)


def _run(args: argparse.Namespace) -> int:
    since = parse_when(args.since, "--since") if args.since is not None else None
    views = views_from_args(args)
    try:
        lines = views.log(account=args.account, playbook=args.playbook, since=since, kind=args.kind)
    finally:
        views.close()
    if args.json:
        print_json_lines(lines)
        return 0
    if not lines:
        print("no actions logged" + (" for these filters" if args.account or args.playbook or since or args.kind
                                     else ""))
        return 0
    _table(lines)
    print(plural(len(lines), "action"))
    return 0


run = failing_cleanly("log", _run)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "log",
        help="the action log: everything the engine did, by time",
        description="Show the action log, ordered by time; --json prints one action per line as JSON "
                    "(docs/events-and-actions.md).",
    )
    parser.add_argument("--account", metavar="ID", default=None, help="only this account's actions")
    parser.add_argument("--playbook", metavar="ID", default=None, help="only this playbook's actions")
    parser.add_argument("--since", metavar="DATE", default=None,
                        help="only actions at or after DATE (ISO date or date and time; UTC when no offset)")
    parser.add_argument("--kind", metavar="KIND", default=None, help="only actions of this kind (email, task, …)")
    parser.add_argument("--json", action="store_true", help="one action per line as JSON (docs/events-and-actions.md)")
    add_store_options(parser)
    parser.set_defaults(handler=run)
