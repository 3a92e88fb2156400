"""The tests beside the standard playbooks (`playbooks/tests/`): every playbook has one, and all pass;
a broken copy of the library fails them with a readable diff, exit 1, and valid JUnit XML."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cli.main import main
from dsl import ir
from simulation.playbook_tests.suite import find_test_files, read_all

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"


def test_every_standard_playbook_has_a_test_that_expects_it_to_act(bundle: ir.Bundle) -> None:
    files, errors = read_all(find_test_files(PLAYBOOKS))
    assert not errors, [str(error) for error in errors]
    named = {expectation.fields["playbook"] for file in files for case in file.cases
             for expectation in case.expectations if "playbook" in expectation.fields and expectation.count.low >= 1}
    assert set(bundle.playbooks) - named == set()
    assert len(bundle.playbooks) == 18


def test_the_standard_library_passes_its_tests(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["test", str(PLAYBOOKS)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAIL" not in out
    assert out.rstrip().splitlines()[-1].startswith("21 tests: 21 passed, 0 failed")


@pytest.fixture
def broken_library(tmp_path: Path) -> Path:
    """A copy of the library whose onboarding sends `welcome_v2` and shows the tutorial on day 4."""
    folder = tmp_path / "playbooks"
    shutil.copytree(PLAYBOOKS, folder)
    (folder / "templates" / "welcome.email.jinja").rename(folder / "templates" / "welcome_v2.email.jinja")
    onboarding = folder / "onboarding.play"
    text = onboarding.read_text(encoding="utf-8")
    onboarding.write_text(text.replace("send email welcome to", "send email welcome_v2 to")
                          .replace("    day 3:", "    day 4:"), encoding="utf-8")
    return folder


def test_a_broken_playbook_fails_with_what_differed_and_exit_1(
        broken_library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "report" / "junit.xml"
    status = main(["test", str(broken_library), "--junit", str(junit)])
    out = capsys.readouterr().out
    assert status == 1
    assert "  FAIL  an SMB signup gets the welcome email on day 0" in out
    assert "expected exactly 1: email: welcome, to: bo@brightside.example, on day 0" in out
    assert "template: expected welcome, got welcome_v2" in out
    assert "at: expected at day 3 ± 1h, got 2026-01-09 09:00 UTC (day 4)" in out
    assert "  ok    a churned account leaves onboarding and gets nothing more" in out
    assert out.rstrip().splitlines()[-1].startswith("21 tests: 20 passed, 1 failed")

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "21" and root.get("failures") == "1"
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 21
    [failed] = [case for case in cases if case.find("failure") is not None]
    assert failed.get("classname") == "onboarding"
    failure = failed.find("failure")
    assert failure is not None and "template: expected welcome, got welcome_v2" in (failure.text or "")


def test_a_name_filter_runs_only_the_tests_whose_name_holds_it(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["test", str(PLAYBOOKS), "-k", "CHURNED account"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("  ok  ") == 1
    assert "a churned account leaves onboarding" in out
    assert out.rstrip().splitlines()[-1].startswith("1 test: 1 passed, 0 failed")


def test_a_name_filter_that_matches_no_test_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(PLAYBOOKS), "--name", "no such test"]) == 2
    assert capsys.readouterr().err == f"playbook: no test in {PLAYBOOKS} has 'no such test' in its name\n"
