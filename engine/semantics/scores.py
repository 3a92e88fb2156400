"""Score models: an account's fields in, a value, a band and a per-component breakdown out.

Computing a score is evaluation (`engine.semantics.evaluator.compute_score`: a score's rules are
expressions, and an expression may read a score); this module names it `compute` and formats
the results for the log.

In each component the first rule that holds gives the points, top to bottom (a rule whose
condition is unknown does not hold). An account missing any input of the model is unscored:
no value, no band, and `missing` names the fields. Pure: the journey workflow may call it.
"""

from __future__ import annotations

from typing import Any

from engine.records import ScoreState
from engine.semantics.evaluator import band_for, missing_inputs
from engine.semantics.evaluator import compute_score as compute

__all__ = ["band_for", "compute", "missing_inputs", "score_changed", "score_data", "whole"]


def whole(number: float) -> float | int:
    """69.0 as 69: the log shows integral scores without a decimal point."""
    return int(number) if float(number).is_integer() else number


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
