"""`playbook outcomes`: the same figures from the API and from the store, readable or as JSON, and
one-line errors for bad options."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.main import main
from dsl import ir
from engine.settings import Settings
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.live_api import offline_starter, served
from tests.outcome_history import generate_year

TOKEN = "outcomes-cli-token"
ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = str(ROOT / "playbooks")


async def playbook(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_the_api_and_the_store_give_the_same_retention(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    year = generate_year(store, accounts=150, start=datetime.now(UTC) - timedelta(days=365))
    window = ["--since", year.start.date().isoformat(), "--until", "2026-11-01", "--by", "segment", "--json"]
    settings = Settings(api_token=TOKEN, unsubscribe_secret="outcomes-secret", public_url="http://api.test")
    app = create_app(settings, store, bundle, await offline_starter(store), Limits(routing_timeout_seconds=2))
    async with served(app) as url:
        over_api = await playbook("outcomes", *window, "--url", url, "--token", TOKEN)
        from_api = json.loads(capsys.readouterr().out)
        forecast = await playbook("outcomes", "--forecast", "--days", "90", "--url", url, "--token", TOKEN)
        forecast_text = capsys.readouterr().out
    direct = await playbook("outcomes", *window, "--database-url", store.url, "--playbooks", PLAYBOOKS)
    from_store = json.loads(capsys.readouterr().out)
    table = await playbook("outcomes", "--by", "band", "--database-url", store.url, "--playbooks", PLAYBOOKS)
    table_text = capsys.readouterr().out
    impact = await playbook("outcomes", "--impact", "renewal", "--database-url", store.url, "--playbooks", PLAYBOOKS)
    impact_text = capsys.readouterr().out
    assert (over_api, forecast, direct, table, impact) == (0, 0, 0, 0, 0)
    from_api.pop("as_of"), from_store.pop("as_of")
    assert from_api == from_store and from_api["total"]["accounts"] > 0
    assert "renewal forecast as of" in forecast_text and "calibration per band:" in forecast_text
    assert "next 90 days:" in forecast_text
    lines = table_text.splitlines()
    assert "NRR" in lines[2] and any(line.lstrip().startswith("red ") for line in lines)
    assert "impact of renewal" in impact_text and "arm 90 days before renewal_date/0: call" in impact_text


@pytest.mark.parametrize(("argv", "error"), [
    (["--since", "soon"], "--since: expected an ISO date"),
    (["--since", "2026-05-01", "--until", "2026-04-01"], "the window's start must come before its end"),
    (["--since", "1200-01-01"], "between the years 1900 and 2200"),
    (["--since", "2000-01-01", "--until", "2026-01-01"], "a window spans at most 3660 days"),
    (["--forecast", "--impact", "renewal"], "--forecast and --impact are two reports"),
    (["--impact", "nope"], "no playbook 'nope' in"),
])
def test_bad_options_are_one_line_errors(store: Store, capsys: pytest.CaptureFixture[str], argv: list[str],
                                         error: str) -> None:
    assert main(["outcomes", *argv, "--database-url", store.url, "--playbooks", PLAYBOOKS]) == 2
    captured = capsys.readouterr()
    assert error in captured.err and "Traceback" not in captured.err
