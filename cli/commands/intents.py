"""`playbook intents`: the journey starts and signals the drain to Temporal parked, and the
operator's hand on them, written straight to the store (as `playbook pause`), so they work while
the API is down; a running API's drain sees a retried intent within a second.

    playbook intents                  the parked intents, oldest first (--account, --limit)
    playbook intents retry ID         give one back to the drain, its attempts counted afresh
    playbook intents drop ID          give up on it: never carried out

An intent is parked when Temporal refused it, for a reason that is not an outage, too many times;
its account's later intents went on without it (the account's log says so: `playbook why`).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cli.commands import UsageError
from cli.commands.api_client import failing_cleanly
from cli.commands.pause import open_store

__all__ = ["register"]

MAX_ID, MAX_LIMIT = 2**63 - 1, 100_000  # an intent's id is a 64-bit row id


def _intents(args: argparse.Namespace) -> int:
    if (args.action is None) != (args.id is None):
        raise UsageError("give `retry ID` or `drop ID`, or nothing to list the parked intents")
    if args.id is not None and not 1 <= args.id <= MAX_ID:
        raise UsageError(f"no parked intent {args.id}: `playbook intents` lists them")
    if not 1 <= args.limit <= MAX_LIMIT:
        raise UsageError(f"--limit takes 1 to {MAX_LIMIT:,}")
    store = open_store()
    try:
        if args.action is None:
            parked = store.parked_intents(args.limit, args.account)
            if not parked:
                print("no intent is parked: the drain carries out every one")
            for intent in parked:
                kind, playbook = intent.intent.get("kind"), intent.intent.get("playbook")
                print(f"{intent.id}  {intent.account}  {kind} {playbook}  parked "
                      f"{intent.parked_at.isoformat(timespec='seconds')} after {intent.attempts} attempt(s): "
                      f"{intent.last_error}")
            return 0
        if args.action == "retry":
            done = store.retry_parked(args.id)
        else:
            done = store.drop_parked(args.id, datetime.now(UTC))
        if not done:
            raise UsageError(f"no parked intent {args.id}: `playbook intents` lists them")
        print(f"intent {args.id}: " + ("given back to the drain" if args.action == "retry" else "dropped"))
        return 0
    finally:
        store.close()


def register(subparsers: argparse._SubParsersAction) -> None:
    summary = "list the journey starts and signals Temporal refused too often (parked), retry or drop one"
    parser = subparsers.add_parser("intents", help=summary, description=summary)
    parser.add_argument("action", nargs="?", choices=("retry", "drop"), default=None, help="what to do with ID")
    parser.add_argument("id", nargs="?", type=int, default=None, metavar="ID", help="the parked intent's id")
    parser.add_argument("--account", default=None, help="only this account's")
    parser.add_argument("--limit", type=int, default=100, help="list at most N (default: 100)")
    parser.set_defaults(handler=failing_cleanly("intents", _intents))
