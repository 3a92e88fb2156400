"""`playbook check [DIR]`: parse and type-check every `.play` file and template of a folder.

Every diagnostic goes to stderr with its source line and a caret, then one summary line:

    checked 21 files (1,234 lines): 2 errors

Exit status 0 when there is no error (warnings do not fail), 1 on any error, 2 when the folder
cannot be read.
"""

from __future__ import annotations

import argparse
import sys

from cli.commands import DEFAULT_FOLDER, existing_folder
from cli.commands.plugins import installed_catalog
from cli.playbook_loading import check_summary
from dsl.diagnostics import render_all
from dsl.project import Compilation, compile_folder

__all__ = ["register", "run", "summary"]


def summary(compilation: Compilation) -> str:
    """`checked 21 files (1,234 lines): 2 errors, 1 warning`, or `...: no errors`."""
    return check_summary(compilation)


def report(compilation: Compilation) -> None:
    """Print the diagnostics, if any, to stderr."""
    if compilation.diagnostics:
        print(render_all(compilation.diagnostics, compilation.sources), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    folder = existing_folder(args.folder)
    compilation = compile_folder(folder, plugins=installed_catalog())
    report(compilation)
    print(summary(compilation), file=sys.stderr)
    return 0 if compilation.ok else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="parse and type-check every .play file and template",
        description="Parse and type-check every .play file and template of a folder.",
    )
    parser.add_argument("folder", nargs="?", default=DEFAULT_FOLDER, metavar="DIR",
                        help=f"the folder of playbooks (default: {DEFAULT_FOLDER})")
    parser.set_defaults(handler=run)
