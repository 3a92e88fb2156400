"""The accounts in a named audience: `audience enterprise_at_risk: segment == "enterprise" and health is red`.

An audience is a condition on an account; the accounts in it are those for which it holds on
their fields as they stand (scores computed from them, events read only when the condition
reads any: `seen`, a metric). An account the condition is unknown for (a missing field) is not in
it, as an `audience:` clause admits no one it cannot tell about.
"""

from __future__ import annotations

from datetime import datetime

from dsl import ir
from dsl.ir_expressions import parts
from engine.semantics.evaluator import evaluate, truthy
from engine.store import Store
from engine.store.snapshots import snapshot_of

__all__ = ["accounts_in_audience"]


def accounts_in_audience(store: Store, bundle: ir.Bundle, audience: str, at: datetime) -> list[str]:
    """The ids of the accounts in `audience` at `at`, sorted; `KeyError` for an audience the bundle lacks."""
    condition = bundle.audiences[audience]
    reads_events = any(isinstance(node, ir.Seen | ir.MetricRef) for node in parts(condition))
    members: list[str] = []
    for account, fields in sorted(store.all_fields().items()):
        events = store.event_stamps_until(account, at) if reads_events else []
        snap = snapshot_of(bundle, account, at, fields, events)
        if truthy(evaluate(condition, snap, bundle_scores=bundle.scores)):
            members.append(account)
    return members
