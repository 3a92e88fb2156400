"""`playbook fmt`: rewriting files in the canonical layout, `--check`, and broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main

LIBRARY = Path(__file__).resolve().parents[2] / "playbooks"

MESSY = 'playbook p "P":\n  trigger:event signed\n  day 0:\n     send email welcome   # hi\n'
CANONICAL = 'playbook p "P":\n    trigger: event signed\n    day 0:\n        send email welcome  # hi\n'
BROKEN = 'playbook q "Q":\n    trigger event signed\n'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "playbooks"
    root.mkdir()
    (root / "messy.play").write_text(MESSY, encoding="utf-8")
    (root / "tidy.play").write_text(CANONICAL.replace("playbook p", "playbook t"), encoding="utf-8")
    return root


def test_fmt_rewrites_files_in_the_canonical_layout(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", str(folder)]) == 0
    assert (folder / "messy.play").read_text(encoding="utf-8") == CANONICAL
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"reformatted {folder / 'messy.play'}"]
    assert "1 file reformatted, 1 unchanged" in captured.err


def test_fmt_a_second_time_changes_nothing(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["fmt", str(folder)])
    capsys.readouterr()
    assert main(["fmt", "--check", str(folder)]) == 0
    assert capsys.readouterr().out == ""


def test_fmt_check_lists_files_that_would_change_and_writes_nothing(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fmt", "--check", str(folder)]) == 1
    assert (folder / "messy.play").read_text(encoding="utf-8") == MESSY
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"would reformat {folder / 'messy.play'}"]
    assert "1 file would be reformatted, 1 unchanged" in captured.err


def test_fmt_takes_a_single_file(folder: Path) -> None:
    assert main(["fmt", str(folder / "messy.play")]) == 0
    assert (folder / "messy.play").read_text(encoding="utf-8") == CANONICAL


def test_a_file_that_does_not_parse_is_reported_and_left_alone(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "broken.play").write_text(BROKEN, encoding="utf-8")
    assert main(["fmt", str(folder)]) == 1
    assert (folder / "broken.play").read_text(encoding="utf-8") == BROKEN
    assert (folder / "messy.play").read_text(encoding="utf-8") == CANONICAL
    err = capsys.readouterr().err
    assert f"{folder / 'broken.play'}:2:" in err
    assert "trigger event signed" in err
    assert "1 file with errors left as they are" in err
    assert "Traceback" not in err


def test_fmt_of_a_missing_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", str(tmp_path / "nowhere")]) == 2
    assert "no such folder or file" in capsys.readouterr().err


def test_the_standard_library_needs_no_formatting(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["fmt", "--check", str(LIBRARY)])
    assert status == 0, capsys.readouterr()
