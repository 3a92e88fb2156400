"""The results of a test run as JUnit XML, the report CI systems read (`playbook test --junit FILE`).

One `<testsuite>` per test file, one `<testcase>` per test; a failed test has a `<failure>` whose
message is its first failed expectation and whose text is the whole diff, as the text report
prints it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from simulation.playbook_tests.report import failure_text
from simulation.playbook_tests.suite import SuiteResult

__all__ = ["write_junit"]


def write_junit(result: SuiteResult, path: Path) -> None:
    root = ET.Element("testsuites", name="playbook test", tests=str(len(result.cases)),
                      failures=str(len(result.failed)), time=f"{result.seconds:.3f}")
    by_file: dict[Path, list[int]] = {}
    for index, case in enumerate(result.cases):
        by_file.setdefault(case.file, []).append(index)
    for file, indexes in by_file.items():
        cases = [result.cases[index] for index in indexes]
        suite = ET.SubElement(root, "testsuite", name=str(file), tests=str(len(cases)),
                              failures=str(sum(not case.ok for case in cases)), errors="0")
        for case in cases:
            element = ET.SubElement(suite, "testcase", name=case.case.name, classname=file.name.removesuffix(
                ".test.yaml"), file=str(file), line=str(case.case.place.line))
            failed = [verdict for verdict in case.verdicts if not verdict.ok]
            if failed:
                lines = [line for verdict in failed for line in failure_text(verdict, case.case.start)]
                failure = ET.SubElement(element, "failure", message=lines[0], type="expectation")
                failure.text = "\n".join(lines)
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
