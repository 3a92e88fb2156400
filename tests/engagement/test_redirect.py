"""`GET /e/c/<token>` and `GET /e/o/<token>`: a click redirects to the link that was in the message
and is stored as `email_clicked`, an open answers the pixel and is stored as `email_opened`; any
other token is refused with its reason and never redirects; the events each message stores are
bounded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from activities.tracked_links import Tracking
from activities.tracking_tokens import click_token, message_ref, open_token
from dsl import ir
from engine.settings import Settings
from engine.store import Store
from engine.store.engagement import MAX_EVENTS_PER_HOUR
from server.api.engagement import PIXEL
from server.api.limits import Limits
from server.app import create_app
from tests.engagement.conftest import BASE, KEY, SECRET, send
from tests.live_api import asgi, offline_starter

REF = message_ref(SECRET, KEY)
SLOT = "https://calendar.acme.example/qbr?account=oak&week=2"


def _settings(days: int = 180) -> Settings:
    return Settings(api_token="api-token", track_engagement=True, tracking_url=BASE,
                    tracking_secret=SECRET, tracking_days=days, unsubscribe_secret="u")


@pytest_asyncio.fixture
async def api(store: Store, bundle: ir.Bundle) -> AsyncIterator[httpx.AsyncClient]:
    await send(store, bundle, datetime.now(UTC) - timedelta(days=2), tracking=Tracking(BASE, SECRET))
    app = create_app(_settings(), store, bundle, await offline_starter(store), Limits(routing_timeout_seconds=2))
    async with asgi(app) as client:  # no API token: these are links in email
        yield client


def _engagement(store: Store) -> list[tuple[str, dict[str, object]]]:
    events = store.events_until("oak", datetime.now(UTC) + timedelta(minutes=1), {"email_clicked", "email_opened"})
    return [(name, data) for name, _, data in events]


async def test_a_click_redirects_to_the_link_of_the_message_and_is_stored_as_email_clicked(
        api: httpx.AsyncClient, store: Store) -> None:
    response = await api.get(f"/e/c/{click_token(SECRET, REF, 0)}", params={"url": "https://evil.example"})
    assert response.status_code == 302
    assert response.headers["location"] == SLOT  # the stored link, whatever the query says
    assert "no-store" in response.headers["cache-control"]
    assert _engagement(store) == [("email_clicked", {"template": "qbr_invite", "url": SLOT, "key": KEY})]


async def test_an_open_answers_a_transparent_pixel_and_is_stored_as_email_opened(
        api: httpx.AsyncClient, store: Store) -> None:
    response = await api.get(f"/e/o/{open_token(SECRET, REF)}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif" and response.content == PIXEL
    assert _engagement(store) == [("email_opened", {"template": "qbr_invite", "key": KEY})]


async def test_a_token_the_engine_did_not_write_for_this_link_is_refused_with_its_reason_and_no_redirect(
        api: httpx.AsyncClient, store: Store) -> None:
    token = click_token(SECRET, REF, 0)
    cases = {
        token[:-1] + ("0" if token[-1] != "0" else "1"): (400, "signature does not match"),  # altered
        click_token("another-secret", REF, 0): (400, "signature does not match"),
        open_token(SECRET, REF): (400, "for an open, not a click"),
        "x" * 500: (400, "longer than"),
        "not-a-token": (400, "malformed"),
        click_token(SECRET, REF, 7): (404, "has no link 7"),  # signed, but the message has two links
        click_token(SECRET, message_ref(SECRET, "journey/other/oak/r/entry/0"), 0): (404, "no message"),
    }
    for bad, (status, reason) in cases.items():
        response = await api.get(f"/e/c/{bad}")
        assert response.status_code == status, (bad, response.text)
        assert "location" not in response.headers
        assert reason in response.json()["detail"], response.json()
    assert _engagement(store) == []


async def test_a_link_past_its_days_is_refused(store: Store, bundle: ir.Bundle) -> None:
    await send(store, bundle, datetime.now(UTC) - timedelta(days=3), tracking=Tracking(BASE, SECRET))
    app = create_app(_settings(days=1), store, bundle, await offline_starter(store), Limits(routing_timeout_seconds=2))
    async with asgi(app) as client:
        response = await client.get(f"/e/c/{click_token(SECRET, REF, 0)}")
    assert response.status_code == 404 and "expired" in response.json()["detail"]
    assert _engagement(store) == []


async def test_the_events_a_message_stores_are_bounded_and_the_link_still_works_past_the_bound(
        api: httpx.AsyncClient, store: Store) -> None:
    token = click_token(SECRET, REF, 1)
    answers = [await api.get(f"/e/c/{token}") for _ in range(MAX_EVENTS_PER_HOUR + 5)]
    assert {answer.status_code for answer in answers} == {302}
    assert {answer.headers["location"] for answer in answers} == {"https://docs.acme.example/agenda"}
    assert len(_engagement(store)) == MAX_EVENTS_PER_HOUR


async def test_the_routes_are_in_the_openapi_document(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert "/e/c/{token}" in paths and "/e/o/{token}" in paths


async def test_the_api_warns_when_tracked_links_would_point_at_a_local_address(
        store: Store, bundle: ir.Bundle, caplog: pytest.LogCaptureFixture) -> None:
    create_app(Settings(api_token="t", track_engagement=True), store, bundle, await offline_starter(store))
    assert "neither PLAYBOOK_TRACKING_URL nor PLAYBOOK_PUBLIC_URL is set" in caplog.text
    caplog.clear()
    create_app(_settings(), store, bundle, await offline_starter(store))
    assert "PLAYBOOK_TRACKING_URL" not in caplog.text
