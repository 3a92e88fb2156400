"""Lines that no store may keep, or that would hold an account still, are rejected one by one with
the place and the reason; the good lines of the same batch are stored. On SQLite and, when
`PLAYBOOK_TEST_POSTGRES_URL` is set, on PostgreSQL, through the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dsl import ir
from engine.store import Store
from tests.bad_input.conftest import NDJSON, asgi_client, offline_app

GOOD = {"id": "good-1", "account": "acme", "traits": {"name": "Acme"}}
GOOD_LAST = {"id": "good-2", "account": "globex", "event": "login"}


def _far(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    "NUL in the account id": ({"id": "h", "account": "ac\u0000me", "traits": {"name": "x"}}, "'account' holds a NUL"),
    "NUL in a trait value": ({"id": "h", "account": "acme", "traits": {"name": "A\u0000"}}, "trait 'name' holds a NUL"),
    "NUL in a trait name": ({"id": "h", "account": "acme", "traits": {"na\u0000me": "A"}}, "holds a NUL"),
    "NUL in the event id": ({"id": "h\u0000", "account": "acme", "event": "login"}, "'id' holds a NUL"),
    "NUL deep in an undeclared value": ({"id": "h", "account": "acme", "traits": {"x": {"y": ["\u0000"]}}},
                                        "holds a NUL"),
    "a lone surrogate": ({"id": "h", "account": "acme", "traits": {"name": "\ud800"}}, "lone surrogate"),
    "dated 9999-12-31": ({"id": "h", "account": "acme", "at": "9999-12-31T00:00:00Z", "traits": {"name": "x"}},
                         "more than 1 hour ahead"),
    "dated tomorrow": ({"id": "h", "account": "acme", "at": _far(1), "traits": {"name": "x"}},
                       "more than 1 hour ahead"),
    "dated year 1": ({"id": "h", "account": "acme", "at": "0001-01-01T00:00:00Z", "traits": {"name": "x"}},
                     "before 1970-01-01"),
    "a right-to-left override in the account": ({"id": "h", "account": "acme\u202e", "traits": {"name": "x"}},
                                                "RIGHT-TO-LEFT OVERRIDE"),
    "a zero-width space in the account": ({"id": "h", "account": "ac\u200bme", "traits": {"name": "x"}},
                                          "ZERO WIDTH SPACE"),
    "a control character in the event id": ({"id": "h\u0007", "account": "acme", "event": "login"}, "U+0007"),
    "an unknown time zone": ({"id": "h", "account": "acme", "traits": {"timezone": "Mars/Olympus"}},
                             "not an IANA time zone"),
    "a path for a time zone": ({"id": "h", "account": "acme", "traits": {"timezone": "../../etc/passwd"}},
                               "not an IANA time zone"),
    "the server's own zone": ({"id": "h", "account": "acme", "traits": {"timezone": "localtime"}},
                              "not an IANA time zone"),
    "nested 40 deep": ({"id": "h", "account": "acme", "traits": {"x": json.loads("[" * 40 + "]" * 40)}},
                       "nested deeper than 32"),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    yield request.getfixturevalue("store" if request.param == "sqlite" else "pg_store")


def _lines(*objects: dict[str, Any]) -> str:
    return "\n".join(json.dumps(obj) for obj in objects) + "\n"


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_a_hostile_line_is_rejected_with_its_reason_and_the_rest_of_the_batch_is_stored(
        any_store: Store, minimal_bundle: ir.Bundle, name: str) -> None:
    hostile, reason = HOSTILE[name]
    async with asgi_client(await offline_app(any_store, minimal_bundle)) as api:
        response = await api.post("/v1/events", content=_lines(GOOD, hostile, GOOD_LAST), headers=NDJSON)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == 2
    [rejected] = answer["rejected"]
    assert rejected["line"] == 2 and reason in rejected["reason"], rejected
    assert any_store.current_fields("acme").get("name") == "Acme"
    assert "globex" in any_store.account_ids()


async def test_a_line_nested_five_thousand_deep_is_rejected_and_the_rest_is_stored(
        any_store: Store, minimal_bundle: ir.Bundle) -> None:
    deep = '{"id": "h", "account": "acme", "traits": {"x": ' + "[" * 5000 + "]" * 5000 + "}}"
    body = json.dumps(GOOD) + "\n" + deep + "\n" + json.dumps(GOOD_LAST) + "\n"
    async with asgi_client(await offline_app(any_store, minimal_bundle)) as api:
        response = await api.post("/v1/events", content=body, headers=NDJSON)
        segment = await api.post("/v1/batch", content='{"batch": ' + "[" * 5000 + "]" * 5000 + "}",
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 2
    assert response.json()["rejected"] == [{"line": 2, "reason": "not JSON: nested too deep"}]
    assert segment.status_code == 400 and "nested too deep" in segment.text


async def test_a_clock_a_little_ahead_is_accepted(store: Store, minimal_bundle: ir.Bundle) -> None:
    ahead = {"id": "ahead", "account": "acme", "at": _far(1 / 48), "traits": {"name": "Acme"}}
    async with asgi_client(await offline_app(store, minimal_bundle)) as api:
        response = await api.post("/v1/events", content=_lines(ahead), headers=NDJSON)
    assert response.json() == {"accepted": 1, "duplicates": 0, "backfill": 0, "rejected": []}
