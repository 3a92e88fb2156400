"""A test file that cannot be run is reported as FILE:LINE: what is wrong, with exit status 2, and
nothing runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli.main import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """The standard playbooks without their tests."""
    folder = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "tests").mkdir()
    return folder


def _run(library: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Path, str]:
    path = library / "tests" / "bad.test.yaml"
    path.write_text(text, encoding="utf-8")
    status = main(["test", str(library)])
    captured = capsys.readouterr()
    assert captured.out == ""
    return status, path, captured.err


SIGNUP = """tests:
  - name: welcome
    events:
      - {account: a, at: 2026-01-05T09:00:00Z, event: signed}
    expect:
"""


def test_a_misspelt_key_is_named_at_its_line_with_a_suggestion(
        library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, path, err = _run(library, SIGNUP + "      - email: welcome\n        templte: welcome\n", capsys)
    assert status == 2
    assert err.splitlines()[0] == f"{path}:7: unknown key 'templte' in an expectation (did you mean 'template'?)"
    assert "nothing was run" in err


def test_a_bad_time_and_a_bad_count_are_named_at_their_lines(
        library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, path, err = _run(library, SIGNUP + "      - email: welcome\n        on: tomorrow\n", capsys)
    assert status == 2 and err.startswith(f"{path}:7: on: expected a date and time such as 2026-01-05T09:00Z")
    status, path, err = _run(library, SIGNUP + "      - email: welcome\n        count: a few\n", capsys)
    assert status == 2 and err.startswith(f"{path}:7: count: expected `exactly N`")


def test_broken_yaml_is_named_at_its_line(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, path, err = _run(library, "tests:\n  - name: x\n    events: [\n", capsys)
    assert status == 2 and err.startswith(f"{path}:4: not valid YAML")


def test_an_event_the_model_does_not_declare_is_named_at_its_line(
        library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SIGNUP.replace("event: signed", "event: signd") + "      - email: welcome\n"
    status, path, err = _run(library, text, capsys)
    assert status == 2
    assert err.splitlines()[0] == (f"{path}:4: this event cannot be used: undeclared event 'signd' (did you mean "
                                   "'signed'?): the model's events: section does not list it")
