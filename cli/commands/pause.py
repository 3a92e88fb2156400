"""`playbook pause PLAYBOOK` / `playbook resume PLAYBOOK`, and `--sends` for every send: the
operator's brakes, written straight to the store every worker and API process reads, so they
work while the API is down.

    playbook pause onboarding --reason "wrong discount in day 3"
    playbook pause --sends --reason "relay blocklisted"
    playbook resume onboarding
    playbook resume --sends
    playbook pause --list

A paused playbook takes no new entries, and its journeys' emails and in-app messages are held
(logged as `held`) until it is resumed; the send stop holds every playbook's.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from cli.commands import UsageError
from cli.commands.api_client import EngineError, failing_cleanly, load_settings
from engine.store import Store, StoreUnavailable
from engine.store.controls import SENDS, playbook_control

__all__ = ["add_command", "open_store", "register"]


def open_store() -> Store:
    """The store of the settings, as it is (not migrated): the operator's commands write it straight."""
    settings = load_settings()
    try:
        return Store.open(settings.store_url, migrate=False)
    except StoreUnavailable as error:
        raise EngineError(str(error)) from None


def _name(args: argparse.Namespace) -> tuple[str, str]:
    if args.sends == (args.playbook is not None):
        raise UsageError("name one PLAYBOOK, or give --sends for every send")
    if args.sends:
        return SENDS, "every send"
    return playbook_control(args.playbook), f"playbook {args.playbook}"


def _list(store: Store) -> int:
    held = store.controls()
    if not held:
        print("nothing is paused; sends go")
    for name, (reason, at) in sorted(held.items()):
        what = "every send is stopped" if name == SENDS else f"{name.removeprefix('playbook:')} is paused"
        print(f"{what} since {at.isoformat(timespec='seconds')}" + (f": {reason}" if reason else ""))
    return 0


def _pause(args: argparse.Namespace) -> int:
    name, shown = ("", "") if args.list else _name(args)
    store = open_store()
    try:
        if args.list:
            return _list(store)
        if store.set_control(name, " ".join((args.reason or "").split()), datetime.now(UTC)):
            print(f"paused {shown}: " + ("no new entries, its sends held" if name != SENDS else "every send held"))
        else:
            print(f"{shown} was paused already", file=sys.stderr)
        return 0
    finally:
        store.close()


def _resume(args: argparse.Namespace) -> int:
    name, shown = _name(args)
    store = open_store()
    try:
        if store.clear_control(name):
            print(f"resumed {shown}: held sends go at their next attempt")
        else:
            print(f"{shown} was not paused", file=sys.stderr)
        return 0
    finally:
        store.close()


def add_command(subparsers: argparse._SubParsersAction, command: str) -> None:
    """`playbook pause` or `playbook resume`."""
    handler = _pause if command == "pause" else _resume
    summary = ("stop a playbook (no new entries, its sends held), or every send with --sends" if command == "pause"
               else "undo `playbook pause`: a playbook, or every send with --sends")
    parser = subparsers.add_parser(command, help=summary, description=summary)
    parser.add_argument("playbook", nargs="?", default=None, metavar="PLAYBOOK", help="the playbook's id")
    parser.add_argument("--sends", action="store_true", help="every customer-facing send of every playbook")
    if command == "pause":
        parser.add_argument("--reason", help="why: shown in the held actions and by --list")
        parser.add_argument("--list", action="store_true", help="show what is paused now")
    else:
        parser.set_defaults(list=False)
    parser.set_defaults(handler=failing_cleanly(command, handler))


def register(subparsers: argparse._SubParsersAction) -> None:
    add_command(subparsers, "pause")
