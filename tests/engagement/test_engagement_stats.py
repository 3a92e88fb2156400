"""Open and click rates per send step: each message opened or clicked counts once, whatever the
number of events, in `playbook stats` (text and JSON) and the API's stats route alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activities.tracked_links import Tracking
from cli.commands.stats import report
from dsl import ir
from dsl.project import compile_folder
from engine.insight.analytics import playbook_stats
from engine.settings import Settings
from engine.store import Store
from server.api.limits import Limits
from server.app import create_app
from tests.dashboard.conftest import dashboard, sign_in
from tests.engagement.conftest import BASE, SECRET, send
from tests.live_api import asgi, offline_starter

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)


def _key(account: str) -> str:
    return f"journey/qbr_invite/{account}/run-1/entry/0"


async def _sent_and_engaged(store: Store) -> ir.Bundle:
    """Five invitations sent (oak's to a second recipient too); two opened (one twice), two clicked
    (one twice, and the second recipient's)."""
    compilation = compile_folder(ROOT / "examples" / "cs-playbooks")
    assert compilation.bundle is not None
    bundle = compilation.bundle
    accounts = ["oak", "pine", "elm", "ash"]
    for account in accounts:
        await send(store, bundle, AT, tracking=Tracking(BASE, SECRET), key=_key(account), account=account)
    second = _key("oak") + "/to2"  # the second recipient of the same `send email`
    await send(store, bundle, AT, tracking=Tracking(BASE, SECRET), key=second, account="oak")
    engagement = [("oak", "email_opened", _key("oak")), ("oak", "email_opened", _key("oak")),
                  ("oak", "email_clicked", _key("oak")), ("oak", "email_clicked", _key("oak")),
                  ("pine", "email_opened", _key("pine")), ("oak", "email_clicked", second)]
    for index, (account, event, key) in enumerate(engagement):
        store.add_change(account, AT + timedelta(hours=index + 1), event=event, event_id=f"e-{index}", traits={},
                         data={"template": "qbr_invite", "key": key})
    # an event naming no message of this playbook (a client's own line) counts nowhere
    store.add_change("elm", AT + timedelta(hours=9), event="email_clicked", event_id="e-other", traits={},
                     data={"template": "qbr_invite", "key": "journey/qbr_invite/elm/run-9/entry/0"})
    return bundle


@pytest.fixture(params=["sqlite", "postgresql"])
def either_store(request: pytest.FixtureRequest) -> Store:
    """The SQLite store, or the PostgreSQL one when `PLAYBOOK_TEST_POSTGRES_URL` is set."""
    store: Store = request.getfixturevalue("store" if request.param == "sqlite" else "pg_store")
    return store


async def test_open_and_click_rates_count_each_message_once_on_its_send_step(either_store: Store) -> None:
    store = either_store
    bundle = await _sent_and_engaged(store)
    stats = playbook_stats(store, bundle, "qbr_invite").playbooks[0]
    sent = stats.steps[0].statements[0]
    assert sent.statement.startswith("send email qbr_invite")
    assert (sent.sent, sent.emails_opened, sent.emails_clicked) == (5, 2, 2)
    assert (sent.open_rate, sent.click_rate) == (0.4, 0.4)
    assert "sent 5; opened 2 (40.0%), clicked 2 (40.0%)" in report(playbook_stats(store, bundle, "qbr_invite"))
    later = playbook_stats(store, bundle, "qbr_invite", since=AT + timedelta(hours=3)).playbooks[0]
    assert later.steps[0].statements[0].emails_clicked == 2 and later.steps[0].statements[0].emails_opened == 1

    app = create_app(Settings(api_token="t"), store, bundle, await offline_starter(store),
                     Limits(routing_timeout_seconds=2))
    async with asgi(app, {"Authorization": "Bearer t"}) as api:
        body = (await api.get("/v1/playbooks/qbr_invite/stats")).json()
    step = body["playbooks"][0]["steps"][0]["statements"][0]
    assert (step["emails_opened"], step["emails_clicked"], step["open_rate"], step["click_rate"]) == (2, 2, 0.4, 0.4)


async def test_the_dashboards_playbook_page_shows_opens_and_clicks_beside_the_sends(
        store: Store, tmp_path: Path) -> None:
    bundle = await _sent_and_engaged(store)
    async with dashboard(store, bundle, tmp_path) as client:
        await sign_in(client)
        page = (await client.get("/playbooks/qbr_invite")).text
    assert "5 sent, 2 opened (40.0%), 2 clicked (40.0%)" in page
