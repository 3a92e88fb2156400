"""`playbook tasks [--owner EMAIL] [--type TYPE] [--overdue] [--all] [--json]`: a CSM's work list.

Open tasks (every task with `--all`, only the late ones with `--overdue`), overdue first, then by
due time: account, title, owner, when it is due relative to now ("in 2 days", "3 hours
overdue"), priority and the playbook that opened it. `--json` prints one JSON object per line,
each a task as `GET /v1/tasks` answers it, in the same order. `--complete ID` marks a task done
(through the API, so the journey waiting on it hears of it); `--step ID N` ticks step N of its
checklist. A task's type and reason show when any task listed has them; its checklist shows as
the steps done out of all (`1/3`). `--snooze ID --until WHEN --reason TEXT` keeps a task from
being overdue until then; `--reassign ID --to EMAIL` gives it to another owner.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from cli.commands import UsageError, plural
from cli.commands.api_client import (
    EngineError,
    api_from_args,
    console,
    failing_cleanly,
    parse_time,
    print_json_lines,
)
from cli.commands.view_sources import add_store_options, views_from_args

__all__ = ["checklist_progress", "ordered", "register", "relative_due", "run"]

_PRIORITY_STYLE = {"urgent": "bold red", "high": "red", "medium": "yellow", "normal": "", "low": "dim"}


def _amount(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return plural(max(minutes, 1), "minute")
    hours = int(seconds // 3600)
    if hours < 36:
        return plural(hours, "hour")
    return plural(round(seconds / 86400), "day")


def relative_due(due: datetime | None, now: datetime) -> str:
    """`in 2 days`, `3 hours overdue`, `due now`; empty when the task has no due time."""
    if due is None:
        return ""
    seconds = (due - now).total_seconds()
    if abs(seconds) < 60:
        return "due now"
    return f"in {_amount(seconds)}" if seconds > 0 else f"{_amount(-seconds)} overdue"


def ordered(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overdue first, then the other open tasks by due time (none last), then the done ones."""
    far = datetime.max.replace(tzinfo=UTC)

    def key(task: dict[str, Any]) -> tuple[bool, bool, datetime, str]:
        due = parse_time(task.get("due")) or far
        done = task.get("status") != "open"
        if done:
            due = parse_time(task.get("completed_at")) or far
        return done, not task.get("overdue"), due, str(task.get("id"))

    return sorted(tasks, key=key)


def checklist_progress(task: dict[str, Any]) -> str:
    """`1/3`: the steps of the task's checklist done out of all; empty without a checklist."""
    steps = task.get("checklist") or []
    return f"{sum(1 for step in steps if step.get('done_at'))}/{len(steps)}" if steps else ""


def _work_item(task: dict[str, Any]) -> str:
    """`risk: low_usage`, `risk`, `1/3` or `risk: low_usage, 1/3`."""
    kind = ": ".join(str(task[key]) for key in ("task_type", "reason") if task.get(key))
    return ", ".join(part for part in (kind, checklist_progress(task)) if part)


