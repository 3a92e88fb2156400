"""The dashboard's brakes page: pausing a playbook and stopping every send from the browser writes
the same store controls `playbook pause` does, and a form without its token changes nothing."""

from __future__ import annotations

from pathlib import Path

from dsl import ir
from engine.store import Store
from tests.dashboard.conftest import dashboard, form_token_of, sign_in


async def test_pausing_and_resuming_from_the_brakes_page_changes_the_store_controls(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    playbook = sorted(bundle.playbooks)[0]
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = await client.get("/brakes")
        token = form_token_of(page.text)
        forged = await client.post("/brakes", data={"target": "sends", "action": "pause", "form_token": "x"})
        assert store.controls() == {}
        paused = await client.post("/brakes", data={"target": f"playbook:{playbook}", "action": "pause",
                                                    "reason": "copy check", "form_token": token})
        stopped = await client.post("/brakes", data={"target": "sends", "action": "pause", "form_token": token})
        shown = await client.get("/brakes")
        held = store.controls()
        await client.post("/brakes", data={"target": "sends", "action": "resume", "form_token": token})
        await client.post("/brakes", data={"target": f"playbook:{playbook}", "action": "resume", "form_token": token})
    assert page.status_code == 200 and "Stop every send" in page.text
    assert forged.status_code == 403
    assert paused.status_code == 303 and stopped.status_code == 303
    assert held[f"playbook:{playbook}"][0] == "copy check" and "sends" in held
    assert "Resume every send" in shown.text and "paused since" in shown.text
    assert store.controls() == {}
