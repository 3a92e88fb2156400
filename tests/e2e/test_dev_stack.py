"""`playbook dev` end to end: the real command, Temporal's dev server, the SMTP sink, the HTTP API.

Events go in over HTTP as a client would send them; what comes out is checked where a user
would look: the mail in the sink, the open tasks, the action log (`playbook log --json`). The
stack is stopped with Ctrl-C (SIGINT) and started again on the same state folder: journeys
mid-flight carry on, nothing is sent twice, and no Temporal process outlives the command.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx
from temporalio.client import Client, WorkflowExecutionStatus

from server.smtp_sink import SinkMessage, SmtpSink, outbox_folder, read_index, read_message
from tests.daytime import daytime_zone
from tests.e2e.conftest import AUTH, DevProcess, playbook_command, temporal_processes, until
from workers.runtime import DATA_CONVERTER, quiet_runtime

# Every input of the standard health score at its worst: scored 0, band red.
RED = {"name": "Initech", "segment": "mid_market", "dau_pct": 5, "feature_adoption": 5, "qbr_attended": False,
       "training_done": False, "responsive": False, "ticket_trend": "increasing", "csat": 1, "exec_sponsor": False,
       "champion": False, "nps": 1, "payments_on_time": False, "expanded_last_12m": False,
       "csm": {"email": "sam@vendor.example", "manager": {"email": "lee@vendor.example"}}}



def signup(account: str, contact: str, name: str) -> list[dict[str, Any]]:
    return [
        {"id": f"{account}-traits", "account": account, "traits": {
            "name": name, "segment": "smb", "timezone": daytime_zone(),
            "primary_contact": {"email": contact, "name": "Ana"},
            "csm": {"email": "sam@vendor.example", "manager": {"email": "lee@vendor.example"}}}},
        {"id": f"{account}-signed", "account": account, "event": "signed", "data": {}},
    ]


def ndjson(objects: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(o) for o in objects) + "\n"


def api(stack: DevProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=60)


async def post_events(stack: DevProcess, objects: list[dict[str, Any]]) -> None:
    async with api(stack) as client:
        response = await client.post("/v1/events", content=ndjson(objects),
                                     headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": len(objects), "duplicates": 0, "backfill": 0, "rejected": []}


async def log_over_http(stack: DevProcess, **params: str) -> list[dict[str, Any]]:
    async with api(stack) as client:
        response = await client.get("/v1/log", params=params)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


async def playbook_log(stack: DevProcess) -> list[dict[str, Any]]:
    """`playbook log --json` against the running stack, as a CSM would run it."""
    done = await asyncio.to_thread(subprocess.run, [*playbook_command(), "log", "--json"], cwd=stack.state.parent,
                                   env=stack.env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


async def open_tasks(stack: DevProcess, account: str) -> list[dict[str, Any]]:
    async with api(stack) as client:
        response = await client.get("/v1/tasks", params={"account": account, "status": "open"})
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks


def kinds(lines: list[dict[str, Any]], account: str, playbook: str | None) -> list[str]:
    return [line["kind"] for line in lines if line["account"] == account and line["playbook"] == playbook]


async def journey_status(stack: DevProcess, workflow_id: str) -> WorkflowExecutionStatus | None:
    client = await Client.connect(f"127.0.0.1:{stack.ports.temporal}", data_converter=DATA_CONVERTER,
                                  runtime=quiet_runtime())
    return (await client.get_workflow_handle(workflow_id).describe()).status


async def stop_cleanly(stack: DevProcess) -> None:
    """Ctrl-C: the command exits 0 and leaves no Temporal server behind."""
    status = await stack.stop(signal.SIGINT)
    assert status == 0, stack.text()
    assert "playbook dev: stopped" in stack.text()
    assert temporal_processes(stack.state) == [], "a Temporal dev server outlived playbook dev"


async def test_dev_stack_runs_journeys_and_resumes_them_after_a_restart(
        dev_stack: Callable[..., DevProcess]) -> None:
    stack = dev_stack()
    started = time.monotonic()
    banner = await stack.start()
    startup = time.monotonic() - started

    # Startup says where everything is.
    state = str(stack.state)
    assert f"HTTP API        {stack.base_url}" in banner
    assert f"Temporal        127.0.0.1:{stack.ports.temporal}" in banner
    assert f"web UI: http://127.0.0.1:{stack.ports.temporal + 1000}" in banner
    assert f"SMTP sink       127.0.0.1:{stack.ports.smtp}" in banner
    assert f"state in {state}" in banner and f"sqlite:///{state}/store.db" in banner
    assert len(temporal_processes(stack.state)) == 1

    await post_events(stack, signup("techcorp", "ana@techcorp.example", "TechCorp"))
    await post_events(stack, [{"id": "initech-red", "account": "initech", "traits": RED}])

    # The welcome email reaches the SMTP sink, with the headers a mailbox relies on.
    outbox = outbox_folder(stack.state)

    async def welcome() -> list[SinkMessage] | None:
        return [m for m in read_index(outbox) if m.to == ["ana@techcorp.example"]] or None

    [entry] = await until("the welcome email in the sink", welcome, timeout=60)
    message = read_message(outbox, entry)
    assert message["Subject"] == "Welcome to Acme, Ana"
    assert message["To"] == "Ana <ana@techcorp.example>"
    assert re.fullmatch(r"<[0-9a-f]{32}@acme\.example>", message["Message-ID"])
    assert message["List-Unsubscribe"].startswith(f"<{stack.base_url}/v1/unsubscribe?email=ana%40techcorp.example")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The red account's outreach task is on the work list.
    [task] = await until("the red account's outreach task", lambda: open_tasks(stack, "initech"), timeout=60)
    assert (task["title"], task["playbook"], task["owner"], task["priority"]) == \
        ("Outreach: Initech", "health_red", "sam@vendor.example", "urgent")

    # The action log, as `playbook log --json` prints it.
    lines = await playbook_log(stack)
    assert kinds(lines, "techcorp", "smb_onboarding")[:2] == ["enrolled", "email"]
    email = next(line for line in lines if line["kind"] == "email" and line["account"] == "techcorp")
    assert (email["template"], email["to"], email["subject"]) == \
        ("welcome", "ana@techcorp.example", "Welcome to Acme, Ana")
    score = next(line for line in lines if line["kind"] == "score" and line["account"] == "initech")
    assert (score["value"], score["band"]) == (0, "red")
    assert kinds(lines, "initech", "health_red")[:2] == ["enrolled", "task"]

    await stop_cleanly(stack)

    # Started again on the same state folder: the journeys are still there, waiting.
    restarted = time.monotonic()
    await stack.start()
    restart = time.monotonic() - restarted
    assert await journey_status(stack, "journey/smb_onboarding/techcorp") == WorkflowExecutionStatus.RUNNING
    assert await journey_status(stack, "journey/health_red/initech") == WorkflowExecutionStatus.RUNNING

    # Completing the task ends the red journey at once, without the escalation.
    async with api(stack) as client:
        done = await client.post(f"/v1/tasks/{task['id']}/complete")
    assert done.status_code == 200, done.text
    assert done.json()["task"]["status"] == "done"

    async def red_journey_over() -> list[dict[str, Any]] | None:
        lines = await log_over_http(stack, account="initech", playbook="health_red")
        return lines if "completed" in kinds(lines, "initech", "health_red") else None

    lines = await until("the red journey to complete", red_journey_over, timeout=60)
    assert [line["title"] for line in lines if line["kind"] == "task"] == ["Outreach: Initech"]
    assert await journey_status(stack, "journey/health_red/initech") == WorkflowExecutionStatus.COMPLETED
    assert await open_tasks(stack, "initech") == []
    # Nothing was sent twice across the restart.
    assert len(read_index(outbox)) == 1

    await stop_cleanly(stack)
    print(f"\nfirst start {startup:.1f} s, restart {restart:.1f} s, whole test {time.monotonic() - started:.1f} s")


async def test_mail_waits_for_a_relay_that_refuses_connections_then_arrives_once(
        dev_stack: Callable[..., DevProcess]) -> None:
    stack = dev_stack(extra_args=["--no-smtp-sink"])  # mail goes to PLAYBOOK_SMTP_PORT, where nothing listens
    started = time.monotonic()
    banner = await stack.start()
    assert f"SMTP relay      127.0.0.1:{stack.ports.smtp}" in banner

    await post_events(stack, signup("globex", "hank@globex.example", "Globex"))

    # The email step runs and keeps failing: the activity retries with backoff.
    client = await Client.connect(f"127.0.0.1:{stack.ports.temporal}", data_converter=DATA_CONVERTER,
                                  runtime=quiet_runtime())
    journey = client.get_workflow_handle("journey/smb_onboarding/globex")

    async def retrying() -> str | None:
        try:
            pending = (await journey.describe()).raw_description.pending_activities
        except Exception:  # not started yet
            return None
        failing = [p for p in pending if p.attempt >= 3]
        return failing[0].last_failure.message if failing else None

    failure = await until("two failed delivery attempts", retrying, timeout=60)
    assert "could not be reached" in failure, failure

    # The relay comes up on that port: the next attempt delivers, once.
    relay = SmtpSink(stack.state.parent / "relay", "127.0.0.1", stack.ports.smtp)
    relay.start()
    try:
        [entry] = await until("the email at the relay", lambda: _messages(relay), timeout=60)
        assert entry.to == ["hank@globex.example"]
        assert entry.subject == "Welcome to Acme, Ana"

        async def delivered() -> bool:
            pending = (await journey.describe()).raw_description.pending_activities
            return not pending

        await until("the email step to finish", delivered, timeout=30)
        lines = await log_over_http(stack, account="globex", playbook="smb_onboarding")
        assert kinds(lines, "globex", "smb_onboarding")[:2] == ["enrolled", "email"]
        assert kinds(lines, "globex", "smb_onboarding").count("email") == 1
        assert "failed" not in kinds(lines, "globex", "smb_onboarding")
        # Even a `kill -9` of playbook dev takes its Temporal server down with it.
        assert await stack.stop(signal.SIGKILL) == -signal.SIGKILL

        async def server_gone() -> bool:
            return temporal_processes(stack.state) == []

        await until("Temporal's dev server to go with its parent", server_gone, timeout=30)
        assert len(relay.messages()) == 1
    finally:
        relay.stop()
    print(f"\nwhole test {time.monotonic() - started:.1f} s")


async def _messages(sink: SmtpSink) -> list[SinkMessage] | None:
    return sink.messages() or None
