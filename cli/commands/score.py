"""`playbook score ACCOUNT [--json]`: an account's scores, how they are made up and how they moved.

For each score: its value and band now, the points of each component, and its history: when it
changed, to what, and why (the components whose points moved, or the inputs that went missing).
An unscored account shows the inputs it lacks. The breakdown of each past change comes from the
`score` actions of the log (docs/events-and-actions.md, "Actions out").

`--json` prints one JSON object: `{"account": ID, "scores": [{name, value, band, breakdown,
missing, at, history: [{at, value, band, breakdown, missing, changed}]}]}` where a history
point's `breakdown` (or `missing`, when unscored) is null if the log does not hold it, and
`changed` maps each component whose points moved since the point before to `[before, after]`.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from cli.commands import UsageError
from cli.commands.api_client import (
    console,
    failing_cleanly,
    parse_time,
    shown_number,
    shown_time,
)
from cli.commands.view_sources import add_store_options, views_from_args

__all__ = ["register", "report", "run"]

_BAND_STYLE = {"red": "bold red", "yellow": "yellow", "green": "green"}


def _changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    if before is None or after is None:
        return {}
    names = list(after) + [name for name in before if name not in after]
    return {name: [before.get(name), after.get(name)] for name in names if before.get(name) != after.get(name)}


def _history(detail: dict[str, Any], actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The score's history points, each with its breakdown (from the log) and what changed."""
    logged: dict[datetime, dict[str, Any]] = {}
    for line in actions:
        when = parse_time(line.get("at"))
        if when is not None and line.get("score") == detail.get("name"):
            logged[when] = line
    points: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    history = list(detail.get("history") or [])
    for index, point in enumerate(history):
        at = parse_time(point.get("at"))
        action: dict[str, Any] | None = logged.get(at) if at is not None else None
        breakdown = action.get("breakdown") if action is not None else None
        missing = action.get("missing") if action is not None else None
        if action is None and index == len(history) - 1:  # the latest point: the account's record has it
            if point.get("value") is None:
                missing = detail.get("missing")
            else:
                breakdown = detail.get("breakdown")
        points.append({"at": point.get("at"), "value": point.get("value"), "band": point.get("band"),
                       "breakdown": breakdown, "missing": missing, "changed": _changed(previous, breakdown)})
        if breakdown is not None:
            previous = breakdown
    return points


def report(account: str, scores: dict[str, dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """The `--json` object: every score of the account with its history explained."""
    return {"account": account, "scores": [
        {"name": name, "value": detail.get("value"), "band": detail.get("band"),
         "breakdown": detail.get("breakdown") or {}, "missing": detail.get("missing") or [], "at": detail.get("at"),
         "history": _history(detail, actions)}
        for name, detail in sorted(scores.items())
    ]}


def _why(point: dict[str, Any], first: bool) -> str:
    if point["value"] is None:
        missing = point.get("missing")
        return f"unscored: missing {', '.join(missing)}" if missing else "unscored"
    if point["changed"]:
        return ", ".join(f"{name} {shown_number(old) or '-'} → {shown_number(new) or '-'}"
                         for name, (old, new) in point["changed"].items())
    return "first scored" if first else ""


def _print(result: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    for score in result["scores"]:
        band = score["band"]
        if score["value"] is None:
            out.print(Text(f"{score['name']}: unscored", style="bold"))
            if score["missing"]:
                out.print(Text(f"  missing inputs: {', '.join(score['missing'])}"))
        else:
            headline = Text(f"{score['name']}: {shown_number(score['value'])} ", style="bold")
            headline.append(str(band or ""), style=_BAND_STYLE.get(str(band), ""))
            if score["at"]:
                headline.append(f" (since {shown_time(score['at'])} UTC)", style="")
            out.print(headline)
            if score["breakdown"]:
                table = Table(header_style="bold", title="breakdown", title_justify="left")
                table.add_column("component", overflow="fold")
                table.add_column("points", justify="right")
                for name, points in score["breakdown"].items():
                    table.add_row(Text(name), Text(shown_number(points)))
                out.print(table)
        if score["history"]:
            table = Table(header_style="bold", title="history", title_justify="left")
            table.add_column("at (UTC)")
            table.add_column("score", justify="right")
            table.add_column("band")
            table.add_column("why", overflow="fold")
            for index, point in enumerate(score["history"]):
                band = str(point["band"] or "")
                table.add_row(Text(shown_time(point["at"])), Text(shown_number(point["value"])),
                              Text(band, style=_BAND_STYLE.get(band, "")), Text(_why(point, index == 0)))
            out.print(table)
        else:
            out.print(Text("  no score recorded yet"))


def _run(args: argparse.Namespace) -> int:
    views = views_from_args(args)
    try:
        scores = views.scores(args.account)
        actions = views.log(account=args.account, kind="score")
    finally:
        views.close()
    if args.score is not None:
        if args.score not in scores:
            known = ", ".join(sorted(scores)) or "none"
            raise UsageError(f"--score: account '{args.account}' has no score '{args.score}' (its scores: {known})")
        scores = {args.score: scores[args.score]}
    result = report(args.account, scores, actions)
    if args.json:
        import json

        print(json.dumps(result, ensure_ascii=False))
        return 0
    if not result["scores"]:
        print(f"{args.account}: no score recorded yet")
        return 0
    _print(result)
    return 0


run = failing_cleanly("score", _run)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="an account's score: breakdown, history and why it changed",
        description="Show an account's scores: the points of each component, the history of changes and why, "
                    "and the missing inputs of an unscored account.",
    )
    parser.add_argument("account", metavar="ACCOUNT", help="the account's id")
    parser.add_argument("--score", metavar="NAME", default=None, help="only this score (default: every score)")
    parser.add_argument("--json", action="store_true", help="one JSON object (see `playbook score --help`)")
    add_store_options(parser)
    parser.set_defaults(handler=run)
