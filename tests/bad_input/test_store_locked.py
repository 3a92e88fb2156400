"""A SQLite store locked by another writer past its busy timeout: the API answers a retryable 503
(never a 500), `/healthz` shows the failure, and `playbook ingest` waits it out and sends again."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import engine.store.database
from cli.main import main
from dsl import ir
from engine.store import Store
from tests.bad_input.conftest import NDJSON, TOKEN, asgi_client, offline_app, served

LINE = json.dumps({"id": "locked-1", "account": "acme", "traits": {"name": "Acme"}})


@pytest.fixture
def quick_store(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setattr(engine.store.database, "BUSY_TIMEOUT_SECONDS", 1)  # a lock held past 1 s, not 30
    opened = Store.open(f"sqlite:///{db_path}")
    yield opened
    opened.close()


def _lock(db_path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's writer that does not let go
    return holder


async def test_a_locked_store_is_a_retryable_503_that_healthz_shows(
        quick_store: Store, db_path: Path, minimal_bundle: ir.Bundle) -> None:
    async with asgi_client(await offline_app(quick_store, minimal_bundle)) as api:
        holder = _lock(db_path)
        try:
            locked = await api.post("/v1/events", content=LINE, headers=NDJSON)
            health = await api.get("/healthz")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        again = await api.post("/v1/events", content=LINE, headers=NDJSON)
    assert locked.status_code == 503, locked.text
    assert locked.json()["error"] == "store unavailable"
    assert int(locked.headers["retry-after"]) > 0
    failure = health.json()["store"]["last_failure"]
    assert failure is not None and "locked" in failure["reason"]
    assert again.status_code == 202 and again.json()["accepted"] == 1


async def test_playbook_ingest_waits_out_a_locked_store_and_sends_the_batch_again(
        quick_store: Store, db_path: Path, minimal_bundle: ir.Bundle, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(LINE + "\n", encoding="utf-8")
    app = await offline_app(quick_store, minimal_bundle)
    async with served(app) as url:
        holder = _lock(db_path)
        ingest = asyncio.create_task(asyncio.to_thread(
            main, ["ingest", str(path), "--retry-wait", "0.2", "--url", url, "--token", TOKEN]))
        try:
            while app.state.api.store_failure is None:  # the first attempt was refused
                assert not ingest.done(), capsys.readouterr()
                await asyncio.sleep(0.05)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        status = await asyncio.wait_for(ingest, 60)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "Traceback" not in captured.err
    assert captured.out.endswith(": 1 accepted, 0 duplicates, 0 rejected\n")
    assert quick_store.current_fields("acme")["name"] == "Acme"
