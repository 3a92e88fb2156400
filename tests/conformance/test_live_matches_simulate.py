"""The live engine does what `simulate` shows: every scenario timeline, run through the real
processes (`playbook api` + `playbook worker` with the scheduler, the time-skipping server's
clock, mail to an SMTP relay on 127.0.0.1, input over HTTP at each line's arrival moment) and
through `simulate`, gives the same actions.

All scenarios run in one stack, each in a namespace of its own (`merged.py`): the shared
acceptance timelines and the project's own (`tests/scenarios/timelines/`), late, back-dated,
exit-before-step, cap and quiet-hours cases among them. A scenario with playbooks of its own is
left to its own test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytest_asyncio

from dsl import ir
from simulation.simulate import simulate
from tests.conformance.comparison import differences
from tests.conformance.live import LiveRun, run_live
from tests.conformance.merged import MergedTimeline, merge

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = [ROOT / "tests" / "scenarios" / "timelines", ROOT.parent / "shared" / "acceptance"]


def _scenarios() -> list[Path]:
    found = []
    for parent in FOLDERS:
        if not parent.exists():
            continue
        for folder in sorted(parent.iterdir()):
            spec_file = folder / "scenario.json"
            if spec_file.exists() and "playbooks" not in json.loads(spec_file.read_text(encoding="utf-8")):
                found.append(folder)
    return found


@pytest.fixture(scope="module")
def timeline() -> MergedTimeline:
    scenarios = _scenarios()
    assert len(scenarios) >= 20, "the scenario folders are missing"
    return merge(scenarios)


@pytest_asyncio.fixture(scope="module")
async def live(timeline: MergedTimeline, tmp_path_factory: pytest.TempPathFactory) -> LiveRun:
    return await run_live(timeline, tmp_path_factory.mktemp("conformance"))


async def test_every_scenario_gives_the_same_actions_live_and_simulated(
        timeline: MergedTimeline, live: LiveRun, tmp_path: Path, bundle: ir.Bundle) -> None:
    assert timeline.start is not None and timeline.end is not None
    simulated = await simulate(bundle, timeline.write(tmp_path / "merged.jsonl"), start=timeline.start,
                               days=(timeline.end - timeline.start).total_seconds() / 86400)
    assert live.posted == len(timeline.lines)
    problems = differences(live.actions, simulated.actions)
    assert not problems, f"{len(problems)} difference(s):\n" + "\n".join(problems[:60])


async def test_the_smtp_relay_gets_one_message_per_email_sent(live: LiveRun) -> None:
    sent = [action for action in live.actions if action.kind == "email"]
    assert sent, "the scenarios send email"
    addresses = sorted(str(action.data["to"]) for action in sent)
    assert sorted(to for message in live.received for to in message.to) == addresses
