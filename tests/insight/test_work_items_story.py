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
