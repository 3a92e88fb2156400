"""Input posted to the live API at each line's arrival moment, on the time-skipping server's clock.

The driver is a workflow of the test's own: it sleeps until each arrival moment (engine time =
server time minus the stack's clock offset) and runs one activity that posts that moment's lines
to `POST /v1/events?wait=true` over HTTP, so the answer comes once the API has stored and routed
them. The test awaits the driver's result, which lets the test server skip time; the server holds
its clock while any activity or workflow task is under way, so the journeys and the scheduler
run at their moments exactly as they would on wall time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import RetryPolicy

__all__ = ["DRIVER", "DriverInput", "Poster", "PostParams"]

DRIVER = "conformance-driver"
POST_TIMEOUT = timedelta(minutes=5)
# A moment's lines the API would not take: tried again a few times (a slow moment on a loaded
# machine), then the run fails with the API's answer instead of trying for ever.
POST_RETRIES = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=8)


class DriverInput(BaseModel):
    moments: list[datetime]
    end: datetime
    clock_offset_seconds: float


class PostParams(BaseModel):
    moment: datetime


@workflow.defn(name=DRIVER)
class Driver:
    @workflow.run
    async def run(self, inp: DriverInput) -> int:
        offset = timedelta(seconds=inp.clock_offset_seconds)
        posted = 0
        for moment in [*inp.moments, None]:
            target = inp.end if moment is None else moment
            remaining = (target + offset - workflow.now()).total_seconds()
            if remaining > 0:
                await workflow.sleep(timedelta(seconds=remaining))
            if moment is not None:
                posted += await workflow.execute_activity(
                    "conformance.post", PostParams(moment=moment), result_type=int,
                    start_to_close_timeout=POST_TIMEOUT, retry_policy=POST_RETRIES)
        return posted


class Poster:
    """The activity: posts the lines of a moment to the API, and fails on anything but all stored
    and routed."""

    def __init__(self, api_url: str, token: str, lines_at: dict[datetime, list[str]]) -> None:
        self.api_url, self.token, self.lines_at = api_url, token, lines_at
        self.answers: list[dict[str, Any]] = []

    @activity.defn(name="conformance.post")
    async def post(self, p: PostParams) -> int:
        lines = self.lines_at[p.moment]
        async with httpx.AsyncClient(timeout=POST_TIMEOUT.total_seconds()) as http:
            response = await http.post(
                f"{self.api_url}/v1/events", params={"wait": "true"}, content="\n".join(lines) + "\n",
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/x-ndjson"})
        answer = response.json()
        self.answers.append(answer)
        if response.status_code != 202 or answer.get("rejected") or not answer.get("routed"):
            raise RuntimeError(f"the API did not take the lines of {p.moment.isoformat()}: "
                               f"{response.status_code} {answer}")
        return len(lines)
