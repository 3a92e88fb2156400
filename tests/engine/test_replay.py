"""Determinism: journey histories replay on the current workflow code without a divergence.

Two sets of histories are replayed: ones recorded just now from a simulation (the code agrees
with itself), and ones recorded earlier and kept under `histories/` (a change to the workflow
code must not break journeys already running in production). A change that cannot replay them
raises `JOURNEY_GENERATION` (the workflow type carries it, so workers of the previous release go
on serving the journeys they started); then `PLAYBOOK_RECORD_HISTORIES=1` records the kept set of
the new generation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from dsl import ir
from dsl.project import compile_folder
from engine.workflows.payloads import JOURNEY_GENERATION, WORKFLOW_NAME
from simulation.simulate import simulate
from workers.runtime import DATA_CONVERTER, WORKFLOWS, workflow_runner

KEPT = Path(__file__).resolve().parent / "histories"
TIMELINE = Path(__file__).resolve().parent / "replay_timeline.jsonl"


def _replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER, workflow_runner=workflow_runner())


async def _replay_failures(histories: list[WorkflowHistory]) -> dict[str, str]:
    replayer = _replayer()
    failures = {}
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures[history.workflow_id] = str(result.replay_failure)
    return failures


async def test_fresh_journey_histories_replay_without_nondeterminism(bundle: ir.Bundle) -> None:
    result = await simulate(bundle, TIMELINE, days=10, keep_histories=True)
    assert len(result.histories) >= 3
    histories = [WorkflowHistory.from_json(f"journey-{i}", text) for i, text in enumerate(result.histories)]
    assert not await _replay_failures(histories)
    if os.environ.get("PLAYBOOK_RECORD_HISTORIES"):
        KEPT.mkdir(exist_ok=True)
        for old in KEPT.glob("*.json"):
            old.unlink()
        for index, text in enumerate(result.histories):
            (KEPT / f"journey-{index}.json").write_text(json.dumps(json.loads(text), indent=1))


def test_kept_histories_are_of_the_current_journey_generation() -> None:
    files = sorted(KEPT.glob("*.json"))
    assert files, "no kept histories: record them with PLAYBOOK_RECORD_HISTORIES=1"
    for path in files:
        started = json.loads(path.read_text())["events"][0]["workflowExecutionStartedEventAttributes"]
        assert started["workflowType"]["name"] == WORKFLOW_NAME, (
            f"{path.name} is a journey of another generation than {JOURNEY_GENERATION}: "
            "record the kept histories again with PLAYBOOK_RECORD_HISTORIES=1")


async def test_kept_histories_replay_on_current_code() -> None:
    files = sorted(KEPT.glob("*.json"))
    assert files, "no kept histories: record them with PLAYBOOK_RECORD_HISTORIES=1"
    histories = [WorkflowHistory.from_json(path.stem, path.read_text()) for path in files]
    assert not await _replay_failures(histories)


async def test_journeys_waiting_on_conditions_and_events_replay_without_nondeterminism() -> None:
    """Conditions on events, waits for a condition, since entry, splits recorded on the account and
    several recipients (the example playbooks on their timelines) replay as they ran."""
    root = Path(__file__).resolve().parents[2]
    compilation = compile_folder(root / "examples" / "cs-playbooks")
    assert compilation.bundle is not None
    timelines = root / "tests" / "scenarios" / "timelines"
    histories: list[WorkflowHistory] = []
    for name, days in (("event_conditions_on_goal_and_wait", 16), ("wait_for_a_condition", 33),
                       ("event_since_entry_before_the_wait", 46), ("split_records_arm_and_mails_each_recipient", 12)):
        result = await simulate(compilation.bundle, timelines / name / "events.jsonl", days=days,
                                keep_histories=True)
        histories += [WorkflowHistory.from_json(f"{name}-{i}", text) for i, text in enumerate(result.histories)]
    assert len(histories) >= 15
    assert not await _replay_failures(histories)


@pytest.mark.parametrize("name, days", [("work_item_escalated_when_overdue", 10),
                                        ("email_reviewed_by_the_csm_before_it_goes", 8),
                                        ("success_plan_milestones_and_status", 65)])
async def test_journeys_watching_items_drafts_and_plans_replay_without_nondeterminism(name: str, days: int) -> None:
    """Journeys watching a work item's SLA, waiting on a draft's review and watching a success plan
    (concurrent timers and waits beside the steps) replay as they ran."""
    folder = Path(__file__).resolve().parents[2] / "tests" / "scenarios" / "timelines" / name
    compilation = compile_folder(folder / "playbooks")
    assert compilation.bundle is not None
    result = await simulate(compilation.bundle, folder / "events.jsonl", days=days, keep_histories=True)
    histories = [WorkflowHistory.from_json(f"{name}-{i}", text) for i, text in enumerate(result.histories)]
    assert len(histories) >= 3
    assert not await _replay_failures(histories)
