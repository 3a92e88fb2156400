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
from engine.records import Snapshot, TaskRecord
from engine.semantics import calendar, metrics, scores

if TYPE_CHECKING:
    from engine.store.reads import RoutingReads

__all__ = ["account_timezone", "build_snapshot", "snapshot_of"]


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
        scores={name: scores.compute(model, fields) for name, model in bundle.scores.items()},
        metrics=metrics.metric_values(bundle.model.metrics, stamps, at, tz),
        events=stamps,
        timezone=tz,
        tasks=dict(tasks or {}),
    )


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
