"""Snapshots: what a decision may read about an account at a moment, read from the store.

A snapshot is exact at any time, past or present: fields come from the trait history as of
`at`, scores are computed from those fields (never read from stored score rows), metrics are
counted over the events up to `at`. The journey workflow gets snapshots through an activity;
the router builds them directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dsl import ir
from engine.records import ScoreState, Snapshot, TaskRecord
from engine.semantics import calendar, metrics, scores
from engine.semantics.expression_memo import remembered_score

if TYPE_CHECKING:
    from engine.store.reads import RoutingReads

__all__ = ["account_timezone", "build_snapshot", "indexed_snapshot", "snapshot_of"]

REMEMBERED_SCORES = 20_000  # (model, input values) whose score is remembered, all forgotten when full
# the model is kept with its score, so that an id reused by another model is never taken for it
_SCORES: dict[tuple[int, tuple[Any, ...]], tuple[ir.ScoreModel, ScoreState]] = {}
_INPUTS: dict[int, tuple[ir.ScoreModel, tuple[str, ...]]] = {}


def account_timezone(fields: Mapping[str, Any]) -> str:
    """The account's `timezone` field when it names a known zone; else "UTC"."""
    name = fields.get("timezone")
    return name if isinstance(name, str) and calendar.is_valid_timezone(name) else "UTC"


def snapshot_of(
    bundle: ir.Bundle,
    account: str,
    at: datetime,
    fields: Mapping[str, Any],
    events: Sequence[metrics.EventRow],
    tasks: Mapping[str, TaskRecord] | None = None,
) -> Snapshot:
    """The snapshot of an account whose fields at `at` are `fields` and whose events up to `at` are
    `events` (oldest first; later ones are ignored)."""
    tz = account_timezone(fields)
    stamps = [(event[0], event[1]) for event in events if event[1] <= at]
    return Snapshot(
        account=account,
        at=at,
        fields=dict(fields),
        scores={name: _score(model, fields) for name, model in bundle.scores.items()},
        metrics=metrics.metric_values(bundle.model.metrics, stamps, at, tz),
        events=stamps,
        timezone=tz,
        tasks=dict(tasks or {}),
    )


def indexed_snapshot(
    bundle: ir.Bundle,
    account: str,
    at: datetime,
    fields: Mapping[str, Any],
    stamps: Sequence[tuple[str, datetime]],
    times_by_name: Mapping[str, Sequence[datetime]],
) -> Snapshot:
    """`snapshot_of` for an account whose events up to `at` are `stamps` (oldest first), with the
    times of its events by name (each in time order; those after `at` are not counted): the metric
    windows counted by bisection (`metrics.indexed_metric_values`), so that building it costs
    about the same whatever the account's history (routing's snapshots, `engine.routing.router`)."""
    tz = account_timezone(fields)
    return Snapshot.model_construct(
        account=account, at=at, fields=dict(fields),
        scores={name: _score(model, fields) for name, model in bundle.scores.items()},
        metrics=metrics.indexed_metric_values(bundle.model.metrics, times_by_name, at, tz),
        events=list(stamps), timezone=tz, tasks={}, token=None)


def _score(model: ir.ScoreModel, fields: Mapping[str, Any]) -> ScoreState:
    """`scores.compute(model, fields)`, remembered by the values of the model's inputs (a score is a
    function of them alone): routing builds a snapshot per change, and most changes move no score."""
    try:
        key = (id(model), tuple(_hashable(fields.get(name)) for name in _inputs(model)))
        found = _SCORES.get(key)
    except TypeError:  # a value that cannot be a key
        return scores.compute(model, fields)
    if found is None or found[0] is not model:
        if len(_SCORES) >= REMEMBERED_SCORES:
            _SCORES.clear()
        found = _SCORES[key] = (model, remembered_score(model, fields))  # its components remembered too
    state = found[1]
    return ScoreState.model_construct(name=state.name, value=state.value, band=state.band,
                                      breakdown=dict(state.breakdown), missing=list(state.missing))


def _inputs(model: ir.ScoreModel) -> tuple[str, ...]:
    """`model.inputs`, worked out once per model."""
    known = _INPUTS.get(id(model))
    if known is None or known[0] is not model:
        if len(_INPUTS) >= REMEMBERED_SCORES:
            _INPUTS.clear()
        known = _INPUTS[id(model)] = (model, model.inputs)
    return known[1]


def _hashable(value: Any) -> Any:
    return tuple(sorted((k, _hashable(v)) for k, v in value.items())) if isinstance(value, dict) else (
        tuple(_hashable(v) for v in value) if isinstance(value, list) else (type(value), value))


def build_snapshot(
    store: RoutingReads,
    bundle: ir.Bundle,
    account: str,
    at: datetime,
    tasks: Mapping[str, TaskRecord] | None = None,
) -> Snapshot:
    """The account as it stood at `at`, read from the store."""
    fields, events = store.fields_and_event_stamps(account, at)
    return snapshot_of(bundle, account, at, fields, events, tasks)
