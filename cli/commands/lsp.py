"""`playbook lsp`: the language server for editors, on stdio (see docs/editor.md).

    playbook lsp [--folder DIR] [--debounce-ms 150]

Speaks the Language Server Protocol on stdin and stdout: diagnostics from the checker as you
type, hover, completion, go-to-definition, formatting and quick fixes for `.play` files and
their templates. `do` statements are checked against the installed plugins, as in `check`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.commands import UsageError
from cli.commands.plugins import installed_catalog

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    from importlib.metadata import PackageNotFoundError, version

    from lsp.server import build_server

    if args.debounce_ms < 0:
        raise UsageError("--debounce-ms takes a number of milliseconds, 0 or more")
    try:
        release = version("playbook")
    except PackageNotFoundError:
        release = "unknown"
    folder = Path(args.folder) if args.folder is not None else None
    server = build_server(release, installed_catalog(), folder, args.debounce_ms / 1000)
    server.start_io()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lsp",
        help="the language server for editors (stdio)",
        description="Run the language server on stdin/stdout: live diagnostics, hover, completion, "
                    "go-to-definition, formatting and quick fixes for .play files and templates.",
    )
    parser.add_argument("--folder", metavar="DIR",
                        help="the folder of playbooks, relative to the workspace (default: the folder holding "
                             "the document's templates/, else the workspace's playbooks/)")
    parser.add_argument("--debounce-ms", type=int, default=150, metavar="MS",
                        help="check again this long after the last keystroke (default: 150)")
    parser.add_argument("--stdio", action="store_true", help="talk on stdin/stdout (the default, and the only way)")
    parser.set_defaults(handler=run)
