"""A timeline through the live processes: `playbook api` + `playbook worker` (with the scheduler)
on Temporal's time-skipping test server, mail to an SMTP relay on 127.0.0.1, input over HTTP.

Everything between the HTTP request and the SMTP server is the production code path; only the
clock differs: the processes run with `PLAYBOOK_CLOCK=server` and an offset, so their "now" is
the test server's time minus the offset, the timeline's own time. The driver (`driver.py`) posts
each moment's lines when the server's clock reaches it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from engine.records import ActionRecord
from engine.store import Store
from tests.conformance.driver import DRIVER, Driver, DriverInput, Poster
from tests.conformance.merged import MergedTimeline
from tests.faults.stack import ROOT, TOKEN, Process, Received, Relay, environment, free_port, start_api, start_worker
from tests.live_api import time_skipping

__all__ = ["LiveRun", "run_live"]

LEAD = timedelta(hours=1)  # the stack starts this long before the timeline's first moment
RUN_LIMIT = 900.0  # seconds of wall time a whole run may take


@dataclass
class LiveRun:
    actions: list[ActionRecord]
    received: list[Received]  # the messages the SMTP relay was handed
    posted: int


async def run_live(timeline: MergedTimeline, folder: Path, playbooks: Path = ROOT / "playbooks") -> LiveRun:
    """The timeline through the live stack running `playbooks` (the standard library by default)."""
    assert timeline.start is not None and timeline.end is not None
    relay = Relay()
    relay.start()
    env = await time_skipping()
    processes: list[Process] = []
    database_url = f"sqlite:///{folder / 'store.db'}"
    try:
        server_now = await env.get_current_time()
        offset = (server_now - (timeline.start - LEAD)).total_seconds()
        api_port = free_port()
        settings = {
            **environment(temporal=env.client.service_client.config.target_host, database_url=database_url,
                          smtp_port=relay.port, api_port=api_port, task_queue="conformance"),
            "PLAYBOOK_PLAYBOOKS": str(playbooks),
            "PLAYBOOK_CLOCK": "server",
            "PLAYBOOK_CLOCK_OFFSET_SECONDS": repr(offset),
            "PLAYBOOK_SCHEDULER_MAX_SLEEP_SECONDS": str(24 * 3600),
        }
        Store.open(database_url).close()  # migrated here: `playbook migrate` is the same code
        processes.append(await start_api(settings, folder / "api.log"))
        processes.append(await start_worker(settings, folder / "worker.log"))
        lines_at = {moment: [json.dumps(obj) for obj in timeline.at(moment)] for moment in timeline.moments()}
        poster = Poster(f"http://127.0.0.1:{api_port}", TOKEN, lines_at)
        async with Worker(env.client, task_queue="conformance-driver", workflows=[Driver], activities=[poster.post],
                          workflow_runner=UnsandboxedWorkflowRunner()):
            # bounded in wall time: a run that stops advancing fails, with the processes' logs kept
            posted = await asyncio.wait_for(env.client.execute_workflow(
                DRIVER, DriverInput(moments=timeline.moments(), end=timeline.end, clock_offset_seconds=offset),
                id="conformance-driver", task_queue="conformance-driver", result_type=int), timeout=RUN_LIMIT)
        store = Store.open(database_url)
        try:
            actions = [action for action in store.actions() if action.at <= timeline.end]
        finally:
            store.close()
        return LiveRun(actions=actions, received=relay.kept(), posted=posted)
    finally:
        for process in reversed(processes):
            process.stop()
        await env.shutdown()
        relay.close()


def latest(run: LiveRun) -> datetime | None:
    return max((action.at for action in run.actions), default=None)
