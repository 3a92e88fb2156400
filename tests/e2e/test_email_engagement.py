"""Email engagement through the live stack: `playbook api` and `playbook worker` as processes on
Temporal's dev server, tracking on, mail to an SMTP relay on 127.0.0.1. The example playbook
`qbr_invite` sends its invitation and waits for a click; the test reads the message as the relay
got it, follows the rewritten link against the API like a mail client's browser, gets a 302 to
the link that was in the template, and the journey's wait ends on that click."""

from __future__ import annotations

import email
import re
import shutil
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx

from engine.records import ActionRecord
from engine.store import Store
from tests.faults.stack import ROOT, Relay, environment, eventually, free_port, send, start_api, start_worker
from workers.temporal_server import DevServer

SLOT = "https://calendar.acme.example/qbr?account=oak"


def _playbooks(folder: Path) -> Path:
    """The example playbooks without their send window: the test runs on the wall clock, any day
    at any hour, and the invitation is to go at once."""
    copy = shutil.copytree(ROOT / "examples" / "cs-playbooks", folder)
    model = copy / "model.play"
    lines = model.read_text(encoding="utf-8").splitlines(keepends=True)
    model.write_text("".join(line for line in lines if not line.lstrip().startswith(("send on ", "holidays from "))),
                     encoding="utf-8")
    return copy


def _parts(content: bytes) -> dict[str, str]:
    message = email.message_from_bytes(content, policy=default_policy)
    parts: dict[str, str] = {}
    for part in message.walk():
        if isinstance(part, Message) and part.get_content_maintype() == "text":
            parts[part.get_content_subtype()] = part.get_content()
    return parts


async def test_a_click_on_the_rewritten_link_redirects_to_the_template_link_and_ends_the_wait(
        tmp_path: Path) -> None:
    temporal = DevServer(tmp_path / "temporal", port=free_port(), ui_port=free_port())
    await temporal.start()
    relay = Relay()
    relay.start()
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    api_port = free_port()
    settings = {
        **environment(temporal=temporal.address, database_url=database_url, smtp_port=relay.port,
                      api_port=api_port, task_queue="engagement"),
        "PLAYBOOK_PLAYBOOKS": str(_playbooks(tmp_path / "playbooks")),
        "PLAYBOOK_TRACK_ENGAGEMENT": "true",
        "PLAYBOOK_TRACKING_URL": f"http://127.0.0.1:{api_port}",
        "PLAYBOOK_TRACKING_SECRET": "engagement-live-secret",
    }
    processes = []
    store = Store.open(database_url)
    try:
        processes.append(await start_api(settings, tmp_path / "api.log"))
        processes.append(await start_worker(settings, tmp_path / "worker.log"))
        traits: dict[str, Any] = {
            "name": "Oak", "segment": "enterprise", "timezone": "UTC",
            "exec_contact": {"email": "eve@oak.example", "name": "Eve"},
            "csm": {"email": "sam@vendor.example", "name": "Sam"},
        }
        await send(api_port, [{"id": "oak-traits", "account": "oak", "traits": traits},
                              {"id": "oak-qbr", "account": "oak", "event": "qbr_proposed"}])

        async def delivered() -> list[Any]:
            return relay.kept("eve@oak.example")

        (message,) = await eventually(delivered, "the invitation at the relay", timeout=120)
        parts = _parts(message.content)
        assert SLOT not in parts["plain"] and SLOT not in parts["html"]  # every copy of the link goes round
        (link,) = set(re.findall(rf"http://127\.0\.0\.1:{api_port}/e/c/[0-9a-f.]+[0-9a-f]", parts["plain"]))
        assert f'href="{link}"' in parts["html"] and "/e/o/" in parts["html"]  # the pixel

        async with httpx.AsyncClient(timeout=30) as http:  # a browser: no API token
            response = await http.get(link)
        assert response.status_code == 302
        assert response.headers["location"] == SLOT

        def logged() -> list[ActionRecord]:
            return [action for action in store.actions() if action.playbook == "qbr_invite"]

        async def wait_ended() -> list[ActionRecord]:
            return [a for a in logged() if a.kind == "task"]

        (task,) = await eventually(wait_ended, "the journey to act on the click", timeout=120)
        assert task.data["title"] == "Confirm the QBR slot Oak picked"
        (ended,) = [a for a in logged() if a.kind == "decided" and a.data.get("what") == "wait_ended"]
        assert ended.data["outcome"] == "event" and ended.data["reads"]["event"] == "email_clicked"
    finally:
        for process in reversed(processes):
            process.stop()
        store.close()
        relay.close()
        temporal.stop()
