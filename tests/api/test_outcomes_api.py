"""`GET /v1/outcomes`, `/v1/outcomes/forecast` and `/v1/outcomes/impact/{playbook}` answer the figures
the engine computes, refuse bad parameters with a reason, and are in the OpenAPI document."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dsl import ir
from engine.insight import outcomes_cache, outcomes_ledger
from engine.insight.outcomes import outcomes
from engine.store import Store
from tests.api.conftest import offline_api
from tests.outcome_history import generate_year


async def test_the_outcomes_answer_the_figures_of_the_history(store: Store, bundle: ir.Bundle) -> None:
    year = generate_year(store, accounts=200, start=datetime.now(UTC) - timedelta(days=365))
    async with offline_api(store, bundle) as client:
        retention = await client.get("/v1/outcomes", params={"since": year.start.date().isoformat(),
                                                             "until": "2026-10-01", "by": "segment"})
        renewals = await client.get("/v1/outcomes/forecast", params={"days": "90"})
        risky = await client.get("/v1/outcomes/forecast", params={"at_risk": "true", "limit": "2"})
        impact = await client.get("/v1/outcomes/impact/renewal")
        schema = (await client.get("/openapi.json")).json()
    assert retention.status_code == 200, retention.text
    body = retention.json()
    expected = outcomes(store, "health", datetime.fromisoformat(year.start.date().isoformat()).replace(tzinfo=UTC),
                        datetime(2026, 10, 1, tzinfo=UTC), "segment")
    assert body["total"] == expected.total.model_dump(mode="json")
    assert {group["group"] for group in body["groups"]} <= {"enterprise", "mid_market", "smb"}
    assert body["curves"][0]["group"] == "all" and body["curves"][0]["points"]
    assert renewals.status_code == 200 and [w["days"] for w in renewals.json()["windows"]] == [90]
    assert all(r["days"] < 90 for r in renewals.json()["renewals"])
    assert renewals.json()["renewals_total"] == len(renewals.json()["renewals"])
    assert len(risky.json()["renewals"]) == 2 and all(r["at_risk"] for r in risky.json()["renewals"])
    assert risky.json()["renewals_total"] == risky.json()["windows"][-1]["at_risk"]
    assert [band["band"] for band in renewals.json()["calibration"]] == ["green", "yellow", "red", "unscored"]
    assert impact.status_code == 200 and impact.json()["rows"][0]["cohort"] == "all"
    assert {"/v1/outcomes", "/v1/outcomes/forecast", "/v1/outcomes/impact/{playbook}"} <= set(schema["paths"])


async def test_bad_parameters_are_refused_with_the_reason(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle) as client:
        bad_date = await client.get("/v1/outcomes", params={"until": "yesterday"})
        bad_group = await client.get("/v1/outcomes", params={"by": "planet"})
        empty = await client.get("/v1/outcomes", params={"since": "2026-05-01", "until": "2026-04-01"})
        far = await client.get("/v1/outcomes/forecast", params={"days": "9999"})
        ancient = await client.get("/v1/outcomes", params={"since": "0001-01-01T00:00:00+14:00"})
        decades = await client.get("/v1/outcomes", params={"since": "1950-01-01", "until": "2100-01-01"})
        unknown = await client.get("/v1/outcomes/impact/nope")
    assert bad_date.status_code == 400 and "until: expected an ISO date" in bad_date.text
    assert bad_group.status_code == 400 and "by: expected one of segment" in bad_group.text
    assert empty.status_code == 400 and "must come before its end" in empty.text
    assert far.status_code == 422
    assert ancient.status_code == 400 and "between the years 1900 and 2200" in ancient.text
    assert decades.status_code == 400 and "at most 3660 days" in decades.text
    assert unknown.status_code == 404 and "no playbook 'nope'" in unknown.text


async def test_the_outcomes_need_the_token(store: Store, bundle: ir.Bundle) -> None:
    async with offline_api(store, bundle, headers={}) as client:
        assert (await client.get("/v1/outcomes")).status_code == 401


async def test_while_the_history_is_read_for_the_first_time_the_answer_is_503_then_the_figures(
        store: Store, bundle: ir.Bundle, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    reading = outcomes_ledger.read_ledger

    def slow(*args: Any) -> outcomes_ledger.Ledger:
        release.wait(60)
        return reading(*args)

    monkeypatch.setattr(outcomes_ledger, "read_ledger", slow)
    monkeypatch.setattr(outcomes_cache, "FIRST_READ_SECONDS", 0.0)
    async with offline_api(store, bundle) as client:
        busy = await client.get("/v1/outcomes")
        release.set()
        for thread in threading.enumerate():
            if thread.name == "outcomes-ledger":
                thread.join()
        ready = await client.get("/v1/outcomes")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "10"
    assert "being read for the first time" in busy.text
    assert ready.status_code == 200
