"""The outcomes pages in a real browser (Debian's Chromium driven by Playwright): a CS leader signs in,
opens Outcomes from the menu, reads the retention curves and the cohorts by band, compares the
renewal playbook's arms, then opens the renewal forecast and finds what is at risk and why.

The store holds a generated year of history (`tests.outcome_history`, 400 accounts) ending now,
and the API app (with its dashboard) is served by uvicorn on a free port of 127.0.0.1. Screenshots
go where the other browser test puts them (`$PLAYBOOK_DASHBOARD_SCREENSHOTS`, else the test's
tmp_path). Without Chromium the test is skipped, except in CI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dsl import ir
from engine.settings import Settings
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.api.conftest import UNSUBSCRIBE_SECRET, offline_starter
from tests.dashboard.conftest import CHROMIUM, CHROMIUM_ARGS, PAGE_TIMEOUT_MS, Served, browser_or_skip, screenshots
from tests.outcome_history import generate_year

TOKEN = "outcomes-browser-token"
START_SECONDS = 120.0


def pages_served(store: Store, bundle: ir.Bundle, state_dir: Path) -> Served:
    """The API app with an offline journey starter, served on a thread of its own."""

    @asynccontextmanager
    async def app_of(_url: str) -> AsyncIterator[Any]:
        settings = Settings(api_token=TOKEN, unsubscribe_secret=UNSUBSCRIBE_SECRET, state_dir=state_dir)
        yield create_app(settings, store, bundle, await offline_starter(store), Limits(routing_timeout_seconds=2))

    return Served(app_of, start_seconds=START_SECONDS, name="outcomes-pages")


@pytest.fixture
def served(store: Store, bundle: ir.Bundle, tmp_path: Path) -> Iterator[Served]:
    browser_or_skip()
    generate_year(store, accounts=400, start=datetime.now(UTC) - timedelta(days=365))
    with pages_served(store, bundle, tmp_path / "state") as running:
        yield running


def test_a_cs_leader_reads_retention_and_what_renews_next_quarter(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = screenshots(tmp_path)
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
