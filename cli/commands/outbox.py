"""`playbook outbox [--state-dir DIR] [--to ADDRESS] [--show N]`: the mail the dev stack's sink kept.

Lists every message the local SMTP sink received (`server/smtp_sink.py`), oldest first, numbered;
`--to` keeps those sent to one address (the numbers stay those of the full list), and `--show N`
prints message N: its headers, then its text part. A message whose Message-ID an earlier one
already had is marked as a duplicate delivery.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.commands import UsageError, plural
from engine.settings import Settings
from server.smtp_sink import SinkMessage, outbox_folder, read_index, read_message

__all__ = ["register", "run"]

_SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe")


def _duplicates(entries: list[SinkMessage]) -> dict[int, int]:
    """Message number -> the number of the first message with the same Message-ID."""
    first: dict[str, int] = {}
    duplicates: dict[int, int] = {}
    for number, entry in enumerate(entries, start=1):
        if not entry.message_id:
            continue
        if entry.message_id in first:
            duplicates[number] = first[entry.message_id]
        else:
            first[entry.message_id] = number
    return duplicates


def _table(rows: list[tuple[int, SinkMessage]], duplicates: dict[int, int]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    table.add_column("#", justify="right")
    for column in ("received", "to"):
        table.add_column(column, no_wrap=True)  # addresses stay whole
    for column in ("subject", "note"):
        table.add_column(column, overflow="fold", ratio=1)
    for number, entry in rows:
        note = f"duplicate of #{duplicates[number]}" if number in duplicates else ""
        table.add_row(str(number), entry.received_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                      ", ".join(entry.to), entry.subject, note)
    Console(width=max(120, Console().width)).print(table)


def _show(folder: Path, entries: list[SinkMessage], number: int) -> int:
    if not 1 <= number <= len(entries):
        raise UsageError(f"--show: no message {number}: the outbox holds {plural(len(entries), 'message')}")
    entry = entries[number - 1]
    try:
        message = read_message(folder, entry)
    except FileNotFoundError as error:
        raise UsageError(f"--show: message {number} is listed but its file is gone: {folder / entry.file}") from error
    for name in _SHOWN_HEADERS:
        if message[name] is not None:
            print(f"{name}: {message[name]}")
    body = message.get_body(preferencelist=("plain",))
    print()
    if body is None:
        print("(no text part)")
    else:
        sys.stdout.write(str(body.get_content()).rstrip("\n") + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir) if args.state_dir else Settings().state_dir
    folder = outbox_folder(state_dir)
    entries = read_index(folder)
    if args.show is not None:
        return _show(folder, entries, args.show)
    wanted = args.to.strip().lower() if args.to else None
    rows = [(number, entry) for number, entry in enumerate(entries, start=1)
            if wanted is None or wanted in (address.lower() for address in entry.to)]
    if not rows:
        where = f" to {args.to}" if args.to else ""
        print(f"no messages{where} in {folder}")
        return 0
    _table(rows, _duplicates(entries))
    print(f"{plural(len(rows), 'message')} in {folder}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "outbox",
        help="list the mail the dev stack's SMTP sink kept",
        description="List the messages the local SMTP sink received, or show one of them.",
    )
    parser.add_argument("--state-dir", metavar="DIR", default=None,
                        help="the state folder whose outbox/ to read (default: the state_dir setting)")
    parser.add_argument("--to", metavar="ADDRESS", default=None, help="only the messages sent to ADDRESS")
    parser.add_argument("--show", metavar="N", type=int, default=None,
                        help="print message N of the list: its headers and its text part")
    parser.set_defaults(handler=run)
