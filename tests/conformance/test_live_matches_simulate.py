"""The live engine does what `simulate` shows: every scenario timeline, run through the real
processes (`playbook api` + `playbook worker` with the scheduler, the time-skipping server's
clock, mail to an SMTP relay on 127.0.0.1, input over HTTP at each line's arrival moment) and
through `simulate`, gives the same actions.

All scenarios run in one stack, each in a namespace of its own (`merged.py`): the shared
acceptance timelines and the project's own (`tests/scenarios/timelines/`), late, back-dated,
exit-before-step, cap and quiet-hours cases among them. Scenarios that name another playbook
folder (the examples in `examples/cs-playbooks/`) run in a stack of their own per folder; a
scenario with playbooks inside its own folder is left to its own test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from dsl import ir
from dsl.project import compile_folder
from simulation.simulate import simulate
from tests.conformance.comparison import differences
from tests.conformance.live import LiveRun, run_live
from tests.conformance.merged import MergedTimeline, merge

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = [ROOT / "tests" / "scenarios" / "timelines", ROOT.parent / "shared" / "acceptance"]
STANDARD = ROOT / "playbooks"


def _library(folder: Path) -> Path | None:
    """The playbook folder a scenario runs on; None for one that brings playbooks of its own
    (inside its folder: left to its own test)."""
    spec = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    if "playbooks" not in spec:
        return STANDARD
    library = (folder / spec["playbooks"]).resolve()
    return None if library.is_relative_to(folder.resolve()) else library


def _groups() -> dict[Path, list[Path]]:
    """The scenarios by the playbook folder they run on: one live stack per folder."""
    groups: dict[Path, list[Path]] = {}
    for parent in FOLDERS:
        if not parent.exists():
            continue
        for folder in sorted(parent.iterdir()):
            if (folder / "scenario.json").exists() and (library := _library(folder)) is not None:
                groups.setdefault(library, []).append(folder)
    return groups


GROUPS = _groups()


@dataclass
class Group:
    library: Path
    bundle: ir.Bundle
    timeline: MergedTimeline
    live: LiveRun


@pytest_asyncio.fixture(scope="module", params=sorted(GROUPS), ids=lambda path: path.relative_to(ROOT).as_posix())
async def group(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Group:
    library: Path = request.param
    compilation = compile_folder(library)
    assert compilation.ok and compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    timeline = merge(GROUPS[library])
    live = await run_live(timeline, tmp_path_factory.mktemp("conformance"), library)
    return Group(library, compilation.bundle, timeline, live)


def test_the_standard_library_and_the_examples_have_scenarios() -> None:
    assert len(GROUPS.get(STANDARD, [])) >= 20, "the scenario folders are missing"
    assert ROOT / "examples" / "cs-playbooks" in GROUPS, "the example playbooks have no scenario"


async def test_every_scenario_gives_the_same_actions_live_and_simulated(group: Group, tmp_path: Path) -> None:
    timeline, live = group.timeline, group.live
    assert timeline.start is not None and timeline.end is not None
    simulated = await simulate(group.bundle, timeline.write(tmp_path / "merged.jsonl"), start=timeline.start,
                               days=(timeline.end - timeline.start).total_seconds() / 86400)
    assert live.posted == len(timeline.lines)
    problems = differences(live.actions, simulated.actions)
    assert not problems, f"{len(problems)} difference(s):\n" + "\n".join(problems[:60])


async def test_the_smtp_relay_gets_one_message_per_email_sent(group: Group) -> None:
    sent = [action for action in group.live.actions if action.kind == "email"]
    assert sent, "the scenarios send email"
    addresses = sorted(str(action.data["to"]) for action in sent)
    assert sorted(to for message in group.live.received for to in message.to) == addresses
