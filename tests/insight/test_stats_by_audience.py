"""`playbook stats --audience NAME` (and the API's `?audience=`): the stats of the accounts in a
named audience now, with how many it holds; an unknown audience is refused with the known ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from engine.insight.analytics import playbook_stats
from engine.store import Store
from simulation.simulate import simulate
from tests.api.conftest import offline_api
from tests.in_app_bundle import in_app_bundle
from tests.stores import sqlite_url

MODEL = """\
account fields:
    name: text
    segment: one of enterprise, smb
    feature_adoption: percent

events:
    signed

audience enterprise_low: segment == "enterprise" and feature_adoption < 30%
"""

PLAYBOOK = """\
playbook nudge "Adoption nudge":
    trigger: event signed

    send in_app low
"""


async def _store_with_journeys(tmp_path: Path, store: Store) -> Path:
    folder = tmp_path / "playbooks"
    bundle = in_app_bundle(folder, MODEL, PLAYBOOK, ("low",))
    at = "2026-03-02T10:00:00Z"
    lines = []
    for account, segment, adoption in (("a", "enterprise", 10), ("b", "enterprise", 50), ("c", "smb", 10),
                                       ("d", "enterprise", 20)):
        lines.append({"account": account, "at": at, "traits": {"name": account, "segment": segment,
                                                              "feature_adoption": adoption}})
        lines.append({"account": account, "at": at, "event": "signed"})
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    await simulate(bundle, events, days=1, store=store)
    return folder


async def test_stats_of_an_audience_count_only_its_accounts(tmp_path: Path, store: Store) -> None:
    folder = await _store_with_journeys(tmp_path, store)
    bundle = in_app_bundle(tmp_path / "again", MODEL, PLAYBOOK, ("low",))
    everyone = playbook_stats(store, bundle, "nudge").playbooks[0]
    audience = playbook_stats(store, bundle, "nudge", audience="enterprise_low")
    assert (everyone.entered, audience.playbooks[0].entered) == (4, 2)
    assert audience.audience_accounts == 2
    assert (folder / "model.play").exists()


async def test_the_api_filters_by_audience_and_refuses_an_unknown_one(tmp_path: Path, store: Store) -> None:
    await _store_with_journeys(tmp_path, store)
    bundle = in_app_bundle(tmp_path / "again", MODEL, PLAYBOOK, ("low",))
    async with offline_api(store, bundle) as client:
        found = await client.get("/v1/playbooks/nudge/stats", params={"audience": "enterprise_low"})
        unknown = await client.get("/v1/stats", params={"audience": "enterprise_hi"})
    assert found.status_code == 200
    assert (found.json()["audience_accounts"], found.json()["playbooks"][0]["entered"]) == (2, 2)
    assert unknown.status_code == 404
    assert "no audience 'enterprise_hi' is deployed (audiences: enterprise_low)" in unknown.text


async def test_the_cli_reads_the_store_by_audience(tmp_path: Path, store: Store,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = await _store_with_journeys(tmp_path, store)
    url = sqlite_url(tmp_path / "store.db")
    code = main(["stats", "nudge", "--audience", "enterprise_low", "--database-url", url, "--playbooks", str(folder)])
    out = capsys.readouterr().out
    assert code == 0 and "accounts in audience enterprise_low now: 2" in out and "entered 2" in out
    assert main(["stats", "--audience", "nobody", "--database-url", url, "--playbooks", str(folder)]) == 2
    assert "no audience 'nobody' in the playbooks (audiences: enterprise_low)" in capsys.readouterr().err
