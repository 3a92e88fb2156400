"""Events over HTTP start and steer real journeys (time-skipping Temporal server, real worker)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dsl import ir
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.api.conftest import drained, engine, http, offline_starter, settings
from tests.daytime import daytime_zone
from tests.live_api import routed, routing_held

SIGNUP: list[dict[str, Any]] = [
    {"id": "tc-1", "account": "techcorp", "traits": {
        "name": "TechCorp", "segment": "smb", "timezone": daytime_zone(),  # no quiet hours, whenever this runs
        "primary_contact": {"email": "ana@techcorp.example", "name": "Ana"},
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
            assert response.json() == {"accepted": 2, "duplicates": 0, "backfill": 0, "rejected": []}
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


FAST_RETRIES = Limits(routing_timeout_seconds=1, retry_min_seconds=0.1, retry_max_seconds=0.5, wait_seconds=2)


async def _routing(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.get("/v1/status")
    assert response.status_code == 200
    routing: dict[str, Any] = response.json()["routing"]
    return routing


async def test_when_temporal_is_down_events_are_stored_routed_and_carried_out_once_it_is_back(
        store: Store, bundle: ir.Bundle) -> None:
    starter = await offline_starter(store)
    app = create_app(settings(), store, bundle, starter, FAST_RETRIES)
    async with http(app) as api:
        down = await api.post("/v1/events", content=_ndjson(SIGNUP))
        assert down.status_code == 202  # accepted means stored: Temporal's outage delays, loses nothing
        assert down.json() == {"accepted": 2, "duplicates": 0, "backfill": 0, "rejected": []}
        assert store.current_fields("techcorp")["segment"] == "smb"
        assert [name for name, _, _ in store.events_until("techcorp", datetime.now(UTC))] == ["signed"]
        for _ in range(100):
            routing = await _routing(api)
            if routing["state"] == "retrying":
                break
            await asyncio.sleep(0.05)
        # routed (committed) without Temporal; the journey's start waits in the drain
        assert routing["state"] == "retrying" and routing["drain_backlog"] >= 1 and routing["drain_failing_since"]
        assert routing["oldest_intent_age_seconds"] is not None
        assert "Temporal" in routing["last_failure"]["reason"]
        assert store.unrouted(limit=10) == []
        health = (await api.get("/healthz")).json()
        assert health["routing"]["drain_backlog"] >= 1 and health["routing"]["last_failure_at"]
        async with engine(store, bundle) as running:
            starter.client = running.env.client  # Temporal is back: routing resumes by itself, nothing re-sent
            starter.task_queue = running.task_queue
            lines = await _until(api, "enrolled", account="techcorp", playbook="smb_onboarding")
            await drained(app)
            routing = await _routing(api)
    assert [line["kind"] for line in lines].count("enrolled") == 1
    assert (routing["state"], routing["backlog"], routing["failing_since"]) == ("idle", 0, None)
    assert (routing["drain_backlog"], routing["oldest_intent_age_seconds"], routing["drained"]) == (0, None, 1)
    assert routing["last_routed_at"] is not None
    assert store.unrouted(limit=10) == []


async def test_a_full_routing_backlog_is_answered_503_before_anything_is_stored(
        store: Store, bundle: ir.Bundle) -> None:
    limits = Limits(routing_timeout_seconds=1, retry_min_seconds=5, retry_max_seconds=5, max_routing_backlog=1)
    app = create_app(settings(), store, bundle, await offline_starter(store), limits)
    with routing_held(store):
        async with http(app) as api:
            first = await api.post("/v1/events", content=_ndjson(SIGNUP))
            refused = await api.post("/v1/events", json={"id": "gx-1", "account": "globex", "traits": {"name": "G"}})
    assert first.status_code == 202
    assert refused.status_code == 503
    assert refused.headers["retry-after"].isdigit()
    assert refused.json()["error"] == "routing backlog full"
    assert "Nothing of this request was stored" in refused.json()["detail"]
    assert refused.json()["backlog"] >= 1
    assert "globex" not in store.account_ids()


async def test_wait_true_answers_once_the_batch_is_routed(store: Store, bundle: ir.Bundle) -> None:
    async with engine(store, bundle) as running:
        app = create_app(settings(), store, bundle, running.starter)
        async with http(app) as api:
            response = await api.post("/v1/events", params={"wait": "true"}, content=_ndjson(SIGNUP))
            assert store.unrouted(limit=10) == []
            started = [wid for wid, _ in running.starter.started]
    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "duplicates": 0, "backfill": 0, "rejected": [], "routed": True}
    assert started == ["journey/smb_onboarding/techcorp"]


async def test_wait_true_says_when_the_batch_is_not_routed_yet(store: Store, bundle: ir.Bundle) -> None:
    app = create_app(settings(), store, bundle, await offline_starter(store), FAST_RETRIES)
    async with http(app) as api:
        response = await api.post("/v1/events", params={"wait": "true"}, content=_ndjson(SIGNUP))
        body = response.json()
        while app.state.api.dispatcher.backlog:  # routing commits without Temporal; on a loaded machine after the wait
            await asyncio.sleep(0.02)
        routing = await _routing(api)
    assert response.status_code == 202
    assert (body["accepted"], body["routed"]) == (2, False)
    assert body["backlog"] + body["drain_backlog"] >= 1  # what it still waits for, routing or the drain
    assert routing["drain_backlog"] >= 1  # routed; the journey's start (and any other intent) waits for Temporal


async def test_changes_left_unrouted_by_an_earlier_process_are_routed_at_start(
        store: Store, bundle: ir.Bundle) -> None:
    app = create_app(settings(), store, bundle, await offline_starter(store), FAST_RETRIES)
    with routing_held(store):
        async with http(app) as api:
            assert (await api.post("/v1/events", content=_ndjson(SIGNUP))).status_code == 202
    assert "tc-2" in [change.event_id for change in store.unrouted()]  # stopped before it could be routed
    async with engine(store, bundle) as running:
        again = create_app(settings(), store, bundle, running.starter)
        async with http(again) as api:
            await drained(again)
            lines = await _until(api, "enrolled", account="techcorp", playbook="smb_onboarding")
    assert store.unrouted() == []
    assert [line["kind"] for line in lines].count("enrolled") == 1


async def test_starts_left_undrained_by_an_earlier_process_are_carried_out_at_start_and_nothing_routed_again(
        store: Store, bundle: ir.Bundle) -> None:
    app = create_app(settings(), store, bundle, await offline_starter(store), FAST_RETRIES)
    async with http(app) as api:
        assert (await api.post("/v1/events", content=_ndjson(SIGNUP))).status_code == 202
        await routed(app)
    assert store.unrouted() == []  # routed and committed, Temporal away: the start waits in the store
    assert [found.intent["kind"] for found in store.undrained(None, 10)] == ["start"]
    async with engine(store, bundle) as running:
        again = create_app(settings(), store, bundle, running.starter)
        async with http(again) as api:
            await drained(again)
            lines = await _until(api, "enrolled", account="techcorp", playbook="smb_onboarding")
            status = await _routing(api)
    assert store.undrained(None, 10) == []
    assert (status["routed"], status["drained"]) == (0, 1)  # nothing routed again; the start carried out
    assert [wid for wid, _ in running.starter.started] == ["journey/smb_onboarding/techcorp"]
    assert [line["kind"] for line in lines].count("enrolled") == 1


async def test_an_exit_event_in_the_same_batch_as_the_trigger_ends_the_journey_it_started(
        store: Store, bundle: ir.Bundle) -> None:
    """A payment that failed two hours ago and succeeded an hour ago, sent together: the recovery
    journey starts (its first email goes out late, recorded so) and exits at the success, before
    its day-3 reminder; nothing else is sent."""
    async with engine(store, bundle) as running:
        now = await running.env.get_current_time()
        failed, succeeded = now - timedelta(hours=2), now - timedelta(hours=1)
        batch = [
            {"id": "pc-1", "account": "payco", "at": failed.isoformat(), "traits": {
                "name": "Payco", "segment": "mid_market", "timezone": daytime_zone(),
                "primary_contact": {"email": "pat@payco.example", "name": "Pat"},
                "csm": {"email": "sam@vendor.example", "manager": {"email": "lee@vendor.example"}}}},
            {"id": "pc-2", "account": "payco", "at": failed.isoformat(), "event": "payment_failed", "data": {}},
            {"id": "pc-3", "account": "payco", "at": succeeded.isoformat(), "event": "payment_succeeded", "data": {}},
        ]
        app = create_app(settings(), store, bundle, running.starter)
        async with http(app) as api:
            response = await api.post("/v1/events", params={"wait": "true"}, content=_ndjson(batch))
            assert response.json()["routed"] is True
            handle = running.client.get_workflow_handle("journey/payment_recovery/payco")
            outcome = await handle.result()
            lines = await _log(api, account="payco", playbook="payment_recovery")
    assert (outcome["status"], outcome["reason"]) == ("exited", "event payment_succeeded")
    kinds = [(line["kind"], line.get("template")) for line in lines if line["kind"] != "decided"]
    assert kinds == [("enrolled", None), ("email", "payment_update"), ("exited", None)]
    [email] = [line for line in lines if line["kind"] == "email"]
    assert datetime.fromisoformat(email["at"]) == failed and "sent_at" in email
    assert any(line.get("what") == "late" for line in lines)
