"""Outcomes read what the journeys themselves wrote: a split run by `simulate` (the workflows and
activities on Temporal's time-skipping server) gives the arm cohorts of the retention figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dsl import ir
from dsl.project import compile_folder
from engine.insight.outcomes import outcomes
from engine.store import Store
from simulation.simulate import simulate

MODEL = """\
account fields:
    name: text
    arr: money

events:
    signed
    churned
"""

PLAYBOOK = """\
playbook trial "Trial offer":
    trigger: event signed

    split 50% / 50%:
        control:
            send in_app plain
        offer:
            send in_app discount
"""


def _bundle(root: Path) -> ir.Bundle:
    (root / "templates").mkdir(parents=True)
    (root / "model.play").write_text(MODEL)
    (root / "trial.play").write_text(PLAYBOOK)
    for name in ("plain", "discount"):
        (root / "templates" / f"{name}.in_app.jinja").write_text(
            "{% block subject %}" + name + "{% endblock %}\n{% block text %}" + name + "{% endblock %}\n")
    compilation = compile_folder(root)
    assert compilation.bundle is not None, [d.headline() for d in compilation.diagnostics]
    return compilation.bundle


async def test_the_arms_a_simulated_split_drew_are_the_retention_cohorts(tmp_path: Path, store: Store) -> None:
    bundle = _bundle(tmp_path / "playbooks")
    lines: list[dict[str, Any]] = []
    for number in range(40):
        account = f"acc{number:02d}"
        lines.append({"account": account, "at": "2026-03-02T10:00:00Z", "event": "signed",
                      "traits": {"name": account, "arr": 1000 + number}})
        if number % 4 == 0:
            lines.append({"account": account, "at": "2026-03-05T10:00:00Z", "event": "churned"})
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = await simulate(bundle, events, days=7, store=store)
    arm_of = {a.account: a.data["outcome"] for a in result.actions if a.data.get("what") == "split"}
    assert set(arm_of.values()) == {"control", "offer"} and len(arm_of) == 40

    figures = outcomes(store, None, datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC), "arm")
    groups = {group.group: group for group in figures.groups}
    assert set(groups) == {"trial entry/0: control", "trial entry/0: offer"}
    for label in ("control", "offer"):
        members = [int(account[3:]) for account, arm in arm_of.items() if arm == label]
        group = groups[f"trial entry/0: {label}"]
        assert group.accounts == len(members)
        assert group.starting_arr == sum(1000 + number for number in members)
        assert group.churned_accounts == sum(1 for number in members if number % 4 == 0)
    assert figures.total.accounts == 40 and figures.total.churned_accounts == 10
