"""The router: the routing rules, which journeys a stored change starts or signals, and which time
triggers are due. It decides and records (scores, condition states, decisions); carrying its
intents out on Temporal is the journey starter's, and drivers run both through
`engine.routing.core.RoutingCore`. It reads and writes through `RoutingReads`: the store itself,
or the routing cache in front of it (`engine.routing.account_cache`).

`route(change)` handles one accepted change, in order:

1. reserved events: `task_completed` closes tasks with their outcome (and signals the journeys
   that wait on them), then triggers like any event (a later playbook may read the outcome);
   `unsubscribed` and `bounced` put an address on the suppression list and trigger nothing else;
2. scores: a change to an input of a score model recomputes it on the fields as of the change;
   a new value or band (or becoming scored or unscored) is recorded and logged as a `score` action;
3. triggers: event triggers whose event and `where` match, condition triggers on the edge
   (the stored state was false or unknown and the condition is now true; it re-arms only after
   it was false), and field-change triggers on a change of a known value (its previous value
   known: `engine.semantics.field_changes`), each through admission (audience, active journey,
   re-entry);
4. signals: a running journey hears the events it listens for and the fields it watches.

A change that is history (back-fill: `Change.is_history`) updates scores and condition states
but starts and signals nothing: each trigger it would have fired is counted in one `decided`
action (`what: backfill`) per account and playbook. A change of a date field whose trigger's
moment has already passed (a renewal date first known 45 days out, for a 90-days-before
trigger) enters the journey late, at the change, while the date itself is not past by more than
the trigger horizon; the journey then skips the steps past by more than the horizon.

A journey this router started is signalled by the changes that follow, even before the journey
has recorded its entry in the store (it may not have run yet).

`due(after, until)` runs the time triggers (date fields, schedules, trends) with instants in
(after, until]; `next_due(after)` says when to call it next. Both `route` and `due` are
idempotent: decisions and score actions are logged under deterministic keys, condition states
are stored, and a trigger whose journey already entered at that time starts nothing again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dsl import ir
from dsl.ir_text import describe_trigger
from engine.decision_text import backfill_detail, field_change_reason
from engine.records import Change, JourneySignal, RouteResult, Snapshot, StartJourney
from engine.routing.account_cache import AccountCache
from engine.routing.admission import Admission
from engine.routing.dependencies import playbook_inputs
from engine.routing.rescoring import record_scores
from engine.routing.schedule import TimeTriggers
from engine.semantics import calendar
from engine.semantics.evaluator import UNKNOWN, evaluate, truthy
from engine.semantics.expression_memo import ExpressionMemo
from engine.semantics.field_changes import change_fires
from engine.semantics.time_rules import DEFAULT_HORIZON, describe_lateness
from engine.store.reserved import task_outcome
from engine.store.snapshots import account_timezone, indexed_snapshot, snapshot_of

if TYPE_CHECKING:
    from engine.store.reads import RoutingReads

__all__ = ["RESERVED_EVENTS", "Router", "condition_key"]

RESERVED_EVENTS = frozenset({"task_completed", "unsubscribed", "bounced"})
# Reserved events that trigger nothing: a closed task may (`event task_completed where outcome == "churned"`).
SILENT_EVENTS = frozenset({"unsubscribed", "bounced"})
PLANS = 4_096  # (event, changed fields) pairs whose concerned playbooks are kept


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

    def __init__(self, store: RoutingReads, bundle: ir.Bundle, *, journeys_of_bundle: bool = False,
                 horizon: timedelta = DEFAULT_HORIZON, spread: timedelta | None = None) -> None:
        self.store = store
        self.horizon = horizon
        # Journeys this router started, by account: (playbook, entry time), until the store shows them.
        self._starting: dict[str, dict[str, datetime]] = {}
        self.bundle = bundle
        self.admission = Admission(store, bundle)
        self.time = TimeTriggers(store, bundle, spread=spread)
        self.playbooks = [playbook for _, playbook in sorted(bundle.playbooks.items())]
        self.inputs = {playbook.id: playbook_inputs(playbook, bundle) for playbook in self.playbooks}
        self.journeys_of_bundle = journeys_of_bundle
        self._heard_events = {event for inputs in self.inputs.values() for event in inputs.listened_events}
        self._watched_fields = {name for inputs in self.inputs.values() for name in inputs.watched_fields}
        self._plans: dict[tuple[str | None, frozenset[str], bool, bool],
                          tuple[list[ir.ScoreModel], list[ir.Playbook], list[ir.Playbook]]] = {}
        self.conditions = ExpressionMemo(bundle.scores)  # condition triggers' values by the inputs they read

    # ------------------------------------------------------------------ changes

    def route(self, change: Change) -> RouteResult:
        """The journeys one stored change starts or signals, with the scores and decisions it logged."""
        result = RouteResult()
        routes_event = change.event is not None and change.event not in SILENT_EVENTS
        if change.event in RESERVED_EVENTS:
            self._reserved(change, result)
        models, concerned, dated = self._concerned(change, routes_event)
        if models or concerned or dated:
            snap = self._snapshot(change.account, change.at)
            origin = f"change-{change.seq}"
            result.actions.extend(record_scores(self.store, snap, models, origin))
            for playbook in concerned:
                trigger = playbook.trigger
                if isinstance(trigger, ir.EventTrigger):
                    if trigger.where is None or truthy(
                        evaluate(trigger.where, snap, event_data=change.data, bundle_scores=self.bundle.scores)
                    ):
                        self._fire(playbook, snap, origin, result, change, event=change.event, data=change.data)
                elif isinstance(trigger, ir.ConditionTrigger) and self._edge(playbook, trigger, snap):
                    self._fire(playbook, snap, origin, result, change)
                elif isinstance(trigger, ir.ChangeTrigger) and change_fires(trigger, change.traits, change.previous):
                    reason = field_change_reason(describe_trigger(trigger), trigger.field,
                                                 change.previous[trigger.field], change.traits[trigger.field])
                    self._fire(playbook, snap, origin, result, change, reason=reason)
            for playbook in dated:
                self._late_date(playbook, snap, origin, result)
        if not change.is_history:
            self._signal(change, routes_event, result)
        return result

    def _fire(self, playbook: ir.Playbook, snap: Snapshot, origin: str, result: RouteResult, change: Change,
              event: str | None = None, data: dict[str, Any] | None = None, reason: str | None = None) -> None:
        """A trigger fired on a change: admit it, or count it when the change is history."""
        if not change.is_history:
            self._admit(playbook, snap, origin, result, event=event, data=data, reason=reason)
            return
        if playbook.audience is not None and not truthy(
                evaluate(playbook.audience, snap, event_data=data, bundle_scores=self.bundle.scores)):
            return  # it would not have admitted the account anyway
        action = self.store.count_history(
            account=change.account, playbook=playbook.id, at=change.at, seq=change.seq,
            trigger=describe_trigger(playbook.trigger), detail=backfill_detail(change.at, change.received_at))
        if action is not None:
            result.actions.append(action)

    def _concerned(self, change: Change, routes_event: bool
                   ) -> tuple[list[ir.ScoreModel], list[ir.Playbook], list[ir.Playbook]]:
        """The score models, the playbooks whose trigger the change may fire, and those whose date
        it moved: a function of its event and changed fields, worked out once for each such pair."""
        key = (change.event, frozenset(change.traits), routes_event, change.is_history)
        found = self._plans.get(key)
        if found is None:
            changed = set(change.traits)
            models = [model for _, model in sorted(self.bundle.scores.items()) if set(model.inputs) & changed]
            concerned = [pb for pb in self.playbooks if self._concerns(pb, change, routes_event)]
            dated = [] if change.is_history else [pb for pb in self.playbooks if self._date_moved(pb, change)]
            found = self._plans[key] = (models, concerned, dated)
            if len(self._plans) > PLANS:
                self._plans.clear()
        return found

    def evaluates_conditions(self, change: Change) -> bool:
        """Whether routing the change evaluates a condition trigger (reads its stored state)."""
        routes_event = change.event is not None and change.event not in SILENT_EVENTS
        _, concerned, _ = self._concerned(change, routes_event)
        return any(isinstance(playbook.trigger, ir.ConditionTrigger) for playbook in concerned)

    def _date_moved(self, playbook: ir.Playbook, change: Change) -> bool:
        trigger = playbook.trigger
        return isinstance(trigger, ir.DateTrigger) and trigger.field in change.traits

    def _late_date(self, playbook: ir.Playbook, snap: Snapshot, origin: str, result: RouteResult) -> None:
        """A date trigger whose moment passed before its date was known (or moved) enters late, at
        the change, while the date itself is not past by more than the horizon."""
        trigger = playbook.trigger
        assert isinstance(trigger, ir.DateTrigger)
        tz = account_timezone(snap.fields)
        value = snap.fields.get(trigger.field)
        instant = calendar.date_instant(value, trigger.offset_days, trigger.at, tz)
        anchor = calendar.date_instant(value, 0, trigger.at, tz)
        if instant is None or anchor is None or instant >= snap.at:
            return  # on time: the scheduler fires it at its moment
        if max(instant, anchor) < snap.at - self.horizon:
            return  # the date itself has passed
        reason = (f"{describe_trigger(trigger)} (late: its moment {instant.isoformat()} had passed by "
                  f"{describe_lateness(snap.at - instant)} when {trigger.field} became {value})")
        self._admit(playbook, snap, origin, result, reason=reason)

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
               event: str | None = None, data: dict[str, Any] | None = None, reason: str | None = None) -> None:
        admitted = self.admission.admit(playbook, snap, reason=reason or describe_trigger(playbook.trigger),
                                        origin=origin, event=event, data=data)
        if admitted.start is not None:
            result.intents.append(admitted.start)
            self._starting.setdefault(snap.account, {})[playbook.id] = admitted.start.entry_at
        if admitted.decision is not None and admitted.logged:
            result.actions.append(admitted.decision)

    def _snapshot(self, account: str, at: datetime) -> Snapshot:
        fields = self.store.fields_at(account, at)
        index = self.store.event_index(account, at) if isinstance(self.store, AccountCache) else None
        if index is not None:  # the history in memory: metric windows by bisection
            return indexed_snapshot(self.bundle, account, at, fields, *index)
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
                outcome=task_outcome(data),
            )]
            for task_id in dict.fromkeys([*change.closed_tasks, *closed]):
                record = self.store.task(task_id)
                for waiting in record.waiting_playbooks() if record else []:
                    if self.store.active_journey(waiting, change.account):
                        result.intents.append(JourneySignal(
                            playbook=waiting, account=change.account, at=change.at, event=change.event,
                            data=dict(data), task_done=task_id,
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
        if isinstance(trigger, ir.ChangeTrigger):
            return trigger.field in fields
        if not isinstance(trigger, ir.ConditionTrigger):
            return False
        reads = self.inputs[playbook.id].trigger
        touched_event = event is not None and event in reads.events
        return touched_event or bool(reads.fields & fields)

    def routes_nothing(self, event: str | None, fields: Iterable[str]) -> bool:
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
        value = self.conditions.evaluate(trigger.condition, snap)
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
        for playbook in self._running(change.account):
            inputs = self.inputs.get(playbook)
            hears = routes_event and (inputs is None or change.event in inputs.listened_events)
            fields = sorted(changed if inputs is None else changed & inputs.watched_fields)
            if hears or fields:
                result.intents.append(JourneySignal(
                    playbook=playbook, account=change.account, at=change.at,
                    event=change.event if hears else None, data=dict(change.data) if hears else {},
                    fields_changed=fields,
                ))

    def _running(self, account: str) -> list[str]:
        """The playbooks of the account's running journeys: those the store knows, and those this
        router started that have not recorded their entry yet."""
        running = [journey.playbook for journey in self.store.active_journeys(account)]
        starting = self._starting.get(account)
        if starting:
            for playbook, entry_at in list(starting.items()):
                last = self.store.last_entry(playbook, account)
                if last is not None and last >= entry_at:
                    del starting[playbook]  # recorded: the store's word counts (it may have ended)
                elif playbook not in running:
                    running.append(playbook)
            if not starting:
                del self._starting[account]
        return running

    def started(self, starts: Iterable[StartJourney]) -> None:
        """Starts another router asked for (routing shared by several processes): those journeys are
        running for this one too, until the store shows them, as its own starts are."""
        for start in starts:
            known = self._starting.setdefault(start.account, {})
            if known.get(start.playbook) is None or known[start.playbook] < start.entry_at:
                known[start.playbook] = start.entry_at

    def refused(self, starts: Iterable[StartJourney]) -> None:
        """Starts this router asked for that Temporal refused: those journeys are not running."""
        for start in starts:
            self._starting.get(start.account, {}).pop(start.playbook, None)

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
