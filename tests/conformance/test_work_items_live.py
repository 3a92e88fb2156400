"""Work items hold live as in `simulate`: the scenario of a task made from a template (type,
reason, a checklist whose steps are due in business days) and of a typed task written inline,
with playbooks of its own, run through the live processes and through `simulate`, gives the same
actions, the work-item keys of each task included."""

from __future__ import annotations

from pathlib import Path

from dsl.project import compile_folder
from simulation.simulate import simulate
from tests.conformance.comparison import differences
from tests.conformance.live import run_live
from tests.conformance.merged import merge

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "timelines" / "work_item_from_template_with_checklist"


async def test_a_work_item_scenario_gives_the_same_actions_live_and_simulated(tmp_path: Path) -> None:
    compilation = compile_folder(SCENARIO / "playbooks")
    assert compilation.ok and compilation.bundle is not None
    timeline = merge([SCENARIO])
    assert timeline.start is not None and timeline.end is not None
    live = await run_live(timeline, tmp_path, playbooks=SCENARIO / "playbooks")
    simulated = await simulate(compilation.bundle, timeline.write(tmp_path / "merged.jsonl"), start=timeline.start,
                               days=(timeline.end - timeline.start).total_seconds() / 86400)
    tasks = [action for action in live.actions if action.kind == "task"]
    assert [(task.data.get("type"), task.data.get("reason"), len(task.data.get("checklist", []))) for task in tasks] \
        == [("onboarding", "new_customer", 3), ("risk", "low_usage", 0)]
    problems = differences(live.actions, simulated.actions)
    assert not problems, "\n".join(problems)
