"""Work items hold live as in `simulate`: each work-item scenario (with playbooks of its own) run
through the live processes and through `simulate` gives the same actions, the work-item keys of
each task included:

- a task made from a template (type, reason, a checklist whose steps are due in business days)
  and a typed task written inline;
- two triggers of one churn risk opening one item deduped by type and reason (one after the
  other, and at the same moment), closing it with an outcome that ends both journeys and starts
  a playbook on `task_completed where outcome == "churned"`;
- tasks assigned among a team by round robin and to the least loaded member, each choice a
  decision in the log;
- items with an SLA: overdue at their due time and escalated to the CSM's manager one business
  day later (over a weekend too), unless done first; one with no manager says so;
- emails drafted for the CSM's review: unanswered, sent (`then send`) or dropped (`then drop`) at
  the deadline; withdrawn when the journey exits first;
- a success plan's milestones reached (by an event, a condition), late, reached late and missed,
  its status following, and a playbook triggered when it turns stuck.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl.project import compile_folder
from simulation.simulate import simulate
from tests.conformance.comparison import differences
from tests.conformance.live import run_live
from tests.conformance.merged import merge

TIMELINES = Path(__file__).resolve().parents[1] / "scenarios" / "timelines"


@pytest.mark.parametrize("name", ["work_item_from_template_with_checklist", "work_item_deduped_by_type_and_reason",
                                  "work_item_assigned_among_a_team", "work_item_escalated_when_overdue",
                                  "email_reviewed_by_the_csm_before_it_goes", "success_plan_milestones_and_status"])
async def test_a_work_item_scenario_gives_the_same_actions_live_and_simulated(name: str, tmp_path: Path) -> None:
    scenario = TIMELINES / name
    compilation = compile_folder(scenario / "playbooks")
    assert compilation.ok and compilation.bundle is not None
    timeline = merge([scenario])
    assert timeline.start is not None and timeline.end is not None
    live = await run_live(timeline, tmp_path, playbooks=scenario / "playbooks")
    simulated = await simulate(compilation.bundle, timeline.write(tmp_path / "merged.jsonl"), start=timeline.start,
                               days=(timeline.end - timeline.start).total_seconds() / 86400)
    assert any(action.kind in ("task", "email_drafted", "plan_started") for action in live.actions)
    problems = differences(live.actions, simulated.actions)
    assert not problems, "\n".join(problems)
