"""The timeline workflow: drives a simulation through its own clock, on the time-skipping server.

`playbook simulate` awaits this one workflow; while it waits, the test server skips time. The
timeline sleeps to each moment that has something to do — the next event of the timeline, or the
next instant a date, schedule or trend trigger is due (the router says when) — and hands that
moment to an activity, which stores and routes the events and starts or signals journeys.

The first workflow task fixes the clock offset (server time minus timeline time); every journey
started from here gets it, so each works in the timeline's own time.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.common import RetryPolicy

__all__ = ["DueParams", "IngestAtParams", "NextDue", "NextDueParams", "TimelineInput", "TimelineWorkflow"]

ACTIVITY_TIMEOUT = timedelta(minutes=10)
RETRY = RetryPolicy(maximum_attempts=3)


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimelineInput(_Message):
    start: datetime
    end: datetime
    event_times: list[datetime]  # distinct, sorted: the events themselves stay with the activities


class IngestAtParams(_Message):
    at: datetime
    clock_offset_seconds: float


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
        offset = workflow.now() - inp.start
        seconds = offset.total_seconds()
        pending = [t for t in inp.event_times if t <= inp.end]
        cursor = inp.start - timedelta(microseconds=1)
        steps = 0
        while True:
            next_due = (await workflow.execute_activity(
                "triggers.next_due", NextDueParams(after=cursor), result_type=NextDue,
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)).at
            candidates = [t for t in (pending[0] if pending else None, next_due) if t is not None and t <= inp.end]
            if not candidates:
                break
            moment = min(candidates)
            await self._sleep_until(moment, offset)
            if pending and pending[0] == moment:
                pending.pop(0)
                await workflow.execute_activity(
                    "timeline.ingest", IngestAtParams(at=moment, clock_offset_seconds=seconds),
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
            if next_due is not None and next_due <= moment:
                await workflow.execute_activity(
                    "triggers.due", DueParams(after=cursor, until=moment, clock_offset_seconds=seconds),
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
            cursor = moment
            steps += 1
        await self._sleep_until(inp.end, offset)
        return steps

    @staticmethod
    async def _sleep_until(target: datetime, offset: timedelta) -> None:
        remaining = (target + offset - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.sleep(timedelta(seconds=remaining))
            except asyncio.CancelledError:
                raise
