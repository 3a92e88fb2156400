"""`playbook compile [DIR]`: print the folder's compiled IR (the Bundle) as JSON on stdout.

When the folder has errors nothing is printed on stdout: the diagnostics go to stderr, as with
`playbook check`, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys

from cli.commands import DEFAULT_FOLDER, existing_folder
from cli.commands.check import report, summary
from cli.commands.plugins import installed_catalog
from dsl.project import compile_folder

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    folder = existing_folder(args.folder)
    compilation = compile_folder(folder, plugins=installed_catalog())
    report(compilation)
    if not compilation.ok or compilation.bundle is None:
        print(summary(compilation), file=sys.stderr)
        return 1
    sys.stdout.write(compilation.bundle.to_json() + "\n")
    sys.stdout.flush()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compile",
        help="print the compiled IR of a folder as JSON",
        description="Compile a folder of playbooks and print the IR bundle as JSON on stdout.",
    )
    parser.add_argument("folder", nargs="?", default=DEFAULT_FOLDER, metavar="DIR",
                        help=f"the folder of playbooks (default: {DEFAULT_FOLDER})")
    parser.set_defaults(handler=run)
