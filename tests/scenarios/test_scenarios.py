"""Every timeline scenario, run through the real engine on the time-skipping server.

Scenarios live in folders (events.jsonl, expected.jsonl, scenario.json): the shared acceptance
timelines beside the project (`../shared/acceptance/`) and the project's own under
`tests/scenarios/timelines/`. Each names the rule it proves in its folder name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsl.project import compile_folder
from simulation.simulate import simulate
from tests.scenarios.matching import compare

ROOT = Path(__file__).resolve().parents[2]
OWN = Path(__file__).resolve().parent / "timelines"
SHARED = ROOT.parent / "shared" / "acceptance"


def _folders() -> list[Path]:
    found = sorted(p for p in OWN.iterdir() if (p / "scenario.json").exists()) if OWN.exists() else []
    if SHARED.exists():
        found += sorted(p for p in SHARED.iterdir() if (p / "scenario.json").exists())
    return found


def _bundle(folder: Path):  # type: ignore[no-untyped-def]
    spec = json.loads((folder / "scenario.json").read_text())
    playbooks = folder / spec["playbooks"] if "playbooks" in spec else ROOT / "playbooks"
    compilation = compile_folder(playbooks)
    assert compilation.ok and compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    return compilation.bundle, spec


@pytest.mark.parametrize("folder", _folders(), ids=lambda p: p.name)
async def test_scenario_produces_exactly_its_expected_actions(folder: Path) -> None:
    bundle, spec = _bundle(folder)
    result = await simulate(bundle, folder / "events.jsonl", days=spec["days"])
    actions = [a.to_contract() for a in result.actions]
    problems = compare(folder, actions)
    assert not problems, "\n".join(problems)
