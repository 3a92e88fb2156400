"""The router: which journeys a stored change starts or signals, and which time triggers are due.

`route(change)` handles one accepted change, in order:

1. reserved events: `task_completed` closes tasks (and signals the journeys that opened them),
   `unsubscribed` and `bounced` put an address on the suppression list; they trigger nothing else;
2. scores: a change to an input of a score model recomputes it on the fields as of the change;
   a new value or band (or becoming scored or unscored) is recorded and logged as a `score` action;
3. triggers: event triggers whose event and `where` match, and condition triggers on the edge
   (the stored state was false or unknown and the condition is now true; it re-arms only after
   it was false), each through admission (audience, active journey, re-entry);
4. signals: a running journey hears the events it listens for and the fields it watches.

`due(after, until)` runs the time triggers (date fields, schedules, trends) with instants in
(after, until]; `next_due(after)` says when to call it next. Both `route` and `due` are
idempotent: decisions and score actions are logged under deterministic keys, condition states
are stored, and a trigger whose journey already entered at that time starts nothing again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dsl import ir
from engine.admission import Admission
from engine.evaluator import UNKNOWN, evaluate, truthy
from engine.expression_text import describe_trigger
from engine.records import Change, JourneySignal, RouteResult, Snapshot
from engine.rescoring import record_scores
from engine.schedule import TimeTriggers
from engine.snapshots import snapshot_of
from engine.triggers import playbook_inputs

if TYPE_CHECKING:
    from engine.store import Store

__all__ = ["RESERVED_EVENTS", "Router", "condition_key"]

RESERVED_EVENTS = frozenset({"task_completed", "unsubscribed", "bounced"})


def condition_key(playbook: str) -> str:
    """The stored edge state of a playbook's condition trigger."""
    return f"trigger:{playbook}"


