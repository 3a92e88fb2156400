"""The test file shown in docs/testing.md runs and passes against the standard playbooks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli.main import main

ROOT = Path(__file__).resolve().parents[2]
HEADER = "```yaml\n# playbooks/tests/onboarding.test.yaml\n"


def test_the_documented_test_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8").split(HEADER)[1].split("```")[0]
    folder = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "tests").mkdir()
    (folder / "tests" / "onboarding.test.yaml").write_text(example, encoding="utf-8")
    status = main(["test", str(folder)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.rstrip().splitlines()[-1].startswith("2 tests: 2 passed, 0 failed")