def _table(tasks: list[dict[str, Any]], show_status: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    now = datetime.now(UTC)
    table = Table(header_style="bold")
    for column in ("id", "account"):
        table.add_column(column, no_wrap=True)  # identifiers and addresses stay whole
    table.add_column("title", overflow="fold", ratio=1)
    work_items = any(_work_item(task) for task in tasks)
    if work_items:
        table.add_column("work item", overflow="fold")
    table.add_column("owner", no_wrap=True)
    for column in ("due", "priority", "playbook"):
        table.add_column(column, no_wrap=True)
    if show_status:
        table.add_column("status")
    for task in tasks:
        due = relative_due(parse_time(task.get("due")), now) if task.get("status") == "open" else ""
        priority = str(task.get("priority") or "")
        row = [Text(str(task.get(name) or "")) for name in ("id", "account", "title")]
        if work_items:
            row.append(Text(_work_item(task)))
        escalated = f" (escalated to {task['escalated_to']})" if task.get("escalated_to") else ""
        row.append(Text(str(task.get("owner") or "") + escalated))
        row += [Text(due, style="red" if task.get("overdue") else ""),
                Text(priority, style=_PRIORITY_STYLE.get(priority, "")), Text(str(task.get("playbook") or ""))]
        if show_status:
            row.append(Text(str(task.get("status"))))
        table.add_row(*row)
    console().print(table)


def _complete(args: argparse.Namespace) -> int:
    if args.database_url or args.store:
        raise UsageError("--complete tells the task's journey, which needs the engine: use the API (--url), "
                         "not --database-url or --store")
    with api_from_args(args) as api:
        path = f"/v1/tasks/{urllib.parse.quote(args.complete, safe='')}/complete"

        def paused(reason: str, seconds: float) -> None:
            print(f"the engine cannot take the completion yet ({reason}); "
                  f"trying again in {seconds:g} s", file=sys.stderr)

        body = json.dumps({"outcome": args.outcome}) if args.outcome else None
        response = api.send_retrying("POST", path, retries=args.retries, on_pause=paused, content=body,
                                     headers={"Content-Type": "application/json"} if body else None)
        try:
            answer = response.json()
            task = answer["task"]
        except (ValueError, KeyError, TypeError):
            raise EngineError(f"the engine at {api.url} answered {path} without the task") from None
    if args.json:
        print_json_lines([task])
        return 0
    what = "done" if answer.get("accepted") else "already done"
    print(f"{task.get('id')}: {what}: {task.get('title')} ({task.get('account')})")
    return 0


def _step(args: argparse.Namespace) -> int:
    task_id, number = args.step
    if not number.isdigit() or int(number) < 1:
        raise UsageError(f"--step {task_id} {number}: the step is a number from 1")
    if args.database_url or args.store:
        raise UsageError("--step ticks a step through the engine: use the API (--url), not --database-url or --store")
    with api_from_args(args) as api:
        path = f"/v1/tasks/{urllib.parse.quote(task_id, safe='')}/steps/{int(number)}/done"
        task = api.json("POST", path)
    if args.json:
        print_json_lines([task])
        return 0
    step = (task.get("checklist") or [])[int(number) - 1]
    print(f"{task.get('id')}: step {number} done: {step.get('title')} ({checklist_progress(task)})")
    return 0


def _change(args: argparse.Namespace) -> int:
    """`--snooze ID --until WHEN --reason TEXT` or `--reassign ID --to EMAIL [--reason TEXT]`."""
    if args.database_url or args.store:
        raise UsageError("--snooze and --reassign change a task through the engine: use the API (--url), "
                         "not --database-url or --store")
    if args.snooze is not None:
        until = parse_time(args.until)
        if until is None or not args.reason:
            raise UsageError("--snooze ID needs --until WHEN (e.g. 2026-01-20T09:00:00Z) and --reason TEXT")
        task_id, action, body = args.snooze, "snooze", {"until": until.isoformat(), "reason": args.reason}
    else:
        if not args.to:
            raise UsageError("--reassign ID needs --to EMAIL")
        task_id, action = args.reassign, "reassign"
        body = {"owner": args.to, **({"reason": args.reason} if args.reason else {})}
    with api_from_args(args) as api:
        task = api.json("POST", f"/v1/tasks/{urllib.parse.quote(task_id, safe='')}/{action}",
                        content=json.dumps(body), headers={"Content-Type": "application/json"})
    if args.json:
        print_json_lines([task])
    elif action == "snooze":
        print(f"{task.get('id')}: snoozed until {task.get('snoozed_until')}: {task.get('title')}")
    else:
        print(f"{task.get('id')}: now for {task.get('owner')}: {task.get('title')}")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.outcome is not None and args.complete is None:
        raise UsageError("--outcome goes with --complete ID")
    if args.complete is not None:
        return _complete(args)
    if args.step is not None:
        return _step(args)
    if args.snooze is not None or args.reassign is not None:
        return _change(args)
    if args.all and args.overdue:
        raise UsageError("--overdue lists open tasks past their due time; it cannot be combined with --all")
    views = views_from_args(args)
    try:
        tasks = views.tasks(owner=args.owner, status=None if args.all else "open", overdue=args.overdue,
                            task_type=args.type)
    finally:
        views.close()
    tasks = ordered(tasks)
    if args.json:
        print_json_lines(tasks)
        return 0
    which = "overdue " if args.overdue else ("" if args.all else "open ")
    whose = f" for {args.owner}" if args.owner else ""
    if not tasks:
        print(f"no {which}tasks{whose}")
        return 0
    _table(tasks, show_status=args.all)
    late = sum(1 for task in tasks if task.get("overdue"))
    note = f" ({late:,} overdue)" if late and not args.overdue else ""
    print(f"{plural(len(tasks), which + 'task')}{whose}{note}")
    return 0


run = failing_cleanly("tasks", _run)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tasks",
        help="open tasks, overdue first (or mark one done)",
        description="List the open tasks the playbooks opened, overdue first, or mark one done with --complete.",
    )
    parser.add_argument("--owner", metavar="EMAIL", default=None, help="only the tasks of this owner")
    parser.add_argument("--type", metavar="TYPE", default=None, help="only the tasks of this type (risk, renewal, ...)")
    parser.add_argument("--overdue", action="store_true", help="only the open tasks past their due time")
    parser.add_argument("--all", action="store_true", help="the done tasks too")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line, each a task as GET /v1/tasks answers it")
    parser.add_argument("--complete", metavar="ID", default=None, help="mark task ID done")
    parser.add_argument("--outcome", metavar="NAME", default=None,
                        help="with --complete: how it ended (resolved, no_response, churned ...)")
    parser.add_argument("--snooze", metavar="ID", default=None, help="snooze task ID (with --until and --reason)")
    parser.add_argument("--until", metavar="WHEN", default=None, help="with --snooze: when it is due again")
    parser.add_argument("--reason", metavar="TEXT", default=None, help="with --snooze or --reassign: why")
    parser.add_argument("--reassign", metavar="ID", default=None, help="give task ID to another owner (with --to)")
    parser.add_argument("--to", metavar="EMAIL", default=None, help="with --reassign: the new owner")
    parser.add_argument("--step", nargs=2, metavar=("ID", "N"), default=None,
                        help="tick step N (from 1) of task ID's checklist")
    parser.add_argument("--retries", metavar="N", type=int, default=None, help=argparse.SUPPRESS)
    add_store_options(parser)
    parser.set_defaults(handler=run)
