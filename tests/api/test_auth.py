"""Everything but the health check, the docs and the unsubscribe link needs the API token."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from dsl import ir
from engine.store import Store
from tests.api.conftest import TOKEN, offline_api

TRAITS = json.dumps({"id": "t-1", "account": "techcorp", "traits": {"name": "TechCorp", "segment": "mid_market"}})


async def test_events_without_a_token_are_refused_with_401_and_nothing_is_stored(
        store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle, headers={}) as api:
        response = await api.post("/v1/events", content=TRAITS)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "Bearer" in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert store.account_ids() == []


async def test_a_wrong_token_is_refused_on_every_protected_endpoint(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle, headers={"Authorization": "Bearer nope"}) as api:
        answers = [await api.post("/v1/events", content=TRAITS), await api.get("/v1/accounts"),
                   await api.get("/v1/tasks"), await api.get("/v1/log"),
                   await api.post("/v1/tasks/x/complete")]
    assert [a.status_code for a in answers] == [401] * 5
    assert {a.json()["detail"] for a in answers} == {"the API token is not valid"}
    assert store.account_ids() == []


async def test_the_right_token_is_accepted(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle) as api:
        response = await api.post("/v1/events", content=TRAITS)
    assert response.status_code == 202
    assert store.account_ids() == ["techcorp"]


async def test_without_a_configured_token_every_request_is_accepted(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle, token=None, headers={}) as api:
        response = await api.post("/v1/events", content=TRAITS)
    assert response.status_code == 202


async def test_health_check_and_openapi_document_need_no_token(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle, headers={}) as api:
        health = await api.get("/healthz")
        document = await api.get("/openapi.json")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert document.status_code == 200
    paths = document.json()["paths"]
    for path in ("/v1/events", "/v1/track", "/v1/batch", "/v1/accounts", "/v1/accounts/{account}", "/v1/tasks",
                 "/v1/tasks/{task_id}/complete", "/v1/log", "/v1/unsubscribe"):
        assert path in paths, path


async def test_segment_endpoints_take_the_write_key_as_basic_auth_username(store: Store, bundle: ir.Bundle) -> None:
    call = {"type": "group", "groupId": "techcorp", "traits": {"name": "TechCorp"}, "messageId": "m-1"}

    def basic(user: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:".encode()).decode()}

    async with offline_api(store, bundle, headers={}) as api:
        wrong = await api.post("/v1/group", json=call, headers=basic("not-the-key"))
        assert wrong.status_code == 401
        assert store.account_ids() == []
        right = await api.post("/v1/group", json=call, headers=basic(TOKEN))
    assert right.status_code == 200
    assert right.json()["success"] is True
    assert store.current_fields("techcorp") == {"name": "TechCorp"}


async def test_without_a_configured_token_the_startup_log_says_every_request_is_accepted(
        store: Store, bundle: ir.Bundle, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="playbook.api"):
        async with offline_api(store, bundle, token=None):
            pass
    assert "no API token is configured" in caplog.text
    assert "accepts every request" in caplog.text
