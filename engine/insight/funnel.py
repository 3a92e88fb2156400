"""A playbook's funnel: for each step the journeys that reached it, and for each statement what it
did, with the statement it sits in, so that a statement inside `if`, `unless`, a `split`'s arm or
a `do … else` is drawn nested under it rather than as if it always ran.

The counts are `playbook stats`' (`engine.insight.analytics`), read from the tallies of the action
log (`engine.store.action_tallies`) rather than from every action; this module adds the nesting,
each step's and statement's share of the journeys that entered, and the goal conversion.
"""

from __future__ import annotations

from pydantic import BaseModel

from dsl import ir
from engine.insight.analytics import PlaybookStats, StatementStats, playbook_stats
from engine.insight.arm_results import SplitResults
from engine.semantics.ir_walk import walk
from engine.store import Store

__all__ = ["Funnel", "FunnelStatement", "FunnelStep", "playbook_funnel"]


class FunnelStatement(StatementStats):
    parent: str | None = None  # the path of the `if`, `split` or `do` it sits in; None at the step's top level
    block: str | None = None  # which of the parent's blocks: `then`, `else`, or the split's arm (`arm control`)
    depth: int = 0  # 0 at the step's top level, 1 inside one block, …


class FunnelStep(BaseModel):
    step: str
    reached: int
    skipped: int
    share: float  # of the journeys that entered (or of the most that reached a step), 0 to 1
    statements: list[FunnelStatement]


class Funnel(BaseModel):
    id: str
    title: str
    version: str
    entered: int
    active: int
    completed: int
    goal_reached: int
    goal_conversion: float | None  # goal_reached / entered (None: none entered)
    exited: dict[str, int]
    failed: int
    not_admitted: int
    steps: list[FunnelStep]
    splits: list[SplitResults]  # per arm: journeys, sends, goal conversion and the comparison with the first arm
    other_paths: list[StatementStats]  # logged by an older version, absent from this one


def _blocks(playbook: ir.Playbook) -> dict[str, tuple[str, str]]:
    """(parent path, block label) of every nested statement path."""
    found: dict[str, tuple[str, str]] = {}
    for step in playbook.steps:
        for path, statement in walk(step.body, step.name):
            if isinstance(statement, ir.Split):
                for number, arm in enumerate(statement.arms, start=1):
                    found[f"{path}/arm{number}"] = (path, f"arm {arm.label or number}")
            elif isinstance(statement, ir.If | ir.Do):
                found[f"{path}/then"] = (path, "then")
                found[f"{path}/else"] = (path, "else")
    return found


def _nested(stats: StatementStats, blocks: dict[str, tuple[str, str]]) -> FunnelStatement:
    parent, block = blocks.get(stats.path.rsplit("/", 1)[0], (None, None))
    depth, above = 0, parent
    while above is not None and depth < 100:
        depth += 1
        above = blocks.get(above.rsplit("/", 1)[0], (None, None))[0]
    return FunnelStatement(**stats.model_dump(), parent=parent, block=block, depth=depth)


def _funnel(playbook: ir.Playbook, stats: PlaybookStats) -> Funnel:
    blocks = _blocks(playbook)
    top = max([stats.entered, *(step.reached for step in stats.steps)], default=0)
    steps = [FunnelStep(step=step.step, reached=step.reached, skipped=step.skipped,
                        share=round(step.reached / top, 4) if top else 0.0,
                        statements=[_nested(statement, blocks) for statement in step.statements])
             for step in stats.steps]
    return Funnel(id=stats.id, title=stats.title, version=stats.version, entered=stats.entered, active=stats.active,
                  completed=stats.completed, goal_reached=stats.goal_reached,
                  goal_conversion=round(stats.goal_reached / stats.entered, 4) if stats.entered else None,
                  exited=stats.exited, failed=stats.failed, not_admitted=stats.not_admitted, steps=steps,
                  splits=stats.splits, other_paths=stats.other_paths)


def playbook_funnel(store: Store, bundle: ir.Bundle, playbook: str) -> Funnel | None:
    """The funnel of a deployed playbook; None when the bundle has no such playbook."""
    spec = bundle.playbooks.get(playbook)
    if spec is None:
        return None
    return _funnel(spec, playbook_stats(store, bundle, playbook).playbooks[0])
