"""`playbook migrate`: bring the database schema up to date (Alembic upgrade to head)."""

from __future__ import annotations

import argparse
import sys

from engine.settings import Settings

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    from engine.store import Store, StoreUnavailable

    settings = Settings()
    url = args.database_url or settings.store_url
    try:
        store = Store.open(url)
    except StoreUnavailable as error:
        print(f"playbook migrate: {error}", file=sys.stderr)
        return 1
    store.close()
    print("the database schema is up to date")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("migrate", help="bring the database schema up to date",
                                   description="Run the store's schema migrations up to the latest.")
    parser.add_argument("--database-url", metavar="URL", help="default: PLAYBOOK_DATABASE_URL or the state folder")
    parser.set_defaults(handler=run)
