"""`playbook accounts [--band red|yellow|green] [--json]`: every account with its score and band.

Red first, then yellow, then green (any other band after them, unscored accounts last), the
lowest score first within a band. The score is the `health` score when the playbooks have one,
as `GET /v1/accounts` reports it. `--json` prints one JSON object per line, each an account as
that endpoint answers it, in the same order.
"""

from __future__ import annotations

import argparse
from typing import Any

from cli.commands import plural
from cli.commands.api_client import (
    console,
    failing_cleanly,
    print_json_lines,
    shown_number,
    shown_time,
)
from cli.commands.view_sources import add_store_options, views_from_args

__all__ = ["BAND_ORDER", "ordered", "register", "run"]

BAND_ORDER = ("red", "yellow", "green")
_BAND_STYLE = {"red": "bold red", "yellow": "yellow", "green": "green"}


def ordered(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Red first, then yellow, green, other bands, unscored; lowest score first within a band."""

    def key(account: dict[str, Any]) -> tuple[int, str, float, str]:
        band = account.get("band")
        rank = BAND_ORDER.index(band) if band in BAND_ORDER else (len(BAND_ORDER) if band else len(BAND_ORDER) + 1)
        score = account.get("score")
        value = float(score) if isinstance(score, int | float) else float("inf")
        return rank, str(band or ""), value, str(account.get("id"))

    return sorted(accounts, key=key)


def _table(accounts: list[dict[str, Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    table.add_column("account", no_wrap=True)
    for column in ("name", "segment"):
        table.add_column(column, overflow="fold")
    table.add_column("score", justify="right")
    table.add_column("band")
    table.add_column("scored at")
    for account in accounts:
        band = str(account.get("band") or "")
        table.add_row(Text(str(account.get("id"))), Text(str(account.get("name") or "")),
                      Text(str(account.get("segment") or "")), Text(shown_number(account.get("score"))),
                      Text(band or "unscored", style=_BAND_STYLE.get(band, "dim")),
                      Text(shown_time(account.get("updated")) if band else ""))  # an unscored account has no score time
    console().print(table)


def _run(args: argparse.Namespace) -> int:
    views = views_from_args(args)
    try:
        accounts = ordered(views.accounts(band=args.band))
    finally:
        views.close()
    if args.json:
        print_json_lines(accounts)
        return 0
    where = f" in band {args.band}" if args.band else ""
    if not accounts:
        print(f"no accounts{where}")
        return 0
    _table(accounts)
    bands = [f"{sum(1 for a in accounts if a.get('band') == band):,} {band}" for band in BAND_ORDER
             if any(a.get("band") == band for a in accounts)]
    unscored = sum(1 for a in accounts if not a.get("band"))
    if unscored:
        bands.append(f"{unscored:,} unscored")
    print(f"{plural(len(accounts), 'account')}{where}" + (f": {', '.join(bands)}" if not args.band else ""))
    return 0


run = failing_cleanly("accounts", _run)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "accounts",
        help="accounts with their score and band, red first",
        description="List the accounts with their score and band, red first.",
    )
    parser.add_argument("--band", metavar="BAND", default=None,
                        help="only the accounts in this band (red, yellow, green)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line, each an account as GET /v1/accounts answers it")
    add_store_options(parser)
    parser.set_defaults(handler=run)
