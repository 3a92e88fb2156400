"""`playbook drafts [--reviewer EMAIL] [--all] [--json]`: the emails kept for a person's review
(`send email … review by csm within 1 business day then send`), the soonest deadline first.

`--show ID` prints one as it would go; `--approve ID` sends it as it is, or edited with
`--subject TEXT` and/or `--text-file FILE` (`-` for standard input); `--discard ID --reason TEXT`
drops it. Answers go through the engine's API (`--url`), which tells the waiting journey at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.commands import UsageError, plural
from cli.commands.api_client import (
    Api,
    add_engine_options,
    api_from_args,
    console,
    failing_cleanly,
    parse_time,
    print_json_lines,
    shown_time,
)
from cli.commands.tasks import relative_due

__all__ = ["register", "run"]

TEXT_LIMIT = 100_000  # characters, as the API takes them


def _path(draft_id: str, action: str = "") -> str:
    return f"/v1/drafts/{urllib.parse.quote(draft_id, safe='')}" + (f"/{action}" if action else "")


def _edited_text(raw: str) -> str:
    try:
        text = sys.stdin.read(TEXT_LIMIT + 1) if raw == "-" else Path(raw).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--text-file {raw}: cannot read it ({error})") from None
    if not text.strip():
        raise UsageError(f"--text-file {raw} is empty: an edited email needs a text")
    if len(text) > TEXT_LIMIT:
        raise UsageError(f"--text-file {raw} is longer than {TEXT_LIMIT:,} characters")
    return text


def _answer(args: argparse.Namespace, api: Api) -> int:
    if args.approve is not None:
        body: dict[str, Any] = {}
        if args.subject is not None:
            body["subject"] = args.subject
        if args.text_file is not None:
            body["text"] = _edited_text(args.text_file)
        draft_id, action = args.approve, "approve"
    else:
        if not args.reason:
            raise UsageError("--discard ID needs --reason TEXT (why it should not go)")
        body, draft_id, action = {"reason": args.reason}, args.discard, "discard"
    if args.by:
        body["by"] = args.by
    answer = api.json("POST", _path(draft_id, action), content=json.dumps(body),
                      headers={"Content-Type": "application/json"})
    draft = answer.get("draft", {}) if isinstance(answer, dict) else {}
    if args.json:
        print_json_lines([answer])
        return 0
    state = str(draft.get("state", "")).replace("_", " ")
    when = "now" if answer.get("told") else f"at its deadline ({shown_time(draft.get('review_by'))})"
    what = f"it goes {when}" if action == "approve" else "it will not go"
    print(f"{draft.get('id')}: {state}: {what}: {draft.get('subject')} to {draft.get('to')}")
    return 0


def _show(draft: dict[str, Any]) -> None:
    print(f"draft {draft.get('id')} ({str(draft.get('state')).replace('_', ' ')}), {draft.get('playbook')}, "
          f"account {draft.get('account')}")
    print(f"To: {draft.get('to')}")
    print(f"Subject: {draft.get('subject')}")
    unanswered = "sent" if draft.get("then") == "send" else "dropped"
    print(f"Review by {shown_time(draft.get('review_by'))} ({draft.get('reviewer')}); unanswered, it is {unanswered}.")
    print()
    print(str(draft.get("text") or "").rstrip())


def _table(drafts: list[dict[str, Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    now = datetime.now(UTC)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("id", "account", "subject", "to", "reviewer", "answer", "unanswered", "state"):
        table.add_column(column, overflow="fold" if column == "subject" else "ellipsis")
    for draft in drafts:
        deadline = parse_time(draft.get("review_by"))
        pending = draft.get("state") == "pending"
        answer = relative_due(deadline, now).replace("overdue", "late") if pending and deadline else ""
        table.add_row(*(Text(str(draft.get(name) or "")) for name in ("id", "account", "subject", "to", "reviewer")),
                      Text(answer, style="red" if draft.get("late") else ""),
                      Text("send" if draft.get("then") == "send" else "drop"),
                      Text(str(draft.get("state")).replace("_", " ")))
    console().print(table)


def _run(args: argparse.Namespace) -> int:
    if args.approve is not None and args.discard is not None:
        raise UsageError("--approve and --discard answer one draft one way: give one of them")
    if (args.subject is not None or args.text_file is not None) and args.approve is None:
        raise UsageError("--subject and --text-file edit a draft you --approve")
    with api_from_args(args) as api:
        if args.approve is not None or args.discard is not None:
            return _answer(args, api)
        if args.show is not None:
            draft = api.json("GET", _path(args.show))
            if args.json:
                print_json_lines([draft])
            else:
                _show(draft)
            return 0
        params = {"state": "all" if args.all else "pending"}
        if args.reviewer:
            params["reviewer"] = args.reviewer
        drafts = api.json("GET", "/v1/drafts", params=params)
    if args.json:
        print_json_lines(drafts)
        return 0
    whose = f" for {args.reviewer}" if args.reviewer else ""
    which = "" if args.all else "pending "
    if not drafts:
        print(f"no {which}drafts{whose}")
        return 0
    _table(drafts)
    print(f"{plural(len(drafts), which + 'draft')}{whose}")
    return 0


run = failing_cleanly("drafts", _run)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "drafts",
        help="emails waiting for a person's review (approve, edit or discard one)",
        description="List the drafted emails waiting for review, the soonest deadline first, or answer one.",
    )
    parser.add_argument("--reviewer", metavar="EMAIL", default=None, help="only the drafts this person reviews")
    parser.add_argument("--all", action="store_true", help="the answered and settled drafts too")
    parser.add_argument("--json", action="store_true", help="one JSON object per line, as GET /v1/drafts answers")
    parser.add_argument("--show", metavar="ID", default=None, help="print draft ID as it would go")
    parser.add_argument("--approve", metavar="ID", default=None, help="send draft ID (as it is, or edited)")
    parser.add_argument("--subject", metavar="TEXT", default=None, help="with --approve: the subject as edited")
    parser.add_argument("--text-file", metavar="FILE", default=None,
                        help="with --approve: the text as edited, from FILE ('-': standard input)")
    parser.add_argument("--discard", metavar="ID", default=None, help="drop draft ID (with --reason)")
    parser.add_argument("--reason", metavar="TEXT", default=None, help="with --discard: why it should not go")
    parser.add_argument("--by", metavar="EMAIL", default=None, help="who answers (kept with the answer)")
    add_engine_options(parser)
    parser.set_defaults(handler=run)