class Router:
    """Routes changes and time triggers of one bundle.

    `journeys_of_bundle`: the caller knows that every running journey belongs to one of the
    bundle's playbooks (a simulation that started them all). A change no playbook's journeys
    listen to then signals nothing without asking the store which journeys are running; without
    it, a journey of a playbook the bundle no longer has hears every change, so the store is asked.
    """

    def __init__(self, store: Store, bundle: ir.Bundle, *, journeys_of_bundle: bool = False) -> None:
        self.store = store
        self.bundle = bundle
        self.admission = Admission(store, bundle)
        self.time = TimeTriggers(store, bundle)
        self.playbooks = [playbook for _, playbook in sorted(bundle.playbooks.items())]
        self.inputs = {playbook.id: playbook_inputs(playbook, bundle) for playbook in self.playbooks}
        self.journeys_of_bundle = journeys_of_bundle
        self._heard_events = {event for inputs in self.inputs.values() for event in inputs.listened_events}
        self._watched_fields = {name for inputs in self.inputs.values() for name in inputs.watched_fields}

    # ------------------------------------------------------------------ changes

    def route(self, change: Change) -> RouteResult:
        """The journeys one stored change starts or signals, with the scores and decisions it logged."""
        result = RouteResult()
        routes_event = change.event is not None and change.event not in RESERVED_EVENTS
        if change.event in RESERVED_EVENTS:
            self._reserved(change, result)
        changed = set(change.traits)
        models = [model for _, model in sorted(self.bundle.scores.items()) if set(model.inputs) & changed]
        concerned = [pb for pb in self.playbooks if self._concerns(pb, change, routes_event)]
        if models or concerned:
            snap = self._snapshot(change.account, change.at)
            origin = f"change-{change.seq}"
            result.actions.extend(record_scores(self.store, snap, models, origin))
            for playbook in concerned:
                trigger = playbook.trigger
                if isinstance(trigger, ir.EventTrigger):
                    if trigger.where is None or truthy(
                        evaluate(trigger.where, snap, event_data=change.data, bundle_scores=self.bundle.scores)
                    ):
                        self._admit(playbook, snap, origin, result, event=change.event, data=change.data)
                elif isinstance(trigger, ir.ConditionTrigger) and self._edge(playbook, trigger, snap):
                    self._admit(playbook, snap, origin, result)
        self._signal(change, routes_event, result)
        return result

    def rescore(self, account: str, at: datetime, *, only: str | None = None) -> RouteResult:
        """Recompute the account's scores (or only one) at `at`, as `update score` does.

        Scores are computed from fields, so this records a score whose stored history is behind
        (and fires the band edges that follow); with the history up to date it changes nothing.
        """
        result = RouteResult()
        models = [model for name, model in sorted(self.bundle.scores.items()) if only in (None, name)]
        if not models:
            return result
        snap = self._snapshot(account, at)
        origin = f"rescore-{at.isoformat()}"
        result.actions.extend(record_scores(self.store, snap, models, origin))
        inputs = {name for model in models for name in model.inputs}
        for playbook in self.playbooks:
            trigger = playbook.trigger
            if (isinstance(trigger, ir.ConditionTrigger) and self.inputs[playbook.id].trigger.fields & inputs
                    and self._edge(playbook, trigger, snap)):
                self._admit(playbook, snap, origin, result)
        return result

    def _admit(self, playbook: ir.Playbook, snap: Snapshot, origin: str, result: RouteResult,
               event: str | None = None, data: dict[str, Any] | None = None) -> None:
        admitted = self.admission.admit(playbook, snap, reason=describe_trigger(playbook.trigger), origin=origin,
                                        event=event, data=data)
        if admitted.start is not None:
            result.intents.append(admitted.start)
        if admitted.decision is not None and admitted.logged:
            result.actions.append(admitted.decision)

    def _snapshot(self, account: str, at: datetime) -> Snapshot:
        fields = self.store.fields_at(account, at)
        events = self.store.event_stamps_until(account, at)
        return snapshot_of(self.bundle, account, at, fields, events)

    def _reserved(self, change: Change, result: RouteResult) -> None:
        data = change.data
        if change.event == "task_completed":
            task, playbook = data.get("task"), data.get("playbook")
            if not isinstance(task, str) and not isinstance(playbook, str):
                return  # closing every task of the account takes an explicit task or playbook
            # the store closes them when it stores the change; closing again is a no-op then
            closed = [record.id for record in self.store.complete_tasks(
                change.account, change.at,
                task_id=task if isinstance(task, str) else None,
                playbook=playbook if isinstance(playbook, str) else None,
            )]
            for task_id in dict.fromkeys([*change.closed_tasks, *closed]):
                record = self.store.task(task_id)
                if record and record.playbook and self.store.active_journey(record.playbook, change.account):
                    result.intents.append(JourneySignal(
                        playbook=record.playbook, account=change.account, at=change.at, event=change.event,
                        data=dict(data), task_done=record.id,
                    ))
        elif isinstance(data.get("email"), str):
            self.store.suppress(data["email"], str(change.event), change.at)

    def _concerns(self, playbook: ir.Playbook, change: Change, routes_event: bool) -> bool:
        """Whether the change may fire the playbook's trigger: its event, or a changed condition input."""
        return self._may_fire(playbook, change.event, set(change.traits), routes_event)

    def _may_fire(self, playbook: ir.Playbook, event: str | None, fields: set[str], routes_event: bool) -> bool:
        trigger = playbook.trigger
        if isinstance(trigger, ir.EventTrigger):
            return routes_event and trigger.event == event
        if not isinstance(trigger, ir.ConditionTrigger):
            return False
        reads = self.inputs[playbook.id].trigger
        touched_event = event is not None and event in reads.events
        return touched_event or bool(reads.fields & fields)

    def quiet(self, event: str | None, fields: Iterable[str]) -> bool:
        """Whether a change with this event and (at most) these changed fields can start or signal no
        journey, whatever the account's state: no trigger concerns it, it is no reserved event, and
        no journey listens to it (known only with `journeys_of_bundle`)."""
        if not self.journeys_of_bundle or event in RESERVED_EVENTS:
            return False
        changed = set(fields)
        routes_event = event is not None
        if changed & self._watched_fields or (routes_event and event in self._heard_events):
            return False
        return not any(self._may_fire(playbook, event, changed, routes_event) for playbook in self.playbooks)

    def _edge(self, playbook: ir.Playbook, trigger: ir.ConditionTrigger, snap: Snapshot) -> bool:
        """Evaluate a condition trigger, store its state, and say whether it just became true."""
        key = condition_key(playbook.id)
        before = self.store.get_condition(snap.account, key)
        value = evaluate(trigger.condition, snap, bundle_scores=self.bundle.scores)
        if value is UNKNOWN:
            state = True if before is True else None  # only `false` re-arms the edge
        else:
            state = truthy(value)
        if state != before:
            self.store.set_condition(snap.account, key, state, snap.at)
        if state is True and before is True:
            # Routing this same change again (its first routing stopped before the journey
            # started): the edge it set is still its own, so it fires again; admission and the
            # journey's workflow id keep that from starting a second journey.
            return self.store.condition_since(snap.account, key) == snap.at
        return state is True and before is not True

    def _signal(self, change: Change, routes_event: bool, result: RouteResult) -> None:
        changed = set(change.traits)
        if not changed and not routes_event:
            return
        if self.journeys_of_bundle and not (changed & self._watched_fields) and not (
                routes_event and change.event in self._heard_events):
            return  # no journey of the bundle's playbooks listens to it
        for journey in self.store.active_journeys(change.account):
            inputs = self.inputs.get(journey.playbook)
            hears = routes_event and (inputs is None or change.event in inputs.listened_events)
            fields = sorted(changed if inputs is None else changed & inputs.watched_fields)
            if hears or fields:
                result.intents.append(JourneySignal(
                    playbook=journey.playbook, account=change.account, at=change.at,
                    event=change.event if hears else None, data=dict(change.data) if hears else {},
                    fields_changed=fields,
                ))

    # ------------------------------------------------------------------ time

    def due(self, after: datetime, until: datetime, accounts: Iterable[str] | None = None) -> RouteResult:
        """Start the journeys of time triggers whose instants fall in (after, until]
        (for `accounts` only, when given: those a `TimeIndex` says are due)."""
        result = RouteResult()
        for instant, account, playbook in self.time.firings(after, until, accounts):
            snap = self._snapshot(account, instant)
            self._admit(playbook, snap, instant.isoformat(), result)
        return result

    def next_due(self, after: datetime) -> datetime | None:
        """The earliest instant strictly after `after` at which `due` has something to evaluate."""
        return self.time.next_due(after)
