"""A journey's success plans (`start plan onboarding`): each milestone watched on its own while the
journey goes on.

A milestone is **reached** by its event (one heard from the plan's start, meeting its `where`)
or when its condition holds (checked at the start and at each change the journey is told of,
never polled); it is **late** once its due time (`within` from the start, in the account's time)
passes unreached, and a late one reached afterwards is reached late. The plan's status follows
by rule, recomputed at each of these moments:

- `complete`: every milestone reached;
- `on_track`: none late;
- `behind`: one late (not reached);
- `stuck`: two or more late.

The plan closes when every milestone is reached or at its last milestone's due time; the ones
not reached then are missed. Each step is logged (`plan_started`, `milestone_reached`,
`milestone_late`, `plan_status_changed`, `plan_ended`); a milestone reached and a status change
are also events (`milestone_reached`, `plan_status_changed`) that trigger playbooks. An exit or
goal of the journey stops the watching.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any, Literal

from temporalio import workflow

import dsl.ir as ir
from engine.semantics import calendar, evaluator
from engine.workflows.effects import PLAN_PROGRESS
from engine.workflows.escalations import Watched
from engine.workflows.event_judge import EventJudge
from engine.workflows.journey_calls import JourneyCalls
from engine.workflows.journey_state import JourneyState
from engine.workflows.payloads import PlanParams

__all__ = ["Plans", "plan_status"]

PlanStep = Literal["started", "reached", "late", "status", "ended"]


def plan_status(milestones: int, reached: int, late_open: int) -> str:
    """The plan's status by rule: complete, on_track, behind (one late) or stuck (two or more)."""
    if reached == milestones:
        return "complete"
    return "on_track" if late_open == 0 else "behind" if late_open == 1 else "stuck"


class _Progress:
    """One plan as it stands: when each milestone is due, reached, and which are late."""

    def __init__(self, plan: ir.SuccessPlan, due: dict[str, datetime]) -> None:
        self.plan, self.due = plan, due
        self.reached: dict[str, datetime] = {}
        self.late: set[str] = set()
        self.status = "on_track"

    def status_now(self) -> str:
        return plan_status(len(self.plan.milestones), len(self.reached), len(self.late - set(self.reached)))

    def next_due(self) -> datetime:
        """The next moment a milestone falls late, or the plan closes."""
        waiting = [at for name, at in self.due.items() if name not in self.reached and name not in self.late]
        return min(waiting) if waiting else max(self.due.values())


