"""The drain's bound: while Temporal is down the routed intents wait in the store, and past
`drain_backlog_max` of them ingestion answers 503 with Retry-After, storing nothing new."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx

from dsl import ir
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.api.conftest import http, offline_starter, settings
from tests.daytime import daytime_zone

SIGNUP: list[dict[str, Any]] = [
    {"id": "tc-1", "account": "techcorp", "traits": {
        "name": "TechCorp", "segment": "smb", "timezone": daytime_zone(),
        "primary_contact": {"email": "ana@techcorp.example", "name": "Ana"}}},
    {"id": "tc-2", "account": "techcorp", "event": "signed"},
]
BOUNDED = Limits(routing_timeout_seconds=1, retry_min_seconds=5, retry_max_seconds=5, drain_backlog_max=1)


async def _until_drain_waits(api: httpx.AsyncClient) -> dict[str, Any]:
    for _ in range(200):
        routing: dict[str, Any] = (await api.get("/v1/status")).json()["routing"]
        if routing["drain_backlog"] >= 1:
            return routing
        await asyncio.sleep(0.05)
    raise AssertionError("the journey's start never waited in the drain")


async def test_a_full_drain_backlog_is_answered_503_and_stores_nothing_new(store: Store, bundle: ir.Bundle) -> None:
    app = create_app(settings(), store, bundle, await offline_starter(store), BOUNDED)
    async with http(app) as api:
        first = await api.post("/v1/events", content="\n".join(json.dumps(o) for o in SIGNUP))
        routing = await _until_drain_waits(api)
        refused = await api.post("/v1/events", json={"id": "gx-1", "account": "globex", "traits": {"name": "G"}})
        health = (await api.get("/healthz")).json()
    assert first.status_code == 202
    assert routing["drain_backlog_full"] is True and routing["drain_backlog_max"] == 1
    assert refused.status_code == 503
    assert refused.headers["retry-after"].isdigit()
    body = refused.json()
    assert body["error"] == "drain backlog full" and body["drain_backlog"] >= 1
    assert "PLAYBOOK_API_DRAIN_BACKLOG_MAX" in body["detail"] and "nothing stored before is lost" in body["detail"]
    assert health["routing"]["drain_backlog_full"] is True
    assert "globex" not in store.account_ids()
    assert [name for name, _, _ in store.events_until("techcorp", datetime.now(UTC))] == ["signed"]


async def test_below_the_drain_bound_ingestion_takes_batches_while_temporal_is_down(
        store: Store, bundle: ir.Bundle) -> None:
    limits = Limits(routing_timeout_seconds=1, retry_min_seconds=5, retry_max_seconds=5, drain_backlog_max=10)
    app = create_app(settings(), store, bundle, await offline_starter(store), limits)
    async with http(app) as api:
        await api.post("/v1/events", content="\n".join(json.dumps(o) for o in SIGNUP))
        routing = await _until_drain_waits(api)
        taken = await api.post("/v1/events", json={"id": "gx-1", "account": "globex", "traits": {"name": "G"}})
    assert routing["drain_backlog_full"] is False
    assert taken.status_code == 202
    assert "globex" in store.account_ids()

