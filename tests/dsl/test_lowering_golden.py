"""Golden files: each folder under `golden/` compiles to exactly the IR stored beside it.

A folder `golden/NAME/` of `.play` files has its expected bundle in `golden/NAME.ir.json`
(templates left out: the folders name templates they do not define). After a deliberate change
to the IR, regenerate the files with `PLAYBOOK_UPDATE_GOLDEN=1 pytest tests/dsl/test_lowering_golden.py`
and review the difference.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dsl.lowering import lower
from dsl.parser import parse

GOLDEN = Path(__file__).resolve().parent / "golden"
FOLDERS = sorted(path for path in GOLDEN.iterdir() if path.is_dir())


def compiled(folder: Path) -> str:
    files = [parse(path.read_text(), path.relative_to(GOLDEN).as_posix()) for path in sorted(folder.glob("*.play"))]
    bundle = lower(files, {})
    return json.dumps(bundle.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("folder", FOLDERS, ids=[folder.name for folder in FOLDERS])
def test_folder_lowers_to_its_golden_ir(folder: Path) -> None:
    expected = folder.with_suffix(".ir.json")
    actual = compiled(folder)
    if os.environ.get("PLAYBOOK_UPDATE_GOLDEN"):
        expected.write_text(actual)
    assert expected.exists(), f"no golden file {expected.name}: run with PLAYBOOK_UPDATE_GOLDEN=1"
    assert actual == expected.read_text()


def test_there_is_a_golden_folder() -> None:
    assert FOLDERS
