"""The event that started a journey, for the steps whose message does not carry it.

A task title or a `do` parameter may read `event.data` like a message template does
(`create task "Low NPS: {{ event.data.score }}" for csm`). A send's params carry the journey's
event; a task's and a plugin call's do not, so their activities find it in the store: the
trigger's event stored at the moment the journey entered (the router starts a journey at its
event's time), the last one there whose `where` holds when several share that moment.
"""

from __future__ import annotations

from typing import Any

from activities.context import ActivityContext
from dsl import ir
from engine.semantics.evaluator import evaluate, truthy
from engine.store.snapshots import build_snapshot

__all__ = ["TriggerEvent", "trigger_event"]

TriggerEvent = tuple[str | None, dict[str, Any]]  # the event's name (None: no event) and its payload


def trigger_event(ctx: ActivityContext, playbook: str, account: str, workflow_id: str) -> TriggerEvent:
    """The name and payload of the event that started this journey; `(None, {})` when an event
    did not start it (a condition, a date, a schedule) or it is not stored."""
    spec = ctx.bundle.playbooks.get(playbook)
    if spec is None or not isinstance(spec.trigger, ir.EventTrigger):
        return None, {}
    trigger = spec.trigger
    entries = [row for row in ctx.store.journeys(account=account, playbook=playbook) if row.workflow_id == workflow_id]
    if not entries:
        return None, {}
    entered_at = entries[-1].entered_at
    candidates = [data for name, at, data in ctx.store.events_until(account, entered_at, names={trigger.event})
                  if at == entered_at]
    if not candidates:
        return None, {}
    if trigger.where is not None and len(candidates) > 1:
        snap = build_snapshot(ctx.store, ctx.bundle, account, entered_at)
        matching = [data for data in candidates
                    if truthy(evaluate(trigger.where, snap, event_data=data, bundle_scores=ctx.bundle.scores))]
        candidates = matching or candidates
    return trigger.event, candidates[-1]
