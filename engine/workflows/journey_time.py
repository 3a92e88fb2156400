"""A journey's time: its logical clock, waiting for a step's moment, `wait` and `wait until`.

A journey works in *logical* time, the engine's clock: `workflow.now()` minus the clock offset
(non-zero in simulations, or for processes run on a clock of their own). Every action is stamped
with the time the playbook says it happens (the entry, a step's target, a wait's deadline, the
event that ended a wait), never with the moment an activity happened to run; an effect run late
carries the real moment too (`sent_at`).

Exits and goals are taken in event-time order: one that happened at or before a moment the
journey waits for ends the journey before it acts there; one dated later waits its turn.

Before it waits, a journey reports when it next acts (its agenda) to a simulation's timeline,
which then knows how far it may take events in one go without overtaking the journey.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

import dsl.ir as ir
from engine import calendar
from engine.time_rules import describe_lateness, step_timing
from engine.workflows.journey_state import JourneyState

__all__ = ["JourneyClock"]


class JourneyClock(JourneyState):
    async def _sleep_until(self, target: datetime, *, wake_on_change: bool = False, flush: bool = False) -> bool:
        """Sleep until logical `target`. False if woken early by a field change (when asked).
        With `flush`, every decision taken so far is logged first."""
        while True:
            self._raise_if_ended(target)
            if self._changed_at is not None:
                changed_at, self._changed_at = self._changed_at, None
                self._last_change = max(self._last_change or changed_at, changed_at)
                self._snapshot_cache = None
                await self._snapshot(changed_at)  # exit and goal conditions, at the change's own time
                if wake_on_change:
                    return False
            remaining = (target - self._now()).total_seconds()
            if remaining <= 0:
                if flush:
                    await self._flush()
                return True
            await self._note(target, flush=flush)
            flush = False
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._ended_by(target) or self._changed_at is not None,
                    timeout=timedelta(seconds=remaining),
                )

    async def _reach(self, step: ir.Step, cursor: datetime) -> datetime | None:
        """Wait for a step's moment; None when the step is skipped: its date is missing, or its
        moment had passed by more than the trigger horizon when the journey reached it (a late
        trigger, a date moved into the past, a back-log). A step reached late by less runs now,
        recorded as late with its planned moment, which stays the moment of its actions."""
        if step.anchor == "entry":
            planned = self._inp.entry_at + timedelta(seconds=step.offset.seconds())
            if planned < cursor:
                self._decide(cursor, "late", f"{step.name}: runs at {cursor.isoformat()}, after the statements "
                             f"before it (written for {planned.isoformat()})", step.name,
                             {"planned": planned.isoformat()})
            await self._sleep_until(planned)
            return self._on_time(step, max(planned, cursor))
        while True:
            # The fields as they are now, or as of the latest change heard (which a simulation's
            # timeline may deliver ahead of the server's clock).
            snap = await self._snapshot(max(cursor, self._now(), self._last_change or cursor))
            value = snap.fields.get(step.anchor)
            target = calendar.date_instant(str(value), step.offset_days, step.at, snap.timezone) if value else None
            if target is None:
                self._decide(cursor, "step_skipped", f"{step.name}: {step.anchor} is missing", step.name,
                             {step.anchor: value})
                return None
            if await self._sleep_until(target, wake_on_change=True):
                if self._on_time(step, target, {step.anchor: value}) is None:
                    return None
                return max(target, cursor)

    def _on_time(self, step: ir.Step, planned: datetime, reads: dict[str, Any] | None = None) -> datetime | None:
        """The one threshold (`engine.time_rules`): `planned` when on time or late by less than the
        horizon (recorded), None when late by more (the skip recorded)."""
        now = self._now().replace(microsecond=0)
        timing = step_timing(planned, now, self._horizon)
        reads = {**(reads or {}), "planned": planned.isoformat(), "reached": now.isoformat()}
        if timing == "skipped":
            self._decide(planned, "step_skipped", f"{step.name}: its moment {planned.isoformat()} had passed by "
                         f"{describe_lateness(now - planned)} when the journey reached it (more than the trigger "
                         f"horizon, {describe_lateness(self._horizon)})", step.name, reads)
            return None
        if timing == "late":
            self._decide(planned, "late", f"{step.name}: runs {describe_lateness(now - planned)} late, at "
                         f"{now.isoformat()} (planned {planned.isoformat()})", step.name, reads)
        return planned

    async def _wait(self, st: ir.Wait, cursor: datetime) -> datetime:
        snap = await self._snapshot(cursor)
        target = calendar.add_duration(cursor, st.duration, snap.timezone)
        await self._sleep_until(target)
        return target

    async def _wait_until(self, st: ir.WaitUntil, path: str, cursor: datetime) -> datetime:
        snap = await self._snapshot(cursor)
        deadline = calendar.add_duration(cursor, st.timeout, snap.timezone)
        task = self._tasks[-1] if self._tasks else None
        start = cursor

        def matched() -> datetime | None:
            for signal in self._events:
                if signal.event in st.events and signal.at >= start:
                    return signal.at
            return None

        if st.task_done and task is not None and self._task_state(snap) == "done":
            return cursor
        while True:
            hit = matched()
            self._raise_if_ended(hit if hit is not None else deadline)
            if st.task_done and task is not None and task in self._done_tasks:
                fresh = await self._snapshot(max(start, min(self._now(), deadline)), refresh=True)
                done = fresh.tasks.get(task)
                at = done.completed_at if done and done.completed_at else max(start, min(self._now(), deadline))
                self._decide(at, "wait_ended", "task done", path, {"task": task})
                return at
            if hit is not None:
                self._decide(hit, "wait_ended", "event arrived", path, {})
                return hit
            remaining = (deadline - self._now()).total_seconds()
            if remaining <= 0:
                self._decide(deadline, "wait_ended", f"no {' or '.join(st.events) or 'task done'} within "
                             f"{st.timeout.amount} {st.timeout.unit}", path, {})
                return deadline
            await self._note(deadline)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._ended_by(deadline) or matched() is not None
                    or (task is not None and task in self._done_tasks),
                    timeout=timedelta(seconds=remaining),
                )
