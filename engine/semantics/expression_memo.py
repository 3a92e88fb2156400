"""Remembering what an expression evaluated to, by the values it read: a condition evaluated again
on the same inputs is not walked again.

Most expressions are pure functions of what they read: the fields they name, the scores (their
value and band; without them in the snapshot, their models' inputs) and the metrics. Such an
expression evaluated on two snapshots that agree on those values has the same value, whatever the
account and the moment. `ExpressionMemo` keys each value by the expression and those values; an
expression that reads more than that (`seen`, whose answer depends on the moment and the event
history; an event's payload; a task's state) is always evaluated.

The router keeps one memo for its bundle (`engine.routing.router`): a trait change re-evaluates the
condition triggers that read one of its fields, and those whose inputs came back to values seen
before (for this account or another) are answered from memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsl import ir
from dsl.ir_expressions import parts
from engine.records import ScoreState, Snapshot
from engine.semantics.evaluator import UNKNOWN, Value, component_points, compute_score, evaluate

__all__ = ["ExpressionMemo", "hashable", "remembered_score"]

REMEMBERED = 50_000  # values kept, all forgotten when full
# A score's components, each remembered by the values of the fields its rules name: a change of
# one input computes again only the components that read it. The component is kept with its
# inputs and points, so that an id reused by another component is never taken for it.
_COMPONENT_INPUTS: dict[int, tuple[ir.Component, tuple[str, ...]]] = {}
_POINTS: dict[tuple[int, tuple[Any, ...]], tuple[ir.Component, float]] = {}


class _Inputs:
    """What a pure expression's value depends on: the fields, scores and metrics it reads."""

    __slots__ = ("fields", "metrics", "scores")

    def __init__(self, fields: tuple[str, ...], scores: tuple[str, ...], metrics: tuple[str, ...]) -> None:
        self.fields, self.scores, self.metrics = fields, scores, metrics


def _inputs(expr: ir.Expr) -> _Inputs | None:
    """The inputs of `expr`, or None when it reads more than fields, scores and metrics."""
    fields: set[str] = set()
    scores: set[str] = set()
    metrics: set[str] = set()
    for node in parts(expr):
        if isinstance(node, ir.Seen | ir.EventField | ir.TaskState):
            return None
        if isinstance(node, ir.FieldRef):
            fields.add(node.path[0])
        elif isinstance(node, ir.ScoreRef | ir.BandIs):
            scores.add(node.score)
        elif isinstance(node, ir.MetricRef):
            metrics.add(node.metric)
    return _Inputs(tuple(sorted(fields)), tuple(sorted(scores)), tuple(sorted(metrics)))


def hashable(value: Any) -> Any:
    """A value of a field as a dictionary key (JSON objects and lists as tuples; the type kept, so that
    1, 1.0 and True stay apart)."""
    if isinstance(value, dict):
        return tuple(sorted((key, hashable(item)) for key, item in value.items()))
    if isinstance(value, list):
        return tuple(hashable(item) for item in value)
    return type(value), value


class ExpressionMemo:
    """The values of the expressions of one bundle, by the values they read (see the module)."""

    def __init__(self, scores: Mapping[str, ir.ScoreModel], *, limit: int = REMEMBERED) -> None:
        self.scores = scores
        self.limit = limit
        self._inputs: dict[int, tuple[ir.Expr, _Inputs | None]] = {}
        self._values: dict[tuple[Any, ...], Value] = {}
        self.evaluated = 0  # evaluations not answered from memory (for tests and benchmarks)

    def evaluate(self, expr: ir.Expr, snap: Snapshot) -> Value:
        """`evaluate(expr, snap, bundle_scores=...)`, from memory when `expr` was evaluated on the same inputs."""
        known = self._inputs.get(id(expr))
        if known is None or known[0] is not expr:
            known = self._inputs[id(expr)] = (expr, _inputs(expr))
        inputs = known[1]
        if inputs is None:
            self.evaluated += 1
            return evaluate(expr, snap, bundle_scores=self.scores)
        fields, metrics = snap.fields, snap.metrics
        key = (id(expr), tuple(hashable(fields.get(name)) for name in inputs.fields),
               tuple(self._score_key(name, snap) for name in inputs.scores),
               tuple(metrics.get(name, UNKNOWN) for name in inputs.metrics))
        found = self._values.get(key, _MISSING)
        if found is _MISSING:
            self.evaluated += 1
            found = evaluate(expr, snap, bundle_scores=self.scores)
            if len(self._values) >= self.limit:
                self._values.clear()
            self._values[key] = found
        return found

    def _score_key(self, name: str, snap: Snapshot) -> Any:
        """What a score read depends on: the snapshot's state of it (value and band), else its
        model's inputs (the evaluator computes it from them)."""
        state = snap.scores.get(name)
        if state is not None:
            return state.value, state.band
        model = self.scores.get(name)
        return None if model is None else ("inputs", tuple(hashable(snap.fields.get(field)) for field in model.inputs))


_MISSING: Any = object()


def _remembered_points(component: ir.Component, fields: Mapping[str, Any]) -> float:
    known = _COMPONENT_INPUTS.get(id(component))
    if known is None or known[0] is not component:
        names = {node.path[0] for rule in component.rules if rule.when is not None
                 for node in parts(rule.when) if isinstance(node, ir.FieldRef)}
        known = _COMPONENT_INPUTS[id(component)] = (component, tuple(sorted(names)))
        if len(_COMPONENT_INPUTS) > REMEMBERED:
            _COMPONENT_INPUTS.clear()
    key = (id(component), tuple(hashable(fields.get(name)) for name in known[1]))
    found = _POINTS.get(key)
    if found is None or found[0] is not component:
        if len(_POINTS) >= REMEMBERED:
            _POINTS.clear()
        found = _POINTS[key] = (component, component_points(component, fields))
    return found[1]


def remembered_score(model: ir.ScoreModel, fields: Mapping[str, Any]) -> ScoreState:
    """`compute_score(model, fields)`, each component's points remembered by the fields it reads
    (a score rule reads the account's fields only: `engine.semantics.evaluator.compute_score`)."""
    return compute_score(model, fields, points=_remembered_points)
