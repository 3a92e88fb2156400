"""`playbook forget` on the real engine: the account's journey is ended and deleted in Temporal,
its data leaves the store, the counts of sends stay, and the erasure is recorded under a hash;
`--email` blanks the address everywhere and keeps it suppressed as a hash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from cli.main import main
from dsl import ir
from engine.store import Store
from engine.store.erasure import forgotten_id
from engine.workflows.payloads import WORKFLOW_NAME
from server.app import create_app
from tests.api.conftest import engine, http, settings
from tests.api.test_journeys import SIGNUP, _ndjson, _until
from tests.live_api import free_port
from workers.temporal_server import DevServer

ADDRESS = "ana@techcorp.example"


def _dump(path: Path, tables: tuple[str, ...] = ()) -> str:
    """Every row of `tables` (all the store's by default), as text (read with SQLAlchemy, not the store's code)."""
    engine_ = create_engine(f"sqlite:///{path}")
    with engine_.connect() as conn:
        names = list(tables) or [row[0] for row in conn.execute(text("select name from sqlite_master "
                                                                     "where type = 'table'"))]
        rows = [str(tuple(row)) for name in names for row in conn.execute(text(f'select * from "{name}"'))]
    engine_.dispose()
    return "\n".join(rows)


async def _deleted(journey: WorkflowHandle[Any, Any], seconds: float = 60) -> bool:
    """Whether Temporal has deleted the workflow (it does so in the background) within `seconds`."""
    for _ in range(int(seconds / 0.1)):
        try:
            await journey.describe()
        except RPCError as error:
            return error.status == RPCStatusCode.NOT_FOUND
        await asyncio.sleep(0.1)
    return False


async def test_forgetting_an_account_ends_its_journey_and_leaves_no_trace_but_counts_and_the_record(
        store: Store, bundle: ir.Bundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    async with engine(store, bundle) as running:  # the account's data, as a real journey writes it
        app = create_app(settings(), store, bundle, running.starter)
        async with http(app) as api:
            assert (await api.post("/v1/events", content=_ndjson(SIGNUP))).status_code == 202
            await _until(api, "email", account="techcorp", playbook="smb_onboarding")
    server = DevServer(tmp_path / "temporal", port=free_port(), ui_port=free_port())  # deletes workflows
    client = await server.start()
    try:
        journey = await client.start_workflow(WORKFLOW_NAME, {"account": "techcorp"}, task_queue="nobody-polls",
                                              id="journey/smb_onboarding/techcorp")
        monkeypatch.setenv("PLAYBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
        monkeypatch.setenv("PLAYBOOK_TEMPORAL_ADDRESS", server.address)
        status = await asyncio.to_thread(main, ["forget", "--account", "techcorp"])
        ended = (await journey.describe()).status
        gone = await _deleted(journey)
    finally:
        server.stop()
    out = capsys.readouterr().out
    assert status == 0, out
    assert "forgot account techcorp: 1 journeys ended in Temporal" in out
    assert ended == WorkflowExecutionStatus.TERMINATED and gone
    dump = _dump(tmp_path / "store.db")
    assert "techcorp" not in dump.lower() and ADDRESS not in dump
    assert store.current_fields("techcorp") == {} and store.actions(account="techcorp") == []
    [record] = store.actions(account=forgotten_id("techcorp"))
    assert record.kind == "forgotten" and record.data["removed"]["events"] == 2
    assert record.data["removed"]["messages"] >= 1  # blanked, still counted


async def test_forgetting_an_email_blanks_it_and_keeps_it_suppressed_as_a_hash(
        store: Store, bundle: ir.Bundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with engine(store, bundle) as running:
        app = create_app(settings(), store, bundle, running.starter)
        async with http(app) as api:
            assert (await api.post("/v1/events", content=_ndjson(SIGNUP))).status_code == 202
            await _until(api, "email", account="techcorp", playbook="smb_onboarding")
    store.suppress(ADDRESS, "unsubscribed", datetime.now(UTC))
    monkeypatch.setenv("PLAYBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    assert await asyncio.to_thread(main, ["forget", "--email", ADDRESS.upper()]) == 0
    assert ADDRESS not in _dump(tmp_path / "store.db", ("messages", "actions", "suppressions")).lower()
    assert store.suppression(ADDRESS) == "unsubscribed"  # still never written to
    assert [m.status for m in store.messages(account="techcorp")] == ["sent"]  # counted, blanked
    assert [a.kind for a in store.actions() if a.kind == "forgotten"] == ["forgotten"]
