"""`playbook worker` started where it cannot run: a clear message, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main


def test_a_worker_without_a_playbooks_folder_says_how_to_point_it_at_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_PLAYBOOKS", str(tmp_path / "nowhere"))
    assert main(["worker"]) == 1
    err = capsys.readouterr().err
    assert f"no playbooks folder at {tmp_path / 'nowhere'}" in err
    assert "PLAYBOOK_PLAYBOOKS" in err
    assert "Traceback" not in err


BAD_PLAYBOOK = """\
account fields:
    name: text

events:
    signed

playbook p "P":
    trigger: event signed
    do slack.notfy text="hi"
"""

CHECK_REPORT = ["p.play:9:8: unknown activity 'slack.notfy' (did you mean 'slack.notify'?)",
                '        do slack.notfy text="hi"',
                "           ^^^^^^^^^^^",
                "checked 1 file (9 lines): 1 error"]


def _bad_folder(root: Path) -> Path:
    folder = root / "playbooks"
    folder.mkdir()
    (folder / "p.play").write_text(BAD_PLAYBOOK, encoding="utf-8")
    return folder


def test_a_worker_refuses_a_do_activity_no_plugin_provides_with_checks_own_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_PLAYBOOKS", str(_bad_folder(tmp_path)))
    assert main(["worker"]) == 1
    err = capsys.readouterr().err
    lines = [line.replace(f"{tmp_path / 'playbooks'}/", "") for line in err.splitlines()]
    assert lines[:4] == CHECK_REPORT
    assert lines[-1] == "playbook worker: not starting"
    assert "Traceback" not in err


def test_the_api_refuses_a_do_activity_no_plugin_provides_with_checks_own_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = _bad_folder(tmp_path)
    assert main(["api", str(folder)]) == 1
    err = capsys.readouterr().err
    lines = [line.replace(f"{folder}/", "") for line in err.splitlines()]
    assert lines[:4] == CHECK_REPORT
    assert lines[-1] == "playbook api: the playbooks do not check; not starting"


def test_the_production_worker_does_not_import_the_dev_stack(tmp_path: Path) -> None:
    code = ("import sys\nfrom cli.main import main\nstatus = main(['worker'])\n"
            "print(status, 'cli.dev_stack' in sys.modules)")
    environment = {**os.environ, "PLAYBOOK_PLAYBOOKS": str(_bad_folder(tmp_path))}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.stdout.split() == ["1", "False"], done.stderr


def test_the_dev_stack_refuses_a_do_activity_no_plugin_provides_before_it_starts_anything(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = _bad_folder(tmp_path)
    assert main(["dev", str(folder), "--state-dir", str(tmp_path / "state")]) == 1
    err = capsys.readouterr().err
    lines = [line.replace(f"{folder}/", "") for line in err.splitlines()]
    assert lines[:4] == CHECK_REPORT
    assert not (tmp_path / "state").exists()
