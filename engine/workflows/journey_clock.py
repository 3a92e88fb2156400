"""A journey's time: its logical clock, sleeping until a moment, reaching a step's moment.

A journey works in *logical* time, the engine's clock: `workflow.now()` minus the clock offset
(non-zero in simulations, or for processes run on a clock of their own). Every action is stamped
with the time the playbook says it happens (the entry, a step's target, a wait's deadline, the
event that ended a wait), never with the moment an activity happened to run; an effect run late
carries the real moment too (`sent_at`).

Exits and goals are taken in event-time order: one that happened at or before a moment the
journey waits for ends the journey before it acts there; one dated later waits its turn. Before
it waits, a journey logs its finished steps' decisions and reports its plan (`JourneyCalls.note`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

import dsl.ir as ir
from engine.semantics import calendar
from engine.semantics.time_rules import step_timing
from engine.workflows.decision_log import DecisionLog
from engine.workflows.event_judge import EventJudge
from engine.workflows.journey_calls import JourneyCalls
from engine.workflows.journey_state import JourneyState

__all__ = ["JourneyClock"]


class JourneyClock:
    def __init__(self, state: JourneyState, calls: JourneyCalls, log: DecisionLog, judge: EventJudge) -> None:
        self._state, self._calls, self._log, self._judge = state, calls, log, judge

    async def sleep_until(self, target: datetime, *, wake_on_change: bool = False, flush: bool = False) -> bool:
        """Sleep until logical `target`. False if woken early by a field change (when asked).
        With `flush`, every decision taken so far is logged first."""
        state = self._state
        while True:
            await self._judge.judge()  # the events an exit or goal names with a condition
            state.raise_if_ended(target)
            if state.changed_at is not None:
                changed_at, state.changed_at = state.changed_at, None
                state.last_change = max(state.last_change or changed_at, changed_at)
                state.snapshot = None
                await self._calls.snapshot(changed_at)  # exit and goal conditions, at the change's own time
                if wake_on_change:
                    return False
            remaining = (target - state.now()).total_seconds()
            if remaining <= 0:
                if flush:
                    await self._calls.flush()
                return True
            await self._calls.note(target, flush=flush)
            flush = False
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: state.ended_by(target) or state.changed_at is not None or bool(state.pending),
                    timeout=timedelta(seconds=remaining),
                )

    async def reach(self, step: ir.Step, cursor: datetime) -> datetime | None:
        """Wait for a step's moment; None when the step is skipped: its date is missing, or its
        moment had passed by more than the trigger horizon when the journey reached it (a late
        trigger, a date moved into the past, a back-log). A step reached late by less runs now,
        recorded as late with its planned moment, which stays the moment of its actions."""
        state = self._state
        if step.anchor == "entry":
            planned = calendar.entry_step_instant(state.inp.entry_at, step.offset, step.day_at, state.entry_timezone)
            if planned < cursor:
                self._log.decide(cursor, "late", step.name, {"planned": planned.isoformat()},
                                 outcome="after_previous")
            await self.sleep_until(planned)
            return self._on_time(step, max(planned, cursor))
        while True:
            # The fields as they are now, or as of the latest change heard (which a simulation's
            # timeline may deliver ahead of the server's clock).
            snap = await self._calls.snapshot(max(cursor, state.now(), state.last_change or cursor))
            value = snap.fields.get(step.anchor)
            target = calendar.date_instant(str(value), step.offset_days, step.at, snap.timezone) if value else None
            if target is None:
                self._log.decide(cursor, "step_skipped", step.name, {step.anchor: value}, outcome="missing",
                                 subject=step.anchor)
                return None
            if await self.sleep_until(target, wake_on_change=True):
                if self._on_time(step, target, {step.anchor: value}) is None:
                    return None
                return max(target, cursor)

    def _on_time(self, step: ir.Step, planned: datetime, reads: dict[str, Any] | None = None) -> datetime | None:
        """The one threshold (`engine.semantics.time_rules`): `planned` when on time or late by less than the
        horizon (recorded), None when late by more (the skip recorded)."""
        state = self._state
        now = state.now().replace(microsecond=0)
        timing = step_timing(planned, now, state.horizon)
        reads = {**(reads or {}), "planned": planned.isoformat(), "reached": now.isoformat()}
        if timing == "skipped":
            self._log.decide(planned, "step_skipped", step.name, reads, outcome="passed", horizon=state.horizon)
            return None
        if timing == "late":
            self._log.decide(planned, "late", step.name, reads, outcome="late")
        return planned
