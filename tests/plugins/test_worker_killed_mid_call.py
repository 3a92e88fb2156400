"""A `playbook worker` killed with SIGKILL in the middle of a plugin call: the call is tried again on
the next worker as soon as its heartbeat runs out (the example plugin's 10 s), not after its
whole timeout, with the same Idempotency-Key, and the journey completes with one `call` action.

Real processes: Temporal's dev server, two `playbook worker`s one after the other, the example
HubSpot plugin installed (`examples/playbook-hubspot-tasks`), and a recording HTTP server on
127.0.0.1 standing in for HubSpot that holds the first attempt's POST. (The dev server, not the
time-skipping one: the journey's next workflow task, meant for the dead worker's cache, falls back
to the shared queue after its schedule-to-start timeout, as on a cluster.)
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from dsl.project import compile_folder
from engine.records import StartJourney
from engine.routing.starter import JourneyStarter
from engine.store import Store
from engine.workflows.payloads import JourneyOutcome
from simulation.plugin_testing import Answer, RecordingServer, Request
from tests.faults.stack import environment, eventually, free_port, start_worker
from tests.plugins.conftest import write_folder
from workers.temporal_server import DevServer

pytest.importorskip("playbook_hubspot_tasks")

MODEL = "account fields:\n    name: text\n\nevents:\n    signed\n"
PLAYBOOK = """\
playbook handover "HubSpot task":
    trigger: event signed

    do hubspot.create_task subject="Onboard {{ account.name }}" owner_email="sam@vendor.example"
"""
HELD = 600.0  # seconds the first attempt's POST is held: longer than the test, as a hung call


def _hubspot(request: Request, attempt: int) -> Answer:
    if request.method == "GET":
        return Answer(200, json.dumps({"results": [{"id": "7"}]}).encode())
    if attempt == 1:
        return Answer(201, b'{"id": "never"}', delay=HELD)
    return Answer(201, json.dumps({"id": f"T-{attempt}"}).encode())


async def test_a_call_on_a_killed_worker_is_tried_again_after_its_heartbeat(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "playbooks", {"model.play": MODEL, "handover.play": PLAYBOOK})
    compilation = compile_folder(folder)
    assert compilation.bundle is not None, compilation.render()
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.open(database_url)
    temporal = DevServer(tmp_path / "temporal", port=free_port(), ui_port=free_port())
    client = await temporal.start()
    with RecordingServer(_hubspot) as hubspot:
        settings = {
            **environment(temporal=temporal.address, database_url=database_url, task_queue="killed-mid-call"),
            "PLAYBOOK_PLAYBOOKS": str(folder),
            "PLAYBOOK_PLUGINS": "hubspot",
            "PLAYBOOK_PLUGIN_HUBSPOT_TOKEN": "pat-test",
            "PLAYBOOK_PLUGIN_HUBSPOT_API_URL": hubspot.url,
        }
        workers = []
        try:
            workers.append(await start_worker(settings, tmp_path / "worker-1.log"))
            at = datetime.now(UTC).replace(microsecond=0)
            store.add_change("acme", at, event=None, data={}, event_id=None, traits={"name": "Acme"})
            starter = JourneyStarter(client, "killed-mid-call", store)
            intent = StartJourney(playbook="handover", account="acme", entry_at=at, reason="event signed")
            assert await starter.start(compilation.bundle, intent, 0.0)

            async def posted(count: int) -> bool:
                return len(hubspot.to("/crm/v3/objects/tasks")) >= count

            await eventually(lambda: posted(1), "the first attempt's POST", timeout=120)
            workers[0].kill()
            killed = time.monotonic()
            workers.append(await start_worker(settings, tmp_path / "worker-2.log"))
            await eventually(lambda: posted(2), "the second attempt's POST", timeout=120)
            retried_after = time.monotonic() - killed
            handle = client.get_workflow_handle("journey/handover/acme", result_type=JourneyOutcome)

            async def ended() -> bool:
                return (await handle.describe()).status != WorkflowExecutionStatus.RUNNING

            await eventually(ended, "the journey to end", timeout=120)
            history = await handle.fetch_history()
            outcome = await handle.result()
        finally:
            for worker in workers:
                worker.kill()
            temporal.stop()
            store.close()
    posts = hubspot.to("/crm/v3/objects/tasks")
    assert len({request.key for request in posts}) == 1 and len(posts) == 2  # one step, tried twice
    assert outcome.status == "completed"
    started = [event.activity_task_started_event_attributes for event in history.events
               if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert started[-1].attempt == 2
    reopened = Store.open(database_url)
    try:
        calls = [action for action in reopened.actions(account="acme") if action.kind == "call"]
    finally:
        reopened.close()
    assert [call.data["activity"] for call in calls] == ["hubspot.create_task"]
    print(f"\nthe call was tried again {retried_after:.1f} s after the kill (heartbeat 10 s, timeout 60 s)")
