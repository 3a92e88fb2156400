"""`playbook dev`: the embedded stack on one machine (see `cli/dev_stack.py`)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from cli.commands import existing_folder
from engine.settings import Settings

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    from cli.dev_stack import run_until_interrupted

    overrides: dict[str, object] = {}
    if args.folder is not None:
        overrides["playbooks"] = existing_folder(args.folder)
    if args.state_dir is not None:
        overrides["state_dir"] = Path(args.state_dir)
    if args.port is not None:
        overrides["api_port"] = args.port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    existing_folder(str(settings.playbooks))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("temporalio").setLevel(logging.ERROR)
    return run_until_interrupted(settings, smtp_sink=not args.no_smtp_sink)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dev", help="run the whole engine on this machine: Temporal, store, SMTP sink, worker, HTTP API",
        description="Start the embedded stack: Temporal's dev server, the store, a local SMTP sink, a worker "
                    "and the HTTP API, with the playbooks of DIR loaded. Ctrl-C stops it; the next run resumes. "
                    "Ports come from the settings: PLAYBOOK_TEMPORAL_ADDRESS (the web UI takes its port + 1000), "
                    "PLAYBOOK_SMTP_PORT, PLAYBOOK_API_PORT (or --port).")
    parser.add_argument("folder", nargs="?", default=None, metavar="DIR",
                        help="the folder of playbooks (default: PLAYBOOK_PLAYBOOKS or ./playbooks)")
    parser.add_argument("--state-dir", metavar="DIR", help="where state is kept (default: ./.playbook)")
    parser.add_argument("--port", type=int, help="the HTTP API's port (default: 8000)")
    parser.add_argument("--no-smtp-sink", action="store_true",
                        help="start no local SMTP sink: send mail to the relay of PLAYBOOK_SMTP_HOST and "
                             "PLAYBOOK_SMTP_PORT instead")
    parser.set_defaults(handler=run)
