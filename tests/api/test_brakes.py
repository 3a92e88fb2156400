"""The operator's brakes on the real engine (time-skipping Temporal server, real worker): a paused
playbook takes no new entries, the send stop holds a running journey's email (logged `held`) until
it is lifted, and `playbook pause` from the command line reaches the API through the store."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from dsl import ir
from engine.store import Store
from engine.workflows.journey_calls import HELD_FIRST_WAIT
from server.app import create_app
from tests.api.conftest import engine, http, offline_api, settings
from tests.api.test_journeys import SIGNUP, _log, _ndjson, _until

PLAYBOOK = "smb_onboarding"


def _signup(account: str) -> list[dict[str, Any]]:
    return [{**line, "id": f"{account}-{line['id']}", "account": account} for line in SIGNUP]


async def test_a_paused_playbook_admits_nobody_until_it_is_resumed(store: Store, bundle: ir.Bundle) -> None:
    async with engine(store, bundle) as running:
        app = create_app(settings(), store, bundle, running.starter)
        async with http(app) as api:
            paused = await api.post(f"/v1/playbooks/{PLAYBOOK}/pause", json={"reason": "wrong discount"})
            assert paused.status_code == 200 and paused.json()["changed"] is True
            assert (await api.post("/v1/events", content=_ndjson(_signup("techcorp")))).status_code == 202
            refused = await _until(api, "decided", account="techcorp", playbook=PLAYBOOK)
            assert (await api.post(f"/v1/playbooks/{PLAYBOOK}/resume")).json()["changed"] is True
            assert (await api.post("/v1/events", content=_ndjson(_signup("globex")))).status_code == 202
            entered = await _until(api, "email", account="globex", playbook=PLAYBOOK)
            later = await _log(api, account="techcorp", playbook=PLAYBOOK)
    [decision] = [line for line in refused if line["kind"] == "decided"]
    assert decision["what"] == "paused" and "is paused" in decision["detail"]
    assert not any(line["kind"] in ("enrolled", "email") for line in later)
    assert [line["kind"] for line in entered][:2] == ["enrolled", "email"]


async def test_the_send_stop_holds_a_running_journeys_email_until_it_is_lifted(
        store: Store, bundle: ir.Bundle) -> None:
    async with engine(store, bundle) as running:
        app = create_app(settings(), store, bundle, running.starter)
        async with http(app) as api:
            stopped = await api.post("/v1/sends/stop", json={"reason": "relay blocklisted"})
            assert [c["name"] for c in stopped.json()["controls"]] == ["sends"]
            assert (await api.post("/v1/events", content=_ndjson(_signup("techcorp")))).status_code == 202
            held = await _until(api, "held", account="techcorp", playbook=PLAYBOOK)
            assert not any(line["kind"] == "email" for line in held)
            assert (await api.post("/v1/sends/resume")).json()["changed"] is True
            await running.env.sleep(HELD_FIRST_WAIT + timedelta(seconds=1))  # its next look, on the server's clock
            sent = await _until(api, "email", seconds=120, account="techcorp", playbook=PLAYBOOK)
    [hold] = [line for line in held if line["kind"] == "held"]
    assert "every send is stopped: relay blocklisted" in hold["reason"]
    assert [line["kind"] for line in sent].count("email") == 1


async def test_a_send_held_for_hours_waits_without_failing_and_goes_once_the_stop_is_lifted(
        store: Store, bundle: ir.Bundle) -> None:
    """Temporal's own retries would give up within minutes: the journey waits for the brakes
    instead, however long they hold, and the step neither fails nor sends twice."""
    async with engine(store, bundle) as running:
        app = create_app(settings(), store, bundle, running.starter)
        async with http(app) as api:
            await api.post("/v1/sends/stop", json={"reason": "relay blocklisted"})
            assert (await api.post("/v1/events", content=_ndjson(_signup("techcorp")))).status_code == 202
            await _until(api, "held", account="techcorp", playbook=PLAYBOOK)
            await running.env.sleep(timedelta(hours=6))  # the stop holds for six hours
            during = await _log(api, account="techcorp", playbook=PLAYBOOK)
            assert (await api.post("/v1/sends/resume")).json()["changed"] is True
            await running.env.sleep(timedelta(hours=1, minutes=1))  # the journey looks again within the hour
            sent = await _until(api, "email", seconds=120, account="techcorp", playbook=PLAYBOOK)
    assert not any(line["kind"] in ("failed", "email") for line in during)
    assert [line["kind"] for line in sent].count("email") == 1
    assert not any(line["kind"] == "failed" for line in sent)


async def test_playbook_pause_from_the_command_line_is_seen_by_the_api_and_resume_undoes_it(
        store: Store, bundle: ir.Bundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PLAYBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")  # the store of the API
    assert await asyncio.to_thread(main, ["pause", PLAYBOOK, "--reason", "day 3 is wrong"]) == 0
    assert await asyncio.to_thread(main, ["pause", "--sends"]) == 0
    assert await asyncio.to_thread(main, ["pause", "--list"]) == 0
    async with offline_api(store, bundle) as api:
        seen = (await api.get("/v1/controls")).json()["controls"]
        assert await asyncio.to_thread(main, ["resume", PLAYBOOK]) == 0
        assert await asyncio.to_thread(main, ["resume", "--sends"]) == 0
        after = (await api.get("/v1/controls")).json()["controls"]
        unknown = await api.post("/v1/playbooks/no_such_playbook/pause")
    out = capsys.readouterr().out
    assert {(c["name"], c["reason"]) for c in seen} == {(f"playbook:{PLAYBOOK}", "day 3 is wrong"), ("sends", "")}
    assert f"{PLAYBOOK} is paused since" in out and "every send is stopped since" in out
    assert after == []
    assert unknown.status_code == 404


async def test_pause_without_a_playbook_or_sends_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["pause"]) == 2
    assert "name one PLAYBOOK, or give --sends" in capsys.readouterr().err

