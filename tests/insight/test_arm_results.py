"""A/B splits with results: the arm taken is recorded on the account when asked, and `stats`
reports per arm the journeys entered, what each arm sent and the goals reached, with the
difference between arms and its 95% confidence interval (or "not enough data" below 30 per arm)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from dsl import ir
from dsl.project import compile_folder
from engine.insight.analytics import playbook_stats
from engine.insight.arm_results import ArmResult, _compare, wilson
from engine.read_model import action_log
from engine.store import Store
from simulation.simulate import simulate
from tests.stores import sqlite_url

MODEL = """\
account fields:
    name: text
    trial_offer: one of control, offer

events:
    signed
    upgraded
"""

PLAYBOOK = """\
playbook trial "Trial offer":
    trigger: event signed
    goal: event upgraded

    split 50% / 50% record arm as trial_offer:
        control:
            send in_app plain
        offer:
            send in_app discount
    day 5:
        send in_app reminder
"""


def _bundle(root: Path) -> ir.Bundle:
    (root / "templates").mkdir(parents=True)
    (root / "model.play").write_text(MODEL)
    (root / "trial.play").write_text(PLAYBOOK)
    for name in ("plain", "discount", "reminder"):
        (root / "templates" / f"{name}.in_app.jinja").write_text(
            "{% block subject %}" + name + "{% endblock %}\n{% block text %}" + name + "{% endblock %}\n")
    compilation = compile_folder(root)
    assert compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    return compilation.bundle


def test_wilson_and_newcombe_give_the_published_intervals() -> None:
    low, high = wilson(81, 263)  # Newcombe (1998), example (a) of the single proportion paper
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    # Newcombe (1998), difference of independent proportions, example (a): 56/70 vs 48/80
    compared = _compare(ArmResult(label="b", percent=50, entered=70, goal_reached=56, conversion=0.8),
                        ArmResult(label="a", percent=50, entered=80, goal_reached=48, conversion=0.6))
    assert (compared.difference, compared.low, compared.high) == (20.0, 5.2, 33.4)
    assert compared.verdict == "b converts better than a"


def test_fewer_than_thirty_journeys_in_an_arm_is_not_enough_data() -> None:
    compared = _compare(ArmResult(label="b", percent=50, entered=29, goal_reached=29, conversion=1.0),
                        ArmResult(label="a", percent=50, entered=40, goal_reached=0, conversion=0.0))
    assert compared.difference is None
    assert compared.verdict == "not enough data (29 and 40 journeys; 30 per arm needed)"


async def test_stats_count_each_arm_and_the_arm_is_recorded_on_the_account(
        tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = _bundle(tmp_path / "playbooks")
    lines: list[dict[str, Any]] = []
    for number in range(80):
        account = f"acc{number:02d}"
        lines.append({"account": account, "at": "2026-03-02T10:00:00Z", "traits": {"name": account}})
        lines.append({"account": account, "at": "2026-03-02T10:00:00Z", "event": "signed"})
        if number % 3 == 0:
            lines.append({"account": account, "at": "2026-03-04T10:00:00Z", "event": "upgraded"})
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = await simulate(bundle, events, days=7, store=store)
    arm_of = {a.account: a.data["outcome"] for a in result.actions if a.data.get("what") == "split"}
    recorded = {a.account: a.data["value"] for a in result.actions if a.kind == "set"}
    assert recorded == arm_of and set(arm_of.values()) == {"control", "offer"}
    upgraded = {f"acc{number:02d}" for number in range(80) if number % 3 == 0}

    [split] = playbook_stats(store, bundle, "trial").playbooks[0].splits
    # the counts kept as journeys change give what a count of every journey and action gives
    recounted = playbook_stats(store, bundle, "trial", since=datetime(2000, 1, 1, tzinfo=UTC))
    assert playbook_stats(store, bundle).playbooks == playbook_stats(
        store, bundle, since=datetime(2000, 1, 1, tzinfo=UTC)).playbooks
    assert recounted.playbooks[0].splits == [split] and split.arms[0].entered > 0
    for arm in split.arms:
        members = {account for account, label in arm_of.items() if label == arm.label}
        assert (arm.entered, arm.goal_reached) == (len(members), len(members & upgraded))
        assert arm.sent == {"plain" if arm.label == "control" else "discount": len(members)}
    [comparison] = split.comparisons
    assert (comparison.arm, comparison.baseline) == ("offer", "control")

    shown = [line for line in action_log(store, kind="in_app")]
    assert {(line["account"], line["arm"]) for line in shown if line["template"] != "reminder"} == set(arm_of.items())
    assert all("arm" not in line for line in shown if line["template"] == "reminder")  # day 5: no arm

    code = main(["stats", "trial", "--database-url", sqlite_url(tmp_path / "store.db"),
                 "--playbooks", str(tmp_path / "playbooks")])
    out = capsys.readouterr().out
    assert code == 0
    assert "results of entry/0: split 50% / 50% record arm as trial_offer" in out
    assert "offer vs control: " in out
