"""The outcomes pages in a real browser (Debian's Chromium driven by Playwright): a CS leader signs in,
opens Outcomes from the menu, reads the retention curves and the cohorts by band, compares the
renewal playbook's arms, then opens the renewal forecast and finds what is at risk and why.

The store holds a generated year of history (`tests.outcome_history`, 400 accounts) ending now,
and the API app (with its dashboard) is served by uvicorn on a free port of 127.0.0.1. Screenshots
go where the other browser test puts them (`$PLAYBOOK_DASHBOARD_SCREENSHOTS`, else the test's
tmp_path). Without Chromium the test is skipped, except in CI.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from dsl import ir
from engine.settings import Settings
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.api.conftest import UNSUBSCRIBE_SECRET, offline_starter
from tests.dashboard.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    _browser_or_skip,
    _free_socket,
    _screenshots,
)
from tests.outcome_history import generate_year

TOKEN = "outcomes-browser-token"
START_SECONDS = 120.0


class Served:
    """The API app served by uvicorn on a thread of its own, with an offline journey starter."""

    def __init__(self, store: Store, bundle: ir.Bundle, state_dir: Path) -> None:
        self.store, self.bundle, self.state_dir = store, bundle, state_dir
        self.socket = _free_socket()
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.server: uvicorn.Server | None = None
        self.thread = threading.Thread(target=self._run, name="outcomes-pages", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # handed to the test's thread
            self.error = error
        finally:
            self.ready.set()

    async def _serve(self) -> None:
        settings = Settings(api_token=TOKEN, unsubscribe_secret=UNSUBSCRIBE_SECRET, state_dir=self.state_dir)
        app = create_app(settings, self.store, self.bundle, await offline_starter(self.store),
                         Limits(routing_timeout_seconds=2))
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        serving = asyncio.create_task(self.server.serve(sockets=[self.socket]))
        while not self.server.started and not serving.done():
            await asyncio.sleep(0.05)
        self.ready.set()
        await serving

    def __enter__(self) -> Served:
        self.thread.start()
        if not self.ready.wait(START_SECONDS) or self.error is not None:
            raise AssertionError(f"the API did not start: {self.error!r}")
        return self

    def __exit__(self, *_: object) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.thread.join(60)
        self.socket.close()
        assert not self.thread.is_alive(), "the API did not stop"


@pytest.fixture
def served(store: Store, bundle: ir.Bundle, tmp_path: Path) -> Iterator[Served]:
    _browser_or_skip()
    generate_year(store, accounts=400, start=datetime.now(UTC) - timedelta(days=365))
    with Served(store, bundle, tmp_path / "state") as running:
        yield running


def test_a_cs_leader_reads_retention_and_what_renews_next_quarter(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = _screenshots(tmp_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(served.url + "/signin?next=%2Foutcomes")
            page.fill("#token", TOKEN)
            page.click("button[type=submit]")
            page.wait_for_url(served.url + "/outcomes")
            expect(page.locator("h1")).to_have_text("Outcomes")
            expect(page.locator('[data-figure="nrr"] .value')).to_contain_text("%")
            expect(page.locator('svg[data-chart="nrr"] polyline')).to_have_count(4)  # all and three segments
            expect(page.locator('table.cohorts tr[data-cohort="smb"]')).to_be_visible()
            page.screenshot(path=str(shots / "outcomes-01-retention.png"), full_page=True)

            page.select_option("select[name=by]", "band")
            page.locator("form.window button").first.click()
            page.wait_for_url("**/outcomes?*by=band*")
            expect(page.locator('table.cohorts tr[data-cohort="red"]')).to_be_visible()
            page.select_option("select[name=playbook]", "renewal")
            page.get_by_role("button", name="Compare").click()
            expect(page.locator('table.impact tr[data-cohort="all"]')).to_contain_text("points")
            expect(page.locator("table.impact tr")).to_have_count(5)  # the header, all, v1, two arms
            page.screenshot(path=str(shots / "outcomes-02-by-band-and-impact.png"), full_page=True)

            page.get_by_role("link", name="Renewal forecast").click()
            page.wait_for_url(served.url + "/outcomes/forecast")
            expect(page.locator('[data-figure="window-90"]')).to_contain_text("expected to renew in the next 90 days")
            expect(page.locator('svg[data-chart="months"] rect')).not_to_have_count(0)
            first_risk = page.locator("table.at-risk tbody tr").first
            expect(first_risk).to_contain_text("past renewals of red accounts renewed")
            expect(page.locator('table.calibration tr[data-band="green"]')).to_contain_text("history")
            page.screenshot(path=str(shots / "outcomes-03-forecast.png"), full_page=True)
            first_risk.locator("a").first.click()
            page.wait_for_url("**/accounts/acct-*")
        finally:
            browser.close()
    assert sorted(path.name for path in shots.glob("outcomes-*.png")) == [
        "outcomes-01-retention.png", "outcomes-02-by-band-and-impact.png", "outcomes-03-forecast.png"]
