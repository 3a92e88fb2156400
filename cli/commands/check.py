"""`playbook check [DIR]`: parse and type-check every `.play` file and template of a folder.

Every diagnostic goes to stderr with its source line and a caret, then one summary line:

    checked 21 files (1,234 lines): 2 errors

`--format` picks another report for machines, written to stdout (or to `--output FILE`) while
the summary line still goes to stderr: `json` (one object a line), `github` (workflow commands
that become annotations on a pull request) or `sarif` (SARIF 2.1.0, for code scanning; its file
URIs are relative to the checked folder, or to `--relative-to DIR`: code scanning wants them
relative to the repository's root).

Exit status 0 when there is no error (warnings do not fail), 1 on any error, 2 when the folder
cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.commands import DEFAULT_FOLDER, UsageError, existing_folder
from cli.commands.check_report import FORMATS, render_report
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


def _write(text: str, output: str) -> None:
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror or error}") from None


def run(args: argparse.Namespace) -> int:
    folder = existing_folder(args.folder)
    if args.relative_to is not None and args.format != "sarif":
        raise UsageError("--relative-to places the files of a SARIF report: it goes with --format sarif")
    root = folder if args.relative_to is None else existing_folder(args.relative_to)
    compilation = compile_folder(folder, plugins=installed_catalog())
    if args.format == "text" and args.output is None:
        report(compilation)
    else:
        text = render_report(args.format, compilation, root)
        if args.output is None:
            sys.stdout.write(text)
        else:
            _write(text, args.output)
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
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default: diagnostics with a caret, on stderr), json (one object a line), "
                             "github (workflow commands: annotations on a pull request) or sarif (SARIF 2.1.0)")
    parser.add_argument("--output", metavar="FILE",
                        help="write the report to FILE instead of the terminal (the summary line stays on stderr)")
    parser.add_argument("--relative-to", metavar="DIR",
                        help="with --format sarif: file URIs relative to DIR (default: the checked folder); "
                             "GitHub code scanning wants them relative to the repository: --relative-to .")
    parser.set_defaults(handler=run)
