"""A journey's `wait until`: for an event, its task, a condition, or the time limit, whichever comes first.

- `event X`: an event heard from the moment the wait starts; `event X since entry` counts from the
  journey's entry, so one that came before the wait ends it at once (at the wait's start);
  `event X where …` counts only an event that meets its condition (`EventJudge.holds`).
- `task done`: the journey's last task closed.
- a condition (`health is green`, `feature_adoption >= 40%`): checked when the wait starts and
  again at the moment of each change the journey is told of (a field, hence a score, an event,
  a task), with the account as it stood then. Nothing polls: a condition that turns true only as
  time passes is seen at the next change, or not before the time limit.
- the time limit: the wait ends there, recorded as such.

The wait ends at the moment of what ended it, and logs the decision (`wait_ended`) with what it
was: `event`, `task`, `condition` or `timeout`.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from temporalio import workflow

import dsl.ir as ir
from dsl.ir_text import describe, describe_wait_for
from engine.records import JourneySignal
from engine.semantics import calendar, evaluator
from engine.workflows.decision_log import DecisionLog
from engine.workflows.event_judge import EventJudge
from engine.workflows.journey_calls import JourneyCalls
from engine.workflows.journey_state import JourneyState

__all__ = ["Waits"]


class Waits:
    def __init__(self, state: JourneyState, calls: JourneyCalls, log: DecisionLog, judge: EventJudge) -> None:
        self._state, self._calls, self._log, self._judge = state, calls, log, judge

    async def run(self, st: ir.WaitUntil, path: str, cursor: datetime) -> datetime:
        state = self._state
        snap = await self._calls.snapshot(cursor)
        deadline = calendar.add_duration(cursor, st.timeout, snap.timezone)
        task = state.tasks[-1] if state.tasks else None
        if st.task_done and task is not None and state.task_state(snap) == "done":
            return cursor
        if st.condition is None:
            return await self._until(st, path, cursor, deadline, task)
        state.watching, state.changes = True, []
        try:
            return await self._until(st, path, cursor, deadline, task)
        finally:
            state.watching, state.changes = False, []

    async def _until(self, st: ir.WaitUntil, path: str, start: datetime, deadline: datetime,
                     task: str | None) -> datetime:
        state = self._state
        plain = not (st.where or st.since_entry or st.condition is not None)
        waited_for = (" or ".join(st.events) or "task done") if plain else describe_wait_for(st)
        heard = 0  # the events of `state.events` looked at so far
        hit: JourneySignal | None = None
        became: datetime | None = None  # the moment the condition was seen to hold
        moments: list[datetime] = [start] if st.condition is not None else []
        while True:
            if state.pending:
                await self._judge.judge()
            while hit is None and heard < len(state.events):
                signal = state.events[heard]
                heard += 1
                if await self._counts(st, signal, start):
                    hit = signal
            if st.condition is not None and became is None:
                moments.extend(state.changes)
                state.changes.clear()
                became = await self._condition_at(st.condition, sorted(moments), start, deadline)
                moments = []
            hit_at = max(hit.at, start) if hit is not None else None
            ends = [moment for moment in (hit_at, became) if moment is not None]
            state.raise_if_ended(min(ends) if ends else deadline)
            if st.task_done and task is not None and task in state.done_tasks:
                fresh = await self._calls.snapshot(max(start, min(state.now(), deadline)), refresh=True)
                done = fresh.tasks.get(task)
                at = done.completed_at if done and done.completed_at else max(start, min(state.now(), deadline))
                self._log.decide(at, "wait_ended", path, {"task": task}, outcome="task", subject=waited_for)
                return at
            if hit is not None and hit_at is not None and (became is None or hit_at <= became):
                reads = {"event": hit.event, "at": hit.at.isoformat()} if st.where or st.since_entry else {}
                self._log.decide(hit_at, "wait_ended", path, reads, outcome="event", subject=waited_for)
                return hit_at
            if became is not None and st.condition is not None:
                self._log.decide(became, "wait_ended", path, {"condition": describe(st.condition)},
                                 outcome="condition", subject=waited_for)
                return became
            remaining = (deadline - state.now()).total_seconds()
            if remaining <= 0:
                self._log.decide(deadline, "wait_ended", path, {}, outcome="timeout", subject=waited_for,
                                 until=deadline, within=f"{st.timeout.amount} {st.timeout.unit}")
                return deadline
            await self._calls.note(deadline)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda seen=heard: state.ended_by(deadline) or len(state.events) > seen  # type: ignore[misc]
                    or (task is not None and task in state.done_tasks)
                    or bool(state.pending) or bool(state.changes),
                    timeout=timedelta(seconds=remaining),
                )

    async def _counts(self, st: ir.WaitUntil, signal: JourneySignal, start: datetime) -> bool:
        """Whether a heard event ends the wait: one it waits for, in time, meeting its condition."""
        event = signal.event
        if event not in st.events:
            return False
        since = self._state.inp.entry_at if event in st.since_entry else start
        if signal.at < since or (event in st.since_entry and signal.at == since):
            return False  # before the wait (or, since entry, the event that started the journey)
        return await self._judge.holds(st.where.get(str(event)), signal)

    async def _condition_at(self, condition: ir.Expr, moments: list[datetime], start: datetime,
                            deadline: datetime) -> datetime | None:
        """The first of `moments` (in order, none before the wait) at which the condition holds."""
        state = self._state
        for moment in dict.fromkeys(max(moment, start) for moment in moments):
            if moment > deadline:
                return None
            state.snapshot = None  # what changed at this moment is read afresh
            snap = await self._calls.snapshot(moment)
            value = evaluator.evaluate(condition, snap, task_state=state.task_state(snap),
                                       entered_at=state.inp.entry_at)
            if evaluator.truthy(value):
                return moment
        return None
