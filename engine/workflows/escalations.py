"""A journey's work items with an SLA (`escalate to manager after 1 business day`), each watched
on its own while the journey goes on.

At the item's due time, unless it was done by then, it is recorded overdue; `after` later (in the
account's time: business days skip weekends), still open, it is escalated. A snooze found at
either moment moves the clock to the snooze's end. The journey waits on the item being done (the
router's `task_done` signal), never polls; it stays running until each watched item is done or
escalated, and stops watching when it exits or reaches its goal.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow

import dsl.ir as ir
from engine.semantics import calendar
from engine.workflows.effects import TASK_ESCALATE
from engine.workflows.event_judge import EventJudge
from engine.workflows.journey_calls import JourneyCalls
from engine.workflows.journey_state import JourneyState
from engine.workflows.payloads import EscalateParams

__all__ = ["Escalations", "Watched"]


@dataclass(frozen=True)
class Watched:
    """How the watching of the journey's items ended: the last moment it acted, and whether an
    exit or goal stopped it."""

    at: datetime
    by_ending: bool


class Escalations:
    def __init__(self, state: JourneyState, calls: JourneyCalls, judge: EventJudge) -> None:
        self._state, self._calls, self._judge = state, calls, judge
        self._watching: list[asyncio.Task[None]] = []
        self._last_at: datetime | None = None
        self._by_ending = False

    @property
    def idle(self) -> bool:
        """No work item was ever watched: nothing keeps the journey after its last statement."""
        return not self._watching

    def watch(self, task: str, escalation: ir.Escalation, path: str, due: datetime, timezone: str) -> None:
        """Watch `task` (opened or joined by statement `path`) from its due time on."""
        self._watching.append(asyncio.create_task(self._watch(task, escalation, path, due, timezone)))

    async def finish(self) -> Watched | None:
        """Wait until every watched item is done, escalated, or the journey ended; None when the
        journey watched none."""
        if not self._watching:
            return None
        await asyncio.gather(*self._watching)
        return Watched(at=self._last_at or self._state.inp.entry_at, by_ending=self._by_ending)

    def _acted(self, at: datetime) -> None:
        self._last_at = max(self._last_at or at, at)

    async def _watch(self, task: str, escalation: ir.Escalation, path: str, moment: datetime, timezone: str) -> None:
        state = self._state
        stage: str = "overdue"
        for number in range(1_000):  # each snooze is one more round; a bound on a loop driven from outside
            state.sla_moments[path] = moment
            remaining = (moment - state.now()).total_seconds()
            if remaining > 0:
                await self._calls.note(moment)
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda at=moment: state.done_at.get(task, at + timedelta(seconds=1)) <= at  # type: ignore[misc]
                        or state.ended_by(at), timeout=timedelta(seconds=remaining))
            if self._judge.unjudged_by(moment):
                await self._judge.judge()  # an exit or goal with a condition, heard before this moment
            done_at = state.done_at.get(task)
            if done_at is not None and done_at <= moment:
                self._acted(done_at)
                break
            if state.ended_by(moment):
                self._by_ending = True
                break
            result = await self._calls.call(TASK_ESCALATE, EscalateParams(
                **self._calls.base(f"{path}/sla{number}", moment), task=task,
                stage="overdue" if stage == "overdue" else "escalate", to=list(escalation.to)))
            outcome = result.get("state") if isinstance(result, dict) else None
            if outcome == "done":  # closed by then, its signal not heard yet: done when it was closed
                self._acted(datetime.fromisoformat(str(result["at"])))
                break
            self._acted(moment)
            if outcome == "snoozed":
                moment, stage = datetime.fromisoformat(str(result["until"])), "overdue"
            elif outcome == "overdue":
                moment, stage = calendar.add_duration(moment, escalation.after, timezone), "escalate"
            else:  # escalated, gone, or the call failed for good (recorded)
                break
        state.sla_moments.pop(path, None)
