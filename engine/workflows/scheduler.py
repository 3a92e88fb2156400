"""The scheduler workflow: fires time-based triggers (date fields, schedules, trends) in production.

One scheduler runs per namespace (workflow id `scheduler`). It starts from where the store says
the last one stopped (`triggers.cursor`; from now on a store it never ran on), so downtime is
caught up. It asks the router when the next time trigger is due, sleeps until then, and has the
due triggers fired (both answered from the index of next-due moments in the store,
`engine/routing/due_index.py`: a round with nothing due reads one row, a pass the accounts due);
a `wake` signal (sent when an account's fields change, e.g. a new renewal date) makes it look
again at once. It never sleeps longer than `max_sleep`, so a missed wake-up costs at most that
delay. After a fixed number of rounds it continues as new, keeping its history short.

In a simulation the timeline workflow plays this part (`engine/workflows/timeline.py`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from engine.workflows.timeline import DueParams, NextDue, NextDueParams

__all__ = ["SCHEDULER_ID", "SchedulerInput", "SchedulerWorkflow"]

SCHEDULER_ID = "scheduler"
ROUNDS_PER_RUN = 200
ACTIVITY_TIMEOUT = timedelta(minutes=10)
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))


class SchedulerInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: datetime | None = None  # time triggers up to here have been fired
    max_sleep_seconds: float = 3600.0
    clock_offset_seconds: float = 0.0  # server time minus engine time (processes on a clock of their own)


@workflow.defn(name="scheduler")
class SchedulerWorkflow:
    def __init__(self) -> None:
        self._wake = False

    @workflow.signal(name="wake")
    def wake(self) -> None:
        self._wake = True

    @workflow.run
    async def run(self, inp: SchedulerInput) -> None:
        offset = timedelta(seconds=inp.clock_offset_seconds)

        def now() -> datetime:
            return workflow.now() - offset

        cursor = inp.cursor
        if cursor is None and workflow.patched("scheduler-cursor"):
            stored = await workflow.execute_activity(
                "triggers.cursor", NextDueParams(after=now()), result_type=NextDue,
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
            cursor = stored.at if stored.at is not None and stored.at < now() else None
        cursor = cursor or now()
        for _ in range(ROUNDS_PER_RUN):
            self._wake = False
            due = await workflow.execute_activity(
                "triggers.next_due", NextDueParams(after=cursor), result_type=NextDue,
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
            limit = now() + timedelta(seconds=inp.max_sleep_seconds)
            target = min(due.at, limit) if due.at is not None else limit
            remaining = (target - now()).total_seconds()
            if remaining > 0:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._wake, timeout=timedelta(seconds=remaining))
            until = min(target, now())
            if until > cursor:
                await workflow.execute_activity(
                    "triggers.due", DueParams(after=cursor, until=until, clock_offset_seconds=inp.clock_offset_seconds),
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
                cursor = until
        workflow.continue_as_new(SchedulerInput(cursor=cursor, max_sleep_seconds=inp.max_sleep_seconds,
                                                clock_offset_seconds=inp.clock_offset_seconds))
