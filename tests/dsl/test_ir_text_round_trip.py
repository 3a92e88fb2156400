"""The IR printer's text is the language: every expression, trigger, duration and statement of the
standard playbooks, printed by `dsl.ir_text` and compiled again, gives back the same IR.

The playbooks and the health score are written out from their IR (each line by the printer; the
blocks, step heads and clause words around them here), beside the standard model and policies,
and the folder is compiled. The one thing the text does not keep is a money amount's unit: `15k`
is printed `15000`, which reads back as a plain number, so the expected IR has money literals as
numbers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from dsl import compile_folder, ir
from dsl.ir_text import (
    describe,
    describe_duration,
    describe_number,
    describe_statement,
    describe_step,
    describe_trigger,
)

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
COPIED = ("model.play", "policies.play")  # declarations, not IR the printer writes


def _alternatives(events: tuple[str, ...], conditions: list[ir.Expr]) -> str:
    """`exit:` and `goal:` alternatives: an `or` of conditions is one alternative each."""
    written = [f"event {event}" for event in events]
    for condition in conditions:
        if isinstance(condition, ir.Logic) and condition.op == "or":
            written.extend(describe(arg) for arg in condition.args)
        else:
            written.append(describe(condition))
    return " or ".join(written)


def _block(body: tuple[ir.Statement, ...], depth: int) -> list[str]:
    pad = "    " * depth
    lines: list[str] = []
    for statement in body:
        if isinstance(statement, ir.Do):
            assert not statement.params, "the printer writes an activity without its parameters"
        lines.append(pad + describe_statement(statement) + (":" if isinstance(statement, ir.If | ir.Split) else ""))
        if isinstance(statement, ir.If):
            lines += _block(statement.then, depth + 1)
            if statement.otherwise:
                lines += [f"{pad}else:", *_block(statement.otherwise, depth + 1)]
        elif isinstance(statement, ir.Split):
            for arm in statement.arms:
                lines += [f"{pad}    {arm.label}:", *_block(arm.body, depth + 2)]
    return lines


def _step_head(step: ir.Step) -> str:
    if step.anchor == "entry":
        assert step.offset.unit == "days", step
    return describe_step(step) + ":"


def write_playbook(playbook: ir.Playbook) -> str:
    lines = [f"playbook {playbook.id} {json.dumps(playbook.title)}:",
             f"    trigger: {describe_trigger(playbook.trigger)}"]
    if playbook.audience is not None:
        lines.append(f"    audience: {describe(playbook.audience)}")
    exit_events = tuple(rule.event for rule in playbook.exits if rule.event)
    exit_conditions = [rule.condition for rule in playbook.exits if rule.condition is not None]
    if playbook.exits:
        lines.append(f"    exit: {_alternatives(exit_events, exit_conditions)}")
    if playbook.goal is not None or playbook.goal_events:
        lines.append(f"    goal: {_alternatives(playbook.goal_events, [playbook.goal] if playbook.goal else [])}")
    if playbook.reentry.mode == "never":
        lines.append("    reentry: never")
    elif playbook.reentry.after is not None:
        lines.append(f"    reentry: after {describe_duration(playbook.reentry.after)}")
    for step in playbook.steps:
        if step.name == "entry":
            lines += _block(step.body, 1)
        else:
            lines += [f"    {_step_head(step)}", *_block(step.body, 2)]
    return "\n".join(lines) + "\n"


def write_score(score: ir.ScoreModel) -> str:
    lines = [f"score {score.name} {json.dumps(score.title)}:"]
    for component in score.components:
        lines.append(f"    component {component.name} max {describe_number(component.max_points)}:")
        for rule in component.rules:
            when = f"if {describe(rule.when)}" if rule.when is not None else "otherwise"
            lines.append(f"        {describe_number(rule.points)} {when}")
    lines.append("    bands:")
    lines += [f"        {band.name}: {describe_number(band.low)} to {describe_number(band.high)}"
              for band in score.bands]
    return "\n".join(lines) + "\n"


def comparable(node: Any) -> Any:
    """A dumped IR node without what the text does not carry: source paths and lines, and the unit
    of money amounts."""
    if isinstance(node, dict):
        kept = {key: comparable(value) for key, value in node.items() if key not in ("path", "line")}
        if kept.get("type") == "money" and "value" in kept:
            kept["type"] = "number"
        return kept
    if isinstance(node, list):
        return [comparable(item) for item in node]
    return node


@pytest.fixture(scope="module")
def reprinted(bundle: ir.Bundle, tmp_path_factory: pytest.TempPathFactory) -> ir.Bundle:
    """The standard folder with its playbooks and scores written back from their IR, compiled."""
    folder = tmp_path_factory.mktemp("reprinted")
    shutil.copytree(PLAYBOOKS / "templates", folder / "templates")
    for name in COPIED:
        shutil.copy(PLAYBOOKS / name, folder / name)
    (folder / "scores.play").write_text("\n".join(write_score(score) for score in bundle.scores.values()))
    (folder / "playbooks.play").write_text("\n".join(write_playbook(p) for p in bundle.playbooks.values()))
    compilation = compile_folder(folder)
    assert compilation.ok and compilation.bundle is not None, compilation.render()
    return compilation.bundle


def test_the_printed_scores_compile_to_the_same_score_models(bundle: ir.Bundle, reprinted: ir.Bundle) -> None:
    assert bundle.scores, "the standard folder has a score"
    for name, score in bundle.scores.items():
        assert comparable(reprinted.scores[name].model_dump(mode="json")) == comparable(score.model_dump(mode="json"))


def _standard_playbook_ids() -> list[str]:
    compiled = compile_folder(PLAYBOOKS).bundle
    assert compiled is not None
    return sorted(compiled.playbooks)


@pytest.mark.parametrize("playbook_id", _standard_playbook_ids())
def test_a_printed_playbook_compiles_to_the_same_ir(bundle: ir.Bundle, reprinted: ir.Bundle, playbook_id: str) -> None:
    original = comparable(bundle.playbooks[playbook_id].model_dump(mode="json"))
    assert comparable(reprinted.playbooks[playbook_id].model_dump(mode="json")) == original

