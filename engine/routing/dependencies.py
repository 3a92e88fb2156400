"""What a playbook depends on: the fields, scores and events its trigger and its running journeys read.

The router uses these sets to re-evaluate a condition trigger only when one of its inputs may have
changed (a field-change trigger reads its one field), and to signal a running journey only with
what it listens for: its exit and goal events, the events of its `wait until` statements, and
the fields its exit and goal conditions, its `wait until` conditions or its date-anchored steps
read. A score read counts as reading the score model's inputs; a metric or `seen` read counts as
listening to that event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from dsl import ir
from dsl.ir_expressions import children
from dsl.ir_text import describe_trigger

__all__ = ["PlaybookInputs", "Reads", "describe_trigger", "expression_reads", "playbook_inputs"]


@dataclass
class Reads:
    """The account fields and events an expression depends on."""

    fields: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)

    def add(self, other: Reads) -> None:
        self.fields |= other.fields
        self.events |= other.events


def expression_reads(expr: ir.Expr | None, bundle: ir.Bundle) -> Reads:
    """The fields (scores count as their inputs) and events (`seen`, metrics) `expr` reads."""
    reads = Reads()
    pending: list[ir.Expr] = [] if expr is None else [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, ir.FieldRef):
            reads.fields.add(node.path[0])
        elif isinstance(node, ir.ScoreRef | ir.BandIs):
            model = bundle.scores.get(node.score)
            if model is not None:
                reads.fields.update(model.inputs)
        elif isinstance(node, ir.MetricRef):
            metric = bundle.model.metrics.get(node.metric)
            if metric is not None:
                reads.events.add(metric.event)
        elif isinstance(node, ir.Seen):
            reads.events.add(node.event)
        pending.extend(children(node))
    return reads


def _statements(body: Iterable[ir.Statement]) -> Iterator[ir.Statement]:
    for statement in body:
        yield statement
        if isinstance(statement, ir.If):
            yield from _statements(statement.then)
            yield from _statements(statement.otherwise)
        elif isinstance(statement, ir.Split):
            for arm in statement.arms:
                yield from _statements(arm.body)
        elif isinstance(statement, ir.Do):
            yield from _statements(statement.otherwise)


@dataclass
class PlaybookInputs:
    """What one playbook depends on, computed once per bundle."""

    trigger: Reads  # a condition trigger's inputs, a change trigger's field (empty for other triggers)
    listened_events: set[str]  # events a running journey is signalled with
    watched_fields: set[str]  # fields whose change a running journey is signalled with


def playbook_inputs(playbook: ir.Playbook, bundle: ir.Bundle) -> PlaybookInputs:
    trigger = playbook.trigger
    if isinstance(trigger, ir.ConditionTrigger):
        trigger_reads = expression_reads(trigger.condition, bundle)
    elif isinstance(trigger, ir.ChangeTrigger):
        trigger_reads = Reads(fields={trigger.field})
    else:
        trigger_reads = Reads()
    journey = Reads()
    journey.events.update(rule.event for rule in playbook.exits if rule.event)
    journey.events.update(playbook.goal_events)
    for rule in playbook.exits:
        journey.add(expression_reads(rule.condition, bundle))
    journey.add(expression_reads(playbook.goal, bundle))
    for step in playbook.steps:
        if step.anchor != "entry":
            journey.fields.add(step.anchor)
        for statement in _statements(step.body):
            if isinstance(statement, ir.WaitUntil):
                journey.events.update(statement.events)
                journey.add(expression_reads(statement.condition, bundle))  # a condition wakes on its inputs
            elif isinstance(statement, ir.StartPlan):  # its milestones: events, and conditions' inputs
                for milestone in statement.plan.milestones:
                    journey.events.update([milestone.event] if milestone.event else [])
                    journey.add(expression_reads(milestone.condition, bundle))
    return PlaybookInputs(trigger=trigger_reads, listened_events=journey.events,
                          watched_fields=journey.fields)
