"""A plugin call whose worker dies mid-call is retried within the spec's heartbeat, not its timeout.

The first attempt hangs and stops reporting it is alive, as an attempt on a killed worker does
(the process is gone: no heartbeat, no failure reported); the server takes it as lost once the
heartbeat runs out and hands the second attempt to a worker.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType

from activities.context import ActivityContext, CaptureMailer, PluginCall
from activities.plugin_catalog import plugin_catalog
from dsl.project import compile_folder
from engine.records import StartJourney
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.workflows.payloads import JourneyOutcome
from tests.live_api import time_skipping
from tests.plugins import ticketing
from tests.plugins.conftest import write_folder
from workers.runtime import build_worker

PLAYBOOK = """\
playbook tickets "Open a ticket":
    trigger: event signed

    day 0:
        do tickets.create title="Onboard {{ account.name }}"
"""

MODEL = "account fields:\n    name: text\n\nevents:\n    signed\n"
HEARTBEAT = timedelta(seconds=2)


async def test_an_attempt_that_stops_reporting_alive_is_retried_after_the_heartbeat_not_the_timeout(
        tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYBOOK_PLUGIN_TICKETS_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PLAYBOOK_PLUGIN_TICKETS_TOKEN", "tok")
    alive = activity.heartbeat

    def heartbeat(*details: Any) -> None:  # the first attempt's worker is dead: it reports nothing
        if activity.info().attempt > 1:
            alive(*details)

    monkeypatch.setattr(activity, "heartbeat", heartbeat)
    released = asyncio.Event()
    attempts: list[int] = []

    async def create(params: ticketing.TicketParams, call: PluginCall) -> dict[str, str]:
        attempts.append(call.attempt)
        if call.attempt == 1:
            await released.wait()  # hangs, as a call on a killed worker never ends
        return {"id": "T-1"}

    registry = ticketing.registry(create, heartbeat=HEARTBEAT)
    compilation = compile_folder(write_folder(tmp_path / "playbooks", {"model.play": MODEL, "t.play": PLAYBOOK}),
                                 plugins=plugin_catalog(registry))
    assert compilation.bundle is not None, compilation.render()
    env = await time_skipping()
    async with env:
        at = (await env.get_current_time()).replace(microsecond=0)
        store.add_change("acme", at, event=None, data={}, event_id=None, traits={"name": "Acme"})
        starter = JourneyStarter(env.client, "heartbeat", store)
        context = ActivityContext(store=store, bundle=compilation.bundle, starter=starter, mailer=CaptureMailer())
        async with build_worker(env.client, "heartbeat", registry, context):
            intent = StartJourney(playbook="tickets", account="acme", entry_at=at, reason="event signed")
            assert await starter.start(compilation.bundle, intent, 0.0)
            handle = env.client.get_workflow_handle("journey/tickets/acme", result_type=JourneyOutcome)
            await handle.result()
            history = await handle.fetch_history()
            released.set()
    events = {event.event_type: event for event in history.events}  # one plugin call: one of each
    scheduled = events[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    started = events[EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED].activity_task_started_event_attributes
    assert scheduled.activity_task_scheduled_event_attributes.heartbeat_timeout.ToTimedelta() == HEARTBEAT
    assert attempts == [1, 2]
    assert started.attempt == 2
    waited = events[EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED].event_time.ToDatetime() \
        - scheduled.event_time.ToDatetime()
    print(f"\nsecond attempt started {waited.total_seconds():.1f} s after the step was scheduled "
          f"(heartbeat {HEARTBEAT.total_seconds():.0f} s, timeout {registry.specs['tickets.create'].timeout})")
    assert waited < registry.specs["tickets.create"].timeout
    assert [action.data["activity"] for action in store.actions(account="acme") if action.kind == "call"] == [
        "tickets.create"]
