"""Score models: an account's fields in, a value, a band and a per-component breakdown out.

In each component the first rule that holds gives the points, top to bottom (a rule whose
condition is unknown does not hold). An account missing any input of the model is unscored:
no value, no band, and `missing` names the fields. Pure: the journey workflow may call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dsl import ir
from engine.evaluator import evaluate, truthy
from engine.records import ScoreState, Snapshot

__all__ = ["band_for", "compute", "missing_inputs", "score_changed", "score_data", "whole"]

_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # rules read fields only, never the clock


def whole(number: float) -> float | int:
    """69.0 as 69: the log shows integral scores without a decimal point."""
    return int(number) if float(number).is_integer() else number


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
    for rule in component.rules:
        if rule.when is None or truthy(evaluate(rule.when, snap)):
            return rule.points
    return 0.0


def compute(model: ir.ScoreModel, fields: Mapping[str, Any]) -> ScoreState:
    """The score of an account whose fields are `fields`."""
    missing = missing_inputs(model, fields)
    if missing:
        return ScoreState(name=model.name, missing=missing)
    snap = Snapshot(account="", at=_NO_TIME, fields=dict(fields))
    breakdown = {component.name: _points(component, snap) for component in model.components}
    total = sum(breakdown.values())
    return ScoreState(name=model.name, value=total, band=band_for(model, total), breakdown=breakdown)


def score_changed(before: ScoreState | None, after: ScoreState) -> bool:
    """A change worth a `score` action: value or band moved, or the account became (un)scored."""
    if before is None:
        return after.value is not None
    return (before.value, before.band) != (after.value, after.band)


def score_data(state: ScoreState) -> dict[str, Any]:
    """The keys of a `score` action: `score`, `value`, `band`, `breakdown` (or `missing`)."""
    data: dict[str, Any] = {
        "score": state.name,
        "value": None if state.value is None else whole(state.value),
        "band": state.band,
    }
    if state.value is None:
        data["missing"] = list(state.missing)
    else:
        data["breakdown"] = {name: whole(points) for name, points in state.breakdown.items()}
    return data
