"""`why` and `stats` read work items: a deduped item another journey joined, the outcome it was
closed with, from the deduped work-item scenario run through `simulate`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dsl.project import compile_folder
from engine.insight.analytics import playbook_stats
from engine.insight.story import tell
from engine.store import Store
from simulation.simulate import simulate
from tests.stores import sqlite_url

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "timelines" / "work_item_deduped_by_type_and_reason"


async def test_why_tells_the_item_joined_and_its_outcome_and_stats_count_outcomes(tmp_path: Path) -> None:
    compilation = compile_folder(SCENARIO / "playbooks")
    assert compilation.bundle is not None
    store = Store.open(sqlite_url(tmp_path / "store.db"))
    try:
        await simulate(compilation.bundle, SCENARIO / "events.jsonl", days=5, store=store)
        story = tell(store, compilation.bundle, "acme", now=datetime(2026, 1, 10, tzinfo=UTC))
        texts = [line.text for line in story.lines if line.kind in ("task", "task_updated", "task_done")]
        [stats] = playbook_stats(store, compilation.bundle, "usage_risk").playbooks
    finally:
        store.close()
    assert texts == [
        'Entry: opened task "Churn risk: Acme" (risk: churn_risk) for sam@vendor.example, due 2026-01-08 09:00 UTC, '
        "normal priority.",
        'Entry: found task "Churn risk: Acme" (risk: churn_risk) open already: it updated it and waits on it '
        "instead of opening another.",
        'Entry: opened task "Exit interview: Acme" (lifecycle: churned) for sam@vendor.example, normal priority.',
        'Task "Churn risk: Acme" was marked done (churned).',
    ]
    opened = stats.steps[0].statements[0]
    # globex's item is opened by whichever of its two racing journeys comes first: only acme's is done
    assert (opened.completed, opened.outcomes) == (1, {"churned": 1})


async def _story(name: str, account: str, days: int, kinds: tuple[str, ...], tmp_path: Path) -> list[str]:
    folder = SCENARIO.parent / name
    compilation = compile_folder(folder / "playbooks")
    assert compilation.bundle is not None
    store = Store.open(sqlite_url(tmp_path / f"{name}.db"))
    try:
        await simulate(compilation.bundle, folder / "events.jsonl", days=days, store=store)
        story = tell(store, compilation.bundle, account, now=datetime(2026, 3, 10, tzinfo=UTC))
    finally:
        store.close()
    return [line.text for line in story.lines if line.kind in kinds]


async def test_why_tells_an_item_overdue_then_escalated(tmp_path: Path) -> None:
    assert await _story("work_item_escalated_when_overdue", "hooli", 10, ("task_overdue", "task_escalated"),
                        tmp_path) == [
        'Task "Churn risk: Hooli" of sam@vendor.example was not done by its due time: it is overdue.',
        'Task "Churn risk: Hooli" was still open: escalated to lee@vendor.example (csm.manager).']


async def test_why_tells_a_draft_dropped_unanswered_and_one_withdrawn(tmp_path: Path) -> None:
    lines = await _story("email_reviewed_by_the_csm_before_it_goes", "globex", 8,
                         ("email_drafted", "draft_dropped", "draft_withdrawn"), tmp_path)
    assert len(lines) == 5  # three drafts (one sent unreviewed the next morning), one withdrawn, one dropped
    assert "Entry: drafted email risk_note to gil@globex.example for sam@vendor.example to review by 2026-01-05 " \
           "14:00 UTC (unanswered: dropped)." in lines
    assert lines[3].endswith("of email risk_note was not sent: the journey ended: event churned.")
    assert lines[4].endswith("of email risk_note was not sent: not reviewed in time.")


async def test_why_tells_a_plan_falling_behind_recovering_and_closing_stuck(tmp_path: Path) -> None:
    assert await _story("success_plan_milestones_and_status", "initech", 65, (
        "plan_started", "milestone_reached", "milestone_late", "plan_status_changed", "plan_ended"), tmp_path) == [
        "Started success plan onboarding: 3 milestones.",
        "Milestone first_project of plan onboarding was not reached by its due time: it is late.",
        "Plan onboarding is now behind (was on track).",
        "Reached milestone first_project of plan onboarding late.",
        "Plan onboarding is now on track (was behind).",
        "Milestone team_invited of plan onboarding was not reached by its due time: it is late.",
        "Plan onboarding is now behind (was on track).",
        "Milestone happy of plan onboarding was not reached by its due time: it is late.",
        "Plan onboarding is now stuck (was behind).",
        "Plan onboarding closed stuck; missed: team_invited, happy."]


async def test_why_says_a_journey_with_no_steps_left_waits_for_its_open_plan(tmp_path: Path) -> None:
    folder = SCENARIO.parent / "success_plan_milestones_and_status"
    compilation = compile_folder(folder / "playbooks")
    assert compilation.bundle is not None
    store = Store.open(sqlite_url(tmp_path / "store.db"))
    try:
        await simulate(compilation.bundle, folder / "events.jsonl", days=20, store=store)
        story = tell(store, compilation.bundle, "initech", now=datetime(2026, 1, 25, tzinfo=UTC))
    finally:
        store.close()
    [upcoming] = [line.text for line in story.lines if line.kind == "next"]
    assert upcoming.endswith("no steps left: the journey completes when success plan onboarding closes.")


async def test_why_says_a_journey_waits_for_the_review_of_its_draft(tmp_path: Path) -> None:
    folder = SCENARIO.parent / "email_reviewed_by_the_csm_before_it_goes"
    compilation = compile_folder(folder / "playbooks")
    assert compilation.bundle is not None
    store = Store.open(sqlite_url(tmp_path / "store.db"))
    try:  # the timeline stops on the 8th at 18:00: acme's note drafted at 10:00 is still with Sam
        await simulate(compilation.bundle, folder / "events.jsonl", start=datetime(2026, 1, 5, tzinfo=UTC),
                       days=3.75, store=store)
        story = tell(store, compilation.bundle, "acme", now=datetime(2026, 1, 8, 18, tzinfo=UTC))
    finally:
        store.close()
    upcoming = [line.text for line in story.lines if line.kind == "next" and line.playbook == "risk_note"]
    assert len(upcoming) == 1 and "waiting for sam@vendor.example to review draft d-" in upcoming[0]
    assert upcoming[0].endswith("(unanswered by then: sent).")
