"""A folder's tests: found, read, run in one simulation, and judged.

Test files are the `*.test.yaml` files anywhere under the playbook folder (by convention in its
`tests/` folder, beside the playbooks they test). `run_suite` reads them all first, so a malformed
file is reported before anything runs, then runs every test in one merged simulation
(`merged_run.py`) and checks each expectation (`matching.py`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from dsl import ir
from simulation.playbook_tests.matching import Verdict, check
from simulation.playbook_tests.merged_run import check_timelines, run_merged
from simulation.playbook_tests.test_file import TestCase, TestFile, TestFileError, read

__all__ = ["CaseResult", "SuiteResult", "find_test_files", "read_all", "run_suite", "selected"]

PATTERN = "*.test.yaml"


@dataclass
class CaseResult:
    file: Path
    case: TestCase
    verdicts: list[Verdict]

    @property
    def ok(self) -> bool:
        return all(verdict.ok for verdict in self.verdicts)


@dataclass
class SuiteResult:
    cases: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[CaseResult]:
        return [result for result in self.cases if not result.ok]

    @property
    def ok(self) -> bool:
        return not self.failed


def find_test_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob(PATTERN) if path.is_file())


def read_all(paths: list[Path]) -> tuple[list[TestFile], list[TestFileError]]:
    """Every file that reads cleanly, and the first mistake of each one that does not."""
    files, errors = [], []
    for path in paths:
        try:
            files.append(read(path))
        except TestFileError as error:
            errors.append(error)
    return files, errors


def selected(files: list[TestFile], name: str | None) -> list[tuple[Path, TestCase]]:
    """The tests of `files`, in order; with `name`, those whose name holds it (any case)."""
    wanted = name.casefold() if name else None
    return [(file.path, case) for file in files for case in file.cases
            if wanted is None or wanted in case.name.casefold()]


async def run_suite(bundle: ir.Bundle, files: list[TestFile], *, name: str | None = None
                    ) -> SuiteResult | list[TestFileError]:
    """Run every test of `files` (with `name`, those whose name holds it) in one simulation; the
    refused event lines instead, if any."""
    began = time.perf_counter()
    pairs = selected(files, name)
    cases = [case for _, case in pairs]
    refused = check_timelines(bundle, cases) if cases else []
    if refused:
        return refused
    outcomes, refused = await run_merged(bundle, cases)
    if refused:
        return refused
    result = SuiteResult()
    for (path, case), outcome in zip(pairs, outcomes, strict=True):
        verdicts = [check(expectation, outcome.actions, case.start) for expectation in case.expectations]
        result.cases.append(CaseResult(path, case, verdicts))
    result.seconds = time.perf_counter() - began
    return result
