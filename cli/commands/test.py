"""`playbook test [DIR] [--junit FILE]`: run the tests written beside the playbooks.

Compiles the folder's playbooks, reads every `*.test.yaml` under it (by convention in
`DIR/tests/`), runs all their timelines in one simulation on the time-skipping server (the same
simulation as `playbook simulate`) and checks each test's expectations. Prints `ok` or `FAIL`
per test, with a diff of expected and actual for each failure, and a summary line.

Exit status: 0 when every test passes, 1 when one fails (or the playbooks do not compile),
2 when a test file is malformed (each reported as `FILE:LINE: what is wrong`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from cli.commands import DEFAULT_FOLDER, UsageError, existing_folder, plural
from cli.commands.check import report, summary
from cli.commands.plugins import installed_catalog
from dsl.project import compile_folder
from simulation.playbook_tests.junit import write_junit
from simulation.playbook_tests.report import text_report
from simulation.playbook_tests.suite import SuiteResult, find_test_files, read_all, run_suite, selected
from simulation.playbook_tests.test_file import TestFileError

__all__ = ["register", "run"]

EXIT_MALFORMED = 2


async def _stopped_by_sigterm(tests: Coroutine[Any, Any, SuiteResult | list[TestFileError]],
                              ) -> SuiteResult | list[TestFileError]:
    """Run the tests; SIGTERM stops them as Ctrl-C does, so the test server is shut down."""
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals here: no handler
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await tests
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None


def _quiet_engine_logs() -> None:
    """A failed step is reported as a `failed` action; the worker's own log of it is noise here."""
    if os.environ.get("PLAYBOOK_DEBUG", "").strip() in ("", "0", "false", "no"):
        logging.getLogger("temporalio").setLevel(logging.CRITICAL)


def _malformed(errors: list[TestFileError]) -> int:
    for error in errors:
        print(str(error), file=sys.stderr)
    files = len({error.place.path for error in errors})
    print(f"playbook test: {plural(len(errors), 'mistake')} in {plural(files, 'test file')}; nothing was run",
          file=sys.stderr)
    return EXIT_MALFORMED


def run(args: argparse.Namespace) -> int:
    _quiet_engine_logs()
    folder = existing_folder(args.folder)
    paths = find_test_files(folder)
    if not paths:
        raise UsageError(f"no test files in {folder}: write them as {folder}/tests/NAME.test.yaml "
                         "(see docs/testing.md)")
    files, errors = read_all(paths)
    if errors:
        return _malformed(errors)
    if args.name and not selected(files, args.name):
        raise UsageError(f"no test in {folder} has {args.name!r} in its name")
    compilation = compile_folder(folder, plugins=installed_catalog())
    report(compilation)
    if not compilation.ok or compilation.bundle is None:
        print(summary(compilation), file=sys.stderr)
        return 1
    outcome = asyncio.run(_stopped_by_sigterm(run_suite(compilation.bundle, files, name=args.name)))
    if not isinstance(outcome, SuiteResult):
        return _malformed(outcome)
    sys.stdout.write(text_report(outcome))
    if args.junit:
        write_junit(outcome, Path(args.junit))
    return 0 if outcome.ok else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "test",
        help="run the tests beside the playbooks (DIR/tests/*.test.yaml)",
        description="Run the tests written beside the playbooks (every *.test.yaml under DIR, by convention "
                    "in DIR/tests/) through the same simulation as `playbook simulate`, and report each "
                    "test's expectations. Exit 0: all pass; 1: a test fails; 2: a test file is malformed.",
    )
    parser.add_argument("folder", nargs="?", default=DEFAULT_FOLDER, metavar="DIR",
                        help=f"the folder of playbooks and their tests (default: {DEFAULT_FOLDER})")
    parser.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML, for CI")
    parser.add_argument("-k", "--name", metavar="TEXT", default=None,
                        help="run only the tests whose name holds TEXT (any case)")
    parser.set_defaults(handler=run)
