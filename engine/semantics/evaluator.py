"""The expression evaluator: the meaning of every condition in a playbook, as a pure function.

Logic is three-valued (`engine.semantics.three_valued`). A field that is missing (absent or null)
evaluates to `UNKNOWN`; comparisons and arithmetic with an unknown operand are unknown; `and`,
`or` and `not` follow Kleene's rules (`false and unknown` is false, `true or unknown` is true).
Only `True` admits, triggers or takes a branch: see `truthy`.

Values are the snapshot's own: numbers (percentages as 0-100), text, booleans, dates (ISO
strings in fields, compared as dates), owners and contacts (dicts). The evaluator reads nothing
but its arguments, so the journey workflow can call it during replay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from dsl import ir
from dsl.ir_text import describe
from engine.records import ScoreState, Snapshot
from engine.semantics import calendar
from engine.semantics.three_valued import (
    UNKNOWN,
    Unknown,
    Value,
    arith,
    compare,
    count_true,
    kleene_and,
    kleene_not,
    kleene_or,
    truth,
    truthy,
)

__all__ = ["UNKNOWN", "Unknown", "Value", "band_for", "component_points", "compute_score",
           "describe", "evaluate", "evaluate_with_reads",
           "missing_inputs", "truthy", "why_not"]

_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # score rules read fields only, never the clock


def _literal(node: ir.Literal_) -> Value:
    if node.value is None:
        return UNKNOWN
    if node.type == "date":
        return calendar.as_date(node.value) or node.value
    if node.type == "datetime" and isinstance(node.value, str):
        try:
            return datetime.fromisoformat(node.value.replace("Z", "+00:00"))
        except ValueError:
            return node.value
    return node.value


def _path(root: Mapping[str, Any] | None, path: tuple[str, ...]) -> Value:
    current: Any = root
    for name in path:
        if not isinstance(current, Mapping) or current.get(name) is None:
            return UNKNOWN
        current = current[name]
    return current


def _seen(node: ir.Seen, snap: Snapshot, entered_at: datetime | None) -> Value:
    """Whether the event was seen; with `since entry`, unknown outside a journey (no entry)."""
    times = [at for name, at in snap.events if name == node.event and at <= snap.at]
    if node.since_entry:
        if entered_at is None:
            return UNKNOWN
        times = [at for at in times if at > entered_at]
    if node.within is not None:
        since = calendar.add_duration(snap.at, _negative(node.within), snap.timezone)
        times = [at for at in times if at >= since]
    if node.older_than is not None:
        before = calendar.add_duration(snap.at, _negative(node.older_than), snap.timezone)
        times = [at for at in times if at < before]
    return bool(times)


def _negative(duration: ir.Duration) -> ir.Duration:
    return ir.Duration(amount=-duration.amount, unit=duration.unit)


def _json_safe(value: Value) -> Any:
    if value is UNKNOWN:
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


class _Evaluation:
    def __init__(
        self,
        snap: Snapshot,
        event_data: Mapping[str, Any] | None,
        task_state: str | None,
        score_models: Mapping[str, ir.ScoreModel] | None,
        entered_at: datetime | None = None,
    ) -> None:
        self.snap = snap
        self.entered_at = entered_at
        self.event_data = event_data
        self.task_state = task_state
        self.score_models = score_models
        self.reads: dict[str, Any] = {}

    def read(self, name: str, value: Value) -> Value:
        self.reads[name] = _json_safe(value)
        return value

    def score(self, name: str, part: str) -> Value:
        state = self.snap.scores.get(name)
        if state is None and self.score_models and name in self.score_models:
            state = compute_score(self.score_models[name], self.snap.fields)
        if state is None:
            return UNKNOWN
        found = state.band if part == "band" else state.value
        if part == "value" and found is not None and float(found).is_integer():
            found = int(found)
        return UNKNOWN if found is None else found

    def run(self, node: ir.Expr) -> Value:
        if isinstance(node, ir.Literal_):
            return _literal(node)
        if isinstance(node, ir.FieldRef):
            return self.read(".".join(node.path), _path(self.snap.fields, node.path))
        if isinstance(node, ir.EventField):
            return self.read(f"event.{node.name}", _path(self.event_data, (node.name,)))
        if isinstance(node, ir.ScoreRef):
            key = node.score if node.part == "value" else f"{node.score}.band"
            return self.read(key, self.score(node.score, node.part))
        if isinstance(node, ir.BandIs):
            band = self.read(f"{node.score}.band", self.score(node.score, "band"))
            return UNKNOWN if band is UNKNOWN else band == node.band
        if isinstance(node, ir.MetricRef):
            return self.read(node.metric, self.snap.metrics.get(node.metric, UNKNOWN))
        if isinstance(node, ir.TaskState):
            state = self.read("task", self.task_state if self.task_state else UNKNOWN)
            return UNKNOWN if state is UNKNOWN else state == node.state
        if isinstance(node, ir.Seen):
            return self.read(describe(node), _seen(node, self.snap, self.entered_at))
        if isinstance(node, ir.Compare):
            return compare(node.op, self.run(node.left), self.run(node.right))
        if isinstance(node, ir.Arith):
            return arith(node.op, self.run(node.left), self.run(node.right))
        if isinstance(node, ir.PercentOf):
            percent, of = self.run(node.percent), self.run(node.of)
            return arith("*", arith("/", percent, 100), of)
        if isinstance(node, ir.Logic):
            values = [self.run(arg) for arg in node.args]
            return kleene_and(values) if node.op == "and" else kleene_or(values)
        if isinstance(node, ir.Not):
            return kleene_not(self.run(node.arg))
        if isinstance(node, ir.CountTrue):
            return count_true(node.op, node.count, [self.run(arg) for arg in node.args])
        if isinstance(node, ir.AudienceRef):
            return self.run(node.condition)  # its reads are those of its condition
        raise TypeError(f"not an expression: {node!r}")


def evaluate_with_reads(
    expr: ir.Expr,
    snap: Snapshot,
    *,
    event_data: Mapping[str, Any] | None = None,
    task_state: str | None = None,
    bundle_scores: Mapping[str, ir.ScoreModel] | None = None,
    entered_at: datetime | None = None,
) -> tuple[Value, dict[str, Any]]:
    """The value of `expr` and what it read: `{"feature_adoption": 15, "health.band": "red"}`.

    Unknown reads are None; event payload keys are named `event.<key>`. Every operand is
    evaluated (no short circuit), so the reads are complete. `bundle_scores` lets a score
    missing from the snapshot be computed from the snapshot's fields. `entered_at`, the moment
    the journey entered, is what `seen EVENT since entry` counts from (unknown without it).
    """
    run = _Evaluation(snap, event_data, task_state, bundle_scores, entered_at)
    value = run.run(expr)
    return value, run.reads


def evaluate(
    expr: ir.Expr,
    snap: Snapshot,
    *,
    event_data: Mapping[str, Any] | None = None,
    task_state: str | None = None,
    bundle_scores: Mapping[str, ir.ScoreModel] | None = None,
    entered_at: datetime | None = None,
) -> Value:
    """The value of `expr` on the snapshot: a value, True/False, or UNKNOWN."""
    value, _ = evaluate_with_reads(
        expr, snap, event_data=event_data, task_state=task_state, bundle_scores=bundle_scores, entered_at=entered_at
    )
    return value


def why_not(
    expr: ir.Expr,
    snap: Snapshot,
    *,
    event_data: Mapping[str, Any] | None = None,
    task_state: str | None = None,
    bundle_scores: Mapping[str, ir.ScoreModel] | None = None,
    entered_at: datetime | None = None,
) -> str:
    """Which part of a condition is not true, for the decision log.

    `segment == "smb" is false`; for a conjunction, each conjunct that is not true:
    `segment == "smb" is false; feature_adoption < 20% is unknown (feature_adoption missing)`.
    An empty string when the condition holds.
    """
    parts = expr.args if isinstance(expr, ir.Logic) and expr.op == "and" else (expr,)
    reasons = []
    for part in parts:
        value, reads = evaluate_with_reads(
            part, snap, event_data=event_data, task_state=task_state, bundle_scores=bundle_scores,
            entered_at=entered_at,
        )
        outcome = truth(value)
        if outcome is True:
            continue
        if outcome is UNKNOWN:
            missing = [name for name, read in reads.items() if read is None]
            suffix = f" ({', '.join(missing)} missing)" if missing else ""
            reasons.append(f"{describe(part)} is unknown{suffix}")
        else:
            reasons.append(f"{describe(part)} is false")
    return "; ".join(reasons)


# --------------------------------------------------------------------------- score models
# A score reference in an expression computes the score when it is not stored, and a score's rules
# are expressions: the two recurse, so they live in one module (`engine.semantics.scores` formats
# the results).


def missing_inputs(model: ir.ScoreModel, fields: Mapping[str, Any]) -> list[str]:
    """The model's inputs that are absent or null in `fields`, in the model's order."""
    return [name for name in model.inputs if fields.get(name) is None]


def band_for(model: ir.ScoreModel, value: float) -> str | None:
    """The band whose range holds `value`; between two integer ranges (79.5), the lower band."""
    for band in model.bands:
        if band.low <= value <= band.high:
            return band.name
    below = [band for band in model.bands if band.low <= value]
    if below:
        return max(below, key=lambda band: band.low).name
    return None


def _points(component: ir.Component, snap: Snapshot) -> float:
    """In a component the first rule that holds gives the points, top to bottom (unknown does not hold)."""
    for rule in component.rules:
        if rule.when is None or truthy(evaluate(rule.when, snap)):
            return rule.points
    return 0.0


def component_points(component: ir.Component, fields: Mapping[str, Any]) -> float:
    """The points a component gives an account whose fields are `fields` (a function of the fields its rules name)."""
    return _points(component, Snapshot.model_construct(account="", at=_NO_TIME, fields=dict(fields), scores={},
                                                       metrics={}, events=[], timezone="UTC", tasks={}, token=None))


def compute_score(model: ir.ScoreModel, fields: Mapping[str, Any], *,
                  points: Callable[[ir.Component, Mapping[str, Any]], float] | None = None) -> ScoreState:
    """The score of an account whose fields are `fields`: unscored (`missing` names the fields) when
    any input of the model is missing. `points` gives a component's points (`component_points`, or
    the same remembered: `engine.semantics.expression_memo.remembered_score`)."""
    missing = missing_inputs(model, fields)
    if missing:
        return ScoreState(name=model.name, missing=missing)
    if points is None:
        snap = Snapshot(account="", at=_NO_TIME, fields=dict(fields))
        breakdown = {component.name: _points(component, snap) for component in model.components}
    else:
        breakdown = {component.name: points(component, fields) for component in model.components}
    total = sum(breakdown.values())
    return ScoreState(name=model.name, value=total, band=band_for(model, total), breakdown=breakdown)
