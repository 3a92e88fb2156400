"""`playbook note ACCOUNT "TEXT" [--author WHO] [--json]`: write a note about an account.

The note (plain text, at most 2000 characters) is stored with who wrote it and when; the
account's page on the dashboard lists it and `playbook why ACCOUNT` tells it in time order. By
default it goes through the running engine's API (`POST /v1/accounts/{id}/notes`); with
`--database-url` or `--store` it is written to the store directly. `--author` defaults to
`PLAYBOOK_NOTE_AUTHOR` when set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from cli.commands import UsageError
from cli.commands.api_client import EngineError, api_from_args, failing_cleanly
from cli.commands.stats import local_store, reads_store
from cli.commands.view_sources import add_store_options
from engine.store.notes import MAX_NOTE_CHARS, NoAccount, NoteTooLong, clean_note

__all__ = ["register", "run"]

AUTHOR_VARIABLE = "PLAYBOOK_NOTE_AUTHOR"


def _to_store(args: argparse.Namespace, text: str, author: str | None) -> dict[str, Any]:
    store = local_store(args)
    try:
        return store.add_note(args.account, text, author, datetime.now(UTC)).model_dump(mode="json")
    except NoAccount:
        raise EngineError(f"no account '{args.account}'") from None
    finally:
        store.close()


def _to_api(args: argparse.Namespace, text: str, author: str | None) -> dict[str, Any]:
    path = f"/v1/accounts/{urllib.parse.quote(args.account, safe='')}/notes"
    body = json.dumps({"text": text, **({"author": author} if author else {})})
    with api_from_args(args) as api:
        answer: Any = api.json("POST", path, content=body, headers={"Content-Type": "application/json"})
    if not isinstance(answer, dict):
        raise EngineError(f"the engine at {api.url} answered {path} with something that is not a note")
    return answer


def _run(args: argparse.Namespace) -> int:
    author = args.author if args.author is not None else os.environ.get(AUTHOR_VARIABLE)
    try:
        text, author = clean_note(args.text, author)
    except NoteTooLong as error:
        raise UsageError(f"TEXT: {error}") from None
    note = _to_store(args, text, author) if reads_store(args) else _to_api(args, text, author)
    if args.json:
        sys.stdout.write(json.dumps(note, ensure_ascii=False) + "\n")
    else:
        print(f"noted on {args.account} at {str(note.get('at', ''))[:16].replace('T', ' ')} UTC")
    return 0


run = failing_cleanly("note", _run)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "note",
        help="write a note about an account (shown on its page and in `playbook why`)",
        description=f"Store a note about an account: plain text, at most {MAX_NOTE_CHARS} characters.",
    )
    parser.add_argument("account", metavar="ACCOUNT", help="the account's id")
    parser.add_argument("text", metavar="TEXT", help="the note (quote it)")
    parser.add_argument("--author", metavar="WHO", default=None,
                        help=f"who writes it: an email or a name (default: ${AUTHOR_VARIABLE})")
    parser.add_argument("--json", action="store_true", help="print the stored note as JSON")
    add_store_options(parser)
    parser.set_defaults(handler=run)
