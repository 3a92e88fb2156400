"""Branch decisions: an `if` whose condition is unknown (it reads a missing field) runs neither its
body nor its `else`, and the decision log says so, while a known condition takes its branch; a
split's decision names the arm it picked by its label."""

from __future__ import annotations

import json
from pathlib import Path

from dsl import ir
from engine.insight.analytics import playbook_stats
from engine.insight.story import tell
from engine.store import Store
from simulation.simulate import simulate
from tests.in_app_bundle import in_app_bundle

MODEL = """\
account fields:
    name: text
    feature_adoption: percent

events:
    signed
"""

PLAYBOOK = """\
playbook nudge "Adoption nudge":
    trigger: event signed

    day 0:
        if feature_adoption < 30%:
            send in_app low
        else:
            send in_app high
"""


def _bundle(root: Path, playbook: str = PLAYBOOK) -> ir.Bundle:
    return in_app_bundle(root, MODEL, playbook)


async def test_an_unknown_condition_runs_neither_branch_and_a_known_one_runs_its_own(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "playbooks")
    at = "2026-01-05T09:00:00Z"
    lines = [
        {"account": "unknown", "at": at, "traits": {"name": "Unknown"}},
        {"account": "unknown", "at": at, "event": "signed"},
        {"account": "low", "at": at, "traits": {"name": "Low", "feature_adoption": 10}},
        {"account": "low", "at": at, "event": "signed"},
        {"account": "high", "at": at, "traits": {"name": "High", "feature_adoption": 80}},
        {"account": "high", "at": at, "event": "signed"},
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = await simulate(bundle, events, days=1)
    shown = {(a.account, a.data["template"]) for a in result.actions if a.kind == "in_app"}
    assert shown == {("low", "low"), ("high", "high")}
    [branch] = [a for a in result.actions if a.account == "unknown" and a.data.get("what") == "branch"]
    assert branch.data["detail"] == "if feature_adoption < 30%: unknown (neither branch ran)"


async def test_why_and_stats_tell_the_unknown_branch(tmp_path: Path, store: Store) -> None:
    bundle = _bundle(tmp_path / "playbooks")
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"account": "unknown", "at": "2026-01-05T09:00:00Z", "traits": {"name": "U"}})
                      + "\n" + json.dumps({"account": "unknown", "at": "2026-01-05T09:00:00Z", "event": "signed"})
                      + "\n")
    await simulate(bundle, events, days=1, store=store)
    story = tell(store, bundle, "unknown", "nudge")
    [stats] = playbook_stats(store, bundle, "nudge").playbooks
    assert any("was unknown (a value it reads is missing), so neither its block nor its else block ran" in line.text
               for line in story.lines)
    [statement] = [s for s in stats.steps[0].statements if s.path == "day 0/0"]
    assert statement.outcomes == {"neither branch ran (unknown)": 1}


SPLIT = """\
playbook trial "A/B":
    trigger: event signed

    day 0:
        split 50% / 50%:
            control:
                send in_app low
            offer:
                send in_app high
"""


async def test_a_splits_decision_names_the_arm_by_its_label(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "playbooks", SPLIT)
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({"account": f"a{n}", "at": "2026-01-05T09:00:00Z", "event": "signed"}) + "\n"
                              for n in range(6)))
    result = await simulate(bundle, events, days=1)
    splits = [a for a in result.actions if a.data.get("what") == "split"]
    assert len(splits) == 6
    for decision in splits:
        arm = decision.data["reads"]["arm"]
        assert arm in {"control", "offer"} and decision.data["detail"].startswith(f"arm {arm} (50%)")
        [shown] = [a for a in result.actions if a.kind == "in_app" and a.account == decision.account]
        assert shown.data["template"] == {"control": "low", "offer": "high"}[arm]


SINCE_ENTRY = """\
playbook follow_up "A second answer since entry":
    trigger: event signed

    day 3:
        if seen signed since entry:
            send in_app high
        else:
            send in_app low
"""


async def test_seen_since_entry_counts_only_events_after_the_journeys_entry(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "playbooks", SINCE_ENTRY)
    lines = [{"account": "once", "at": "2026-01-05T09:00:00Z", "event": "signed"},
             {"account": "twice", "at": "2026-01-05T09:00:00Z", "event": "signed"},
             {"account": "twice", "at": "2026-01-06T09:00:00Z", "event": "signed"}]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = await simulate(bundle, events, days=4)
    shown = {(a.account, a.data["template"]) for a in result.actions if a.kind == "in_app"}
    assert shown == {("once", "low"), ("twice", "high")}  # the entry's own event does not count
