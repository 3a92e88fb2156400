"""Events over HTTP start and steer real journeys (time-skipping Temporal server, real worker)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dsl import ir
from engine.store import Store
from tests.api.conftest import engine, http, offline_starter, settings
from workers.api import create_app
from workers.api.limits import Limits

SIGNUP: list[dict[str, Any]] = [
    {"id": "tc-1", "account": "techcorp", "traits": {
        "name": "TechCorp", "segment": "smb", "primary_contact": {"email": "ana@techcorp.example", "name": "Ana"},
        "csm": {"email": "sam@vendor.example", "manager": {"email": "lee@vendor.example"}}}},
    {"id": "tc-2", "account": "techcorp", "event": "signed"},
]

# Every input of the standard health score, at its worst: the account is scored 0, band red.
RED = {"name": "Initech", "segment": "mid_market", "dau_pct": 5, "feature_adoption": 5, "qbr_attended": False,
       "training_done": False, "responsive": False, "ticket_trend": "increasing", "csat": 1, "exec_sponsor": False,
       "champion": False, "nps": 1, "payments_on_time": False, "expanded_last_12m": False,
       "csm": {"email": "sam@vendor.example", "manager": {"email": "lee@vendor.example"}}}


def _ndjson(objects: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(o) for o in objects)


async def _log(api: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/v1/log", params=params)
    assert response.status_code == 200
    return [json.loads(line) for line in response.text.splitlines()]


async def _until(api: httpx.AsyncClient, kind: str, seconds: float = 20, **params: str) -> list[dict[str, Any]]:
    """The log once an action of `kind` shows up in it (the worker runs journeys on its own)."""
    for _ in range(int(seconds / 0.1)):
        lines = await _log(api, **params)
        if any(line["kind"] == kind for line in lines):
            return lines
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} action within {seconds} s: {lines}")


async def test_a_signed_event_for_an_smb_account_starts_onboarding(store: Store, bundle: ir.Bundle) -> None:
    async with engine(store, bundle) as running:
        app = create_app(settings(), store, bundle, running.starter)
        async with http(app) as api:
            response = await api.post("/v1/events", content=_ndjson(SIGNUP))
            assert response.status_code == 202
            assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
            lines = await _until(api, "email", account="techcorp", playbook="smb_onboarding")
    kinds = [line["kind"] for line in lines]
    assert kinds[:2] == ["enrolled", "email"]
    assert lines[1]["template"] == "welcome"
    assert lines[1]["to"] == "ana@techcorp.example"


async def test_completing_a_task_over_http_closes_it_and_the_waiting_journey_hears_it(
        store: Store, bundle: ir.Bundle) -> None:
    async with engine(store, bundle) as running:
        app = create_app(settings(), store, bundle, running.starter)
        async with http(app) as api:
            response = await api.post("/v1/events", json={"id": "in-1", "account": "initech", "traits": RED})
            assert response.status_code == 202
            await _until(api, "task", account="initech", playbook="health_red")
            tasks = (await api.get("/v1/tasks", params={"account": "initech", "status": "open"})).json()
            assert [t["title"] for t in tasks] == ["Outreach: Initech"]
            done = await api.post(f"/v1/tasks/{tasks[0]['id']}/complete")
            assert done.status_code == 200
            assert done.json()["task"]["status"] == "done"
            assert done.json()["accepted"] == 1
            # The journey waits "until task done or 48h": hearing the completion ends it at once;
            # without it the time-skipping server would run the 48 hours out and escalate.
            handle = running.env.client.get_workflow_handle("journey/health_red/initech")
            await handle.result()
            again = await api.post(f"/v1/tasks/{tasks[0]['id']}/complete")
            lines = await _log(api, account="initech", playbook="health_red")
    assert again.status_code == 200
    assert again.json()["accepted"] == 0
    assert [t.title for t in store.tasks(account="initech")] == ["Outreach: Initech"]
    assert store.tasks(account="initech", status="open") == []
    entered = next(datetime.fromisoformat(line["at"]) for line in lines if line["kind"] == "enrolled")
    ended = next(datetime.fromisoformat(line["at"]) for line in lines if line["kind"] == "completed")
    assert ended - entered < timedelta(hours=1)


async def test_when_temporal_is_down_events_stay_stored_and_resending_the_batch_routes_them(
        store: Store, bundle: ir.Bundle) -> None:
    starter = await offline_starter(store)
    app = create_app(settings(), store, bundle, starter, Limits(routing_timeout_seconds=2))
    async with http(app) as api:
        down = await api.post("/v1/events", content=_ndjson(SIGNUP))
        assert down.status_code == 503
        assert down.headers["retry-after"].isdigit()
        body = down.json()
        assert body["error"] == "routing unavailable"
        assert "Send the same batch again" in body["detail"]
        assert (body["accepted"], body["unrouted"]) == (2, 1)
        assert store.current_fields("techcorp")["segment"] == "smb"
        assert [name for name, _, _ in store.events_until("techcorp", datetime.now(UTC))] == ["signed"]
        async with engine(store, bundle) as running:
            starter.client = running.env.client  # Temporal is back
            starter.task_queue = running.task_queue
            again = await api.post("/v1/events", content=_ndjson(SIGNUP))
            assert again.status_code == 202
            assert again.json() == {"accepted": 0, "duplicates": 2, "rejected": []}
            lines = await _until(api, "enrolled", account="techcorp", playbook="smb_onboarding")
    assert [line["kind"] for line in lines].count("enrolled") == 1
