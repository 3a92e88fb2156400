"""`POST /v1/events` and the Segment endpoints: bad lines are reported, good lines stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dsl import ir
from engine.store import Store
from tests.api.conftest import offline_api


def _lines(*objects: object) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n"


async def test_malformed_lines_are_reported_by_number_and_the_good_lines_are_stored(
        store: Store, bundle: ir.Bundle) -> None:
    body = _lines(
        {"id": "e-1", "account": "acme", "traits": {"name": "Acme", "arr": 1000}},
        "{not json",
        {"id": "e-3", "traits": {"name": "No account"}},
        {"id": "e-4", "account": "acme", "traits": {"arr": "lots"}},
        {"id": "e-5", "account": "acme", "event": "signd"},
        {"id": "e-6", "account": "globex", "traits": {"name": "Globex", "utm_source": "ads"}},
    )
    async with offline_api(store, bundle) as api:
        response = await api.post("/v1/events", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 202
    answer = response.json()
    assert answer["accepted"] == 2
    assert answer["duplicates"] == 0
    rejected = {r["line"]: r["reason"] for r in answer["rejected"]}
    assert sorted(rejected) == [2, 3, 4, 5]
    assert rejected[2].startswith("not JSON")
    assert "account" in rejected[3]
    assert "arr" in rejected[4]
    assert "did you mean 'signed'" in rejected[5]
    assert store.current_fields("acme") == {"name": "Acme", "arr": 1000}
    assert store.current_fields("globex") == {"name": "Globex", "utm_source": "ads"}


async def test_the_same_ids_sent_twice_are_stored_once_and_counted_as_duplicates(
        store: Store, bundle: ir.Bundle) -> None:
    body = [{"id": "e-1", "account": "acme", "traits": {"name": "Acme"}},
            {"id": "e-2", "account": "acme", "traits": {"arr": 5}}]
    async with offline_api(store, bundle) as api:
        first = await api.post("/v1/events", json=body)
        second = await api.post("/v1/events", json=body)
    assert first.json() == {"accepted": 2, "duplicates": 0, "backfill": 0, "rejected": []}
    assert second.json() == {"accepted": 0, "duplicates": 2, "backfill": 0, "rejected": []}


async def test_one_json_object_is_a_batch_of_one(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle) as api:
        response = await api.post("/v1/events", json={"account": "acme", "traits": {"name": "Acme"}})
    assert response.status_code == 202
    assert response.json()["accepted"] == 1


async def test_an_empty_body_is_a_400_with_a_reason(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle) as api:
        response = await api.post("/v1/events", content=b"  \n")
    assert response.status_code == 400
    assert response.json() == {"error": "bad request", "detail": response.json()["detail"]}
    assert "empty" in response.json()["detail"]


async def test_a_body_that_is_not_utf8_is_a_400(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle) as api:
        response = await api.post("/v1/events", content=b'{"account": "\xff"}')
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]
    assert store.account_ids() == []


async def test_a_body_of_only_bad_lines_is_accepted_as_a_batch_with_every_line_rejected(
        store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle) as api:
        response = await api.post("/v1/events", content="1\n[2]\n")
    assert response.status_code == 202
    assert [r["line"] for r in response.json()["rejected"]] == [1, 2]


async def test_segment_track_with_group_id_becomes_an_event_of_the_account(store: Store, bundle: ir.Bundle) -> None:
    call = {"event": "login", "context": {"groupId": "acme"}, "userId": "u-1", "messageId": "m-1",
            "timestamp": "2026-01-05T09:00:00Z", "properties": {"browser": "firefox"}}
    async with offline_api(store, bundle) as api:
        response = await api.post("/v1/track", json=call)
        again = await api.post("/v1/track", json=call)
    assert response.status_code == 200
    # dated January, arriving now: stored as history (older than the trigger horizon)
    assert response.json() == {"success": True, "accepted": 1, "duplicates": 0, "backfill": 1, "rejected": []}
    assert again.json()["duplicates"] == 1
    events = store.events_until("acme", datetime(2026, 2, 1, tzinfo=UTC))
    assert [(name, data) for name, _, data in events] == [("login", {"browser": "firefox"})]


async def test_segment_identify_and_a_batch_update_account_traits(store: Store, bundle: ir.Bundle) -> None:
    batch = {"batch": [
        {"type": "group", "groupId": "acme", "traits": {"name": "Acme", "segment": "smb"}, "messageId": "b-1"},
        {"type": "identify", "userId": "u-1", "traits": {"groupId": "acme", "dau_pct": 40}, "messageId": "b-2"},
        {"type": "page", "name": "Home", "messageId": "b-3"},
        {"type": "track", "event": "login", "messageId": "b-4"},
    ], "context": {"library": {"name": "analytics-node"}}}
    async with offline_api(store, bundle) as api:
        response = await api.post("/v1/batch", json=batch)
        identify = await api.post("/v1/identify", json={"traits": {"account": "acme", "nps": 9},
                                                         "messageId": "i-1"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 2
    assert [r["line"] for r in answer["rejected"]] == [3, 4]
    assert "page" in answer["rejected"][0]["reason"]
    assert "groupId" in answer["rejected"][1]["reason"]
    assert identify.json()["accepted"] == 1
    assert store.current_fields("acme") == {"name": "Acme", "segment": "smb", "dau_pct": 40, "nps": 9}


async def test_a_segment_call_of_another_type_than_its_endpoint_is_rejected(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle) as api:
        response = await api.post("/v1/track", json={"type": "group", "groupId": "acme", "traits": {"name": "A"}})
    assert response.json()["rejected"] == [{"line": 1, "reason": "a 'group' call sent to /v1/track"}]
    assert store.account_ids() == []
