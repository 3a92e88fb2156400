"""Size limits answer 413 before anything is stored; an unexpected failure is a JSON 500 with an id."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from dsl import ir
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.api.conftest import AUTH, http, offline_starter, settings
from tests.api.conftest import offline_api as api_for

SMALL = Limits(max_body_bytes=2_000, max_line_bytes=500, routing_timeout_seconds=2)


async def test_a_body_over_the_size_limit_is_refused_with_413_and_nothing_is_stored(
        store: Store, bundle: ir.Bundle) -> None:
    lines = "\n".join(json.dumps({"id": f"e-{n}", "account": f"a-{n}", "traits": {"name": "x" * 50}})
                      for n in range(40))
    assert len(lines) > SMALL.max_body_bytes
    async with api_for(store, bundle, limits=SMALL) as api:
        response = await api.post("/v1/events", content=lines)
    assert response.status_code == 413
    assert response.json()["error"] == "payload too large"
    assert "nothing was stored" in response.json()["detail"]
    assert store.account_ids() == []


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit(store: Store, bundle: ir.Bundle) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for n in range(40):
            yield (json.dumps({"id": f"e-{n}", "account": f"a-{n}", "traits": {"name": "x" * 50}}) + "\n").encode()

    async with api_for(store, bundle, limits=SMALL) as api:
        response = await api.post("/v1/events", content=chunks())
    assert response.status_code == 413
    assert store.account_ids() == []


async def test_one_event_over_the_line_limit_refuses_the_whole_batch(store: Store, bundle: ir.Bundle) -> None:
    body = "\n".join([json.dumps({"id": "small", "account": "acme", "traits": {"name": "Acme"}}),
                      json.dumps({"id": "big", "account": "acme", "traits": {"notes": "n" * 600}})])
    async with api_for(store, bundle, limits=SMALL) as api:
        response = await api.post("/v1/events", content=body)
    assert response.status_code == 413
    assert "line 2" in response.json()["detail"]
    assert store.account_ids() == []


async def test_a_413_lists_every_event_over_the_line_limit_so_a_client_can_drop_them_at_once(
        store: Store, bundle: ir.Bundle) -> None:
    big = {"account": "acme", "traits": {"notes": "n" * 600}}
    body = "\n".join(json.dumps({**big, "id": f"e-{n}"} if n in (2, 4) else {"id": f"e-{n}", "account": "acme",
                                                                             "traits": {"name": "Acme"}})
                     for n in range(1, 6))
    async with api_for(store, bundle, limits=SMALL) as api:
        response = await api.post("/v1/events", content=body)
    assert response.status_code == 413
    answer = response.json()
    assert [item["line"] for item in answer["oversize"]] == [2, 4]
    assert all(item["bytes"] > SMALL.max_line_bytes for item in answer["oversize"])
    assert answer["limit_bytes"] == SMALL.max_line_bytes  # a client reads the limit, not the sentence
    assert answer["detail"].startswith("line 2 is ")
    assert store.account_ids() == []


async def test_the_default_limits_are_5_mb_per_body_and_64_kb_per_line() -> None:
    limits = Limits.from_settings(settings())
    assert (limits.max_body_bytes, limits.max_line_bytes) == (5 * 1024 * 1024, 64 * 1024)


async def test_an_unexpected_error_is_a_json_500_with_an_id_and_no_traceback(
        store: Store, bundle: ir.Bundle, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(settings(), store, bundle, await offline_starter(store), SMALL)

    @app.get("/v1/broken")
    async def broken() -> None:
        raise RuntimeError("secret internals")

    async with http(app, AUTH) as api:
        response = await api.get("/v1/broken")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal error"
    assert body["id"] in body["detail"]
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert body["id"] in caplog.text


async def test_unknown_paths_and_bad_query_values_answer_json_errors(store: Store, bundle: ir.Bundle) -> None:
    async with api_for(store, bundle) as api:
        missing = await api.get("/v1/nothing-here")
        bad_status = await api.get("/v1/tasks", params={"status": "maybe"})
        bad_since = await api.get("/v1/log", params={"since": "last tuesday"})
    assert missing.status_code == 404
    assert missing.json()["error"] == "not found"
    assert bad_status.status_code == 422
    assert bad_status.json()["error"] == "invalid request"
    assert bad_status.json()["detail"][0]["where"] == "query.status"
    assert bad_since.status_code == 400
    assert "since" in bad_since.json()["detail"]
