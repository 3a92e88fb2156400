"""`playbook worker` started where it cannot run: a clear message, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.cli import main


def test_a_worker_without_a_playbooks_folder_says_how_to_point_it_at_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_PLAYBOOKS", str(tmp_path / "nowhere"))
    assert main(["worker"]) == 1
    err = capsys.readouterr().err
    assert f"no playbooks folder at {tmp_path / 'nowhere'}" in err
    assert "PLAYBOOK_PLAYBOOKS" in err
    assert "Traceback" not in err
