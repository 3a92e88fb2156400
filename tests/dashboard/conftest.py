"""The dashboard against a real SQLite store and the standard library of playbooks.

`dashboard(...)` is the API's app (with its dashboard) behind an httpx client that keeps cookies
and does not follow redirects, so a test sees each answer; `sign_in` posts the token like the
form does. The fixtures `store` and `bundle` are the root conftest's.

The browser tests share `Served`: an app served by uvicorn on a free port of 127.0.0.1, on a thread
of its own, with whatever it needs while it serves (a Temporal server and a worker); and the
browser's place (`CHROMIUM`, skipped without it but in CI) and the screenshots' folder.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from dsl import ir
from engine.settings import Settings
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.api.conftest import UNSUBSCRIBE_SECRET, offline_starter

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "PAGE_TIMEOUT_MS", "TOKEN", "Served", "browser_or_skip", "dashboard",
           "form_token_of", "screenshots", "sign_in"]

TOKEN = "dashboard-test-token"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS_VARIABLE = "PLAYBOOK_DASHBOARD_SCREENSHOTS"
PAGE_TIMEOUT_MS = 60_000


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


def browser_or_skip() -> None:
    """Skip without a browser, with the reason; in CI a missing browser fails the test instead."""
    reason = None
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: run `bash .ci/chromium.sh` (Debian's chromium from apt)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is missing: pip install -e '.[dev]'"
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


def screenshots(tmp_path: Path) -> Path:
    """Where the browser tests save their screenshots: `$PLAYBOOK_DASHBOARD_SCREENSHOTS`, else tmp_path."""
    folder = Path(os.environ[SCREENSHOTS_VARIABLE]) if os.environ.get(SCREENSHOTS_VARIABLE) else tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _free_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class Served:
    """An app served by uvicorn on a free port of 127.0.0.1, on a thread of its own.

    `app_of(url)` runs on that thread: an async context that yields the ASGI app and holds, while
    the app serves, what it needs (a time-skipping Temporal server and a worker, or nothing)."""

    def __init__(self, app_of: Callable[[str], AbstractAsyncContextManager[Any]], *, start_seconds: float,
                 name: str) -> None:
        self.app_of, self.start_seconds = app_of, start_seconds
        self.socket = _free_socket()
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.server: uvicorn.Server | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # handed to the test's thread, which raises it
            self.error = error
        finally:
            self.ready.set()

    async def _serve(self) -> None:
        async with self.app_of(self.url) as app:
            self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
            serving = asyncio.create_task(self.server.serve(sockets=[self.socket]))
            while not self.server.started and not serving.done():
                await asyncio.sleep(0.05)
            self.ready.set()
            await serving

    def __enter__(self) -> Served:
        self.thread.start()
        if not self.ready.wait(self.start_seconds):
            raise AssertionError(f"the app did not start within {self.start_seconds:g} s")
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *_: object) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.thread.join(60)
        self.socket.close()
        if self.error is not None:
            raise self.error
        assert not self.thread.is_alive(), "the app did not stop"
