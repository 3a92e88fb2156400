"""The timeline workflow: drives a simulation through its own clock, on the time-skipping server.

`playbook simulate` awaits this one workflow; while it waits, the test server skips time. The
timeline sleeps to the next moment that has something to do — the next event of the timeline or
the next instant a date, schedule or trend trigger is due — and hands that moment to one
activity, `timeline.advance`, which stores and routes the events, fires what is due, starts or
signals journeys, and says what comes next. When no journey acts and nothing is due in between,
that activity takes several moments of the timeline in one go (their effects are read "as of"
their own times, so nothing changes but the speed).

The first workflow task fixes the clock offset (server time minus timeline time); every journey
started from here gets it, so each works in the timeline's own time. The workflow continues as
new every `STEPS_PER_RUN` steps to keep its history short.

Also here: the parameters of the time-trigger activities the scheduler workflow uses.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.common import RetryPolicy

__all__ = ["AdvanceParams", "DueParams", "NextDue", "NextDueParams", "TimelineInput", "TimelineNext",
           "TimelineWorkflow"]

ACTIVITY_TIMEOUT = timedelta(minutes=10)
RETRY = RetryPolicy(maximum_attempts=3)
STEPS_PER_RUN = 500


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimelineInput(_Message):
    start: datetime
    end: datetime
    clock_offset_seconds: float | None = None  # fixed by the first run; carried over when continuing
    cursor: datetime | None = None  # the moment reached (when continuing as new)


class AdvanceParams(_Message):
    moment: datetime
    end: datetime
    clock_offset_seconds: float


class TimelineNext(_Message):
    """What the timeline should wake up for next (None: nothing more)."""

    event_at: datetime | None = None
    due_at: datetime | None = None


class DueParams(_Message):
    after: datetime
    until: datetime
    clock_offset_seconds: float


class NextDueParams(_Message):
    after: datetime


class NextDue(_Message):
    at: datetime | None = None


@workflow.defn(name="timeline")
class TimelineWorkflow:
    @workflow.run
    async def run(self, inp: TimelineInput) -> int:
        if inp.clock_offset_seconds is None:
            offset = workflow.now() - inp.start
        else:
            offset = timedelta(seconds=inp.clock_offset_seconds)
        seconds = offset.total_seconds()
        cursor = inp.cursor or inp.start - timedelta(microseconds=1)
        upcoming = await self._advance(cursor, inp.end, seconds)
        for _ in range(STEPS_PER_RUN):
            wanted = [t for t in (upcoming.event_at, upcoming.due_at) if t is not None and t <= inp.end]
            if not wanted:
                await self._sleep_until(inp.end, offset)
                return 0
            cursor = min(wanted)
            await self._sleep_until(cursor, offset)
            upcoming = await self._advance(cursor, inp.end, seconds)
        workflow.continue_as_new(TimelineInput(start=inp.start, end=inp.end, clock_offset_seconds=seconds,
                                               cursor=cursor))

    @staticmethod
    async def _advance(moment: datetime, end: datetime, offset_seconds: float) -> TimelineNext:
        return await workflow.execute_activity(
            "timeline.advance", AdvanceParams(moment=moment, end=end, clock_offset_seconds=offset_seconds),
            result_type=TimelineNext, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)

    @staticmethod
    async def _sleep_until(target: datetime, offset: timedelta) -> None:
        remaining = (target + offset - workflow.now()).total_seconds()
        if remaining > 0:
            await workflow.sleep(timedelta(seconds=remaining))
