"""The outcomes pages: retention with its curves and cohorts, a playbook's impact, and the renewal
forecast with what is at risk and why, read from a generated year of history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dsl import ir
from engine.store import Store
from tests.dashboard.conftest import dashboard, sign_in
from tests.outcome_history import generate_year


async def test_the_retention_page_shows_the_figures_curves_cohorts_and_impact(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    generate_year(store, accounts=300, start=datetime.now(UTC) - timedelta(days=365))
    async with dashboard(store, bundle, tmp_path) as client:
        signed_out = await client.get("/outcomes")
        await sign_in(client)
        page = await client.get("/outcomes", params={"by": "band", "playbook": "renewal"})
        bad = await client.get("/outcomes", params={"since": "soon"})
        unknown = await client.get("/outcomes", params={"playbook": "nope"})
    assert signed_out.status_code == 303
    assert page.status_code == 200, page.text
    text = page.text
    assert "Net revenue retention" in text and 'data-chart="nrr"' in text and 'data-chart="grr"' in text
    assert 'data-cohort="all"' in text and 'data-cohort="green"' in text and 'data-cohort="red"' in text
    assert "<polyline" in text and 'data-cohort="arm 90 days before renewal_date/0: call"' in text
    assert bad.status_code == 400 and unknown.status_code == 404


async def test_the_forecast_page_answers_what_renews_and_what_is_at_risk(
        store: Store, bundle: ir.Bundle, tmp_path: Path) -> None:
    generate_year(store, accounts=300, start=datetime.now(UTC) - timedelta(days=365))
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = await client.get("/outcomes/forecast")
        far = await client.get("/outcomes/forecast", params={"days": "0"})
    assert page.status_code == 200, page.text
    text = page.text
    assert "expected to renew in the next 90 days" in text and "at risk in the next 180 days" in text
    assert 'data-chart="months"' in text and 'data-band="red"' in text
    assert "past renewals of red accounts renewed" in text  # an at-risk renewal's reason
    assert far.status_code == 400
