"""The dashboard against a real SQLite store and the standard library of playbooks.

`dashboard(...)` is the API's app (with its dashboard) behind an httpx client that keeps cookies
and does not follow redirects, so a test sees each answer; `sign_in` posts the token like the
form does. The fixtures `store` and `bundle` are the root conftest's.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from dsl import ir
from engine.settings import Settings
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.api.conftest import UNSUBSCRIBE_SECRET, offline_starter

__all__ = ["TOKEN", "dashboard", "form_token_of", "sign_in"]

TOKEN = "dashboard-test-token"


def dashboard_settings(state_dir: Path, token: str | None = TOKEN) -> Settings:
    return Settings(api_token=token, unsubscribe_secret=UNSUBSCRIBE_SECRET, public_url="http://dash.test",
                    state_dir=state_dir)


@asynccontextmanager
async def dashboard(store: Store, bundle: ir.Bundle, state_dir: Path, *, token: str | None = TOKEN,
                    limits: Limits | None = None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dashboard_settings(state_dir, token), store, bundle, await offline_starter(store),
                     limits or Limits(routing_timeout_seconds=2))
    async with (app.router.lifespan_context(app),  # the background router starts and stops with the app
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dash.test",
                                  follow_redirects=False) as client):
        yield client


async def sign_in(client: httpx.AsyncClient, token: str = TOKEN, next: str = "/") -> httpx.Response:
    return await client.post("/signin", data={"token": token, "next": next})


def form_token_of(page: str) -> str:
    match = re.search(r'name="form_token" value="([^"]*)"', page)
    assert match is not None, "the page has no form with a form token"
    return match.group(1)