class Plans:
    def __init__(self, state: JourneyState, calls: JourneyCalls, judge: EventJudge) -> None:
        self._state, self._calls, self._judge = state, calls, judge
        self._running: list[asyncio.Task[None]] = []
        self._last_at: datetime | None = None
        self._by_ending = False
        self._number = 0

    @property
    def idle(self) -> bool:
        """No plan was ever started: nothing keeps the journey after its last statement."""
        return not self._running

    def start(self, plan: ir.SuccessPlan, path: str, at: datetime) -> None:
        self._state.plans_open += 1
        self._running.append(asyncio.create_task(self._run(plan, path, at)))

    async def finish(self) -> Watched | None:
        """Wait until every plan closed or the journey ended; None when no plan was started."""
        if not self._running:
            return None
        await asyncio.gather(*self._running)
        return Watched(at=self._last_at or self._state.inp.entry_at, by_ending=self._by_ending)

    async def _record(self, path: str, plan: str, at: datetime, what: PlanStep, **data: Any) -> None:
        self._number += 1
        self._last_at = max(self._last_at or at, at)
        await self._calls.call(PLAN_PROGRESS, PlanParams(
            **self._calls.base(f"{path}/plan{self._number}", at), plan=plan, what=what, data=data,
            clock_offset_seconds=self._state.inp.clock_offset_seconds))

    async def _run(self, plan: ir.SuccessPlan, path: str, start: datetime) -> None:
        state = self._state
        try:
            timezone = (await self._calls.snapshot(start)).timezone
            progress = _Progress(plan, {m.name: calendar.add_duration(start, m.within, timezone)
                                        for m in plan.milestones})
            await self._record(path, plan.name, start, "started", title=plan.title, milestones=[
                {"name": name, "due": due.isoformat()} for name, due in progress.due.items()])
            await self._watch(progress, path, start)
        finally:
            state.plans_open -= 1

    async def _watch(self, progress: _Progress, path: str, start: datetime) -> None:
        state, plan = self._state, progress.plan
        heard = len([signal for signal in state.events if signal.at < start])
        moments = [start]
        close_at = max(progress.due.values())
        while True:
            if state.pending:
                await self._judge.judge()
            found: list[tuple[datetime, ir.Milestone]] = []
            while heard < len(state.events):
                signal = state.events[heard]
                heard += 1
                for milestone in plan.milestones:
                    if (milestone.event == signal.event and signal.at >= start
                            and milestone.name not in progress.reached
                            and all(m.name != milestone.name for _, m in found)
                            and await self._judge.holds(milestone.where, signal)):
                        found.append((signal.at, milestone))
            moments.extend(state.plan_changes)
            state.plan_changes.clear()
            for moment in sorted(set(moments)):
                found += [(moment, milestone) for milestone in await self._holding(progress, moment, found)]
            moments = []
            for at, milestone in sorted(found, key=lambda hit: hit[0]):
                if state.ended_by(at):
                    break
                await self._late_until(progress, path, at)
                progress.reached[milestone.name] = at
                late = at > progress.due[milestone.name]
                await self._record(path, plan.name, at, "reached", milestone=milestone.name, late=late,
                                   due=progress.due[milestone.name].isoformat())
                await self._restatus(progress, path, at, milestone.name)
            if len(progress.reached) == len(plan.milestones):
                await self._record(path, plan.name, self._last_at or start, "ended", status="complete", missed=[])
                return
            deadline = progress.next_due()
            if state.ended_by(deadline):
                self._by_ending = True
                return
            remaining = (deadline - state.now()).total_seconds()
            if remaining <= 0:
                await self._late_until(progress, path, deadline, inclusive=True)
                if deadline >= close_at:
                    missed = [m.name for m in plan.milestones if m.name not in progress.reached]
                    await self._record(path, plan.name, close_at, "ended", status=progress.status, missed=missed)
                    return
                continue
            await self._calls.note(deadline)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda seen=heard, at=deadline: state.ended_by(at) or len(state.events) > seen  # type: ignore[misc]
                    or bool(state.pending) or bool(state.plan_changes), timeout=timedelta(seconds=remaining))

    async def _holding(self, progress: _Progress, moment: datetime,
                       found: list[tuple[datetime, ir.Milestone]]) -> list[ir.Milestone]:
        """The condition milestones, not reached yet, that hold on the account at `moment`."""
        open_ = [m for m in progress.plan.milestones if m.condition is not None and m.name not in progress.reached
                 and all(hit.name != m.name for _, hit in found)]
        if not open_:
            return []
        self._state.snapshot = None  # what changed at this moment is read afresh
        snap = await self._calls.snapshot(moment)
        return [m for m in open_ if m.condition is not None and evaluator.truthy(
            evaluator.evaluate(m.condition, snap, entered_at=self._state.inp.entry_at))]

    async def _late_until(self, progress: _Progress, path: str, moment: datetime, *, inclusive: bool = False) -> None:
        """Mark late, in order, every milestone due before `moment` (or at it, `inclusive`: its due
        time has come) and not reached; the status follows each."""
        for name, due in sorted(progress.due.items(), key=lambda item: item[1]):
            if (due < moment or (inclusive and due == moment)) and name not in progress.reached \
                    and name not in progress.late:
                progress.late.add(name)
                await self._record(path, progress.plan.name, due, "late", milestone=name, due=due.isoformat())
                await self._restatus(progress, path, due, name)

    async def _restatus(self, progress: _Progress, path: str, at: datetime, milestone: str) -> None:
        status = progress.status_now()
        if status != progress.status:
            previous, progress.status = progress.status, status
            await self._record(path, progress.plan.name, at, "status", status=status, previous=previous,
                               milestone=milestone)
