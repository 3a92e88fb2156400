"""The history a backtest replays: what the world told the store, within the window and accounts,
read without writing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from dsl.project import compile_folder
from engine.intake.ingestion import Ingestor
from engine.records import TaskRecord
from engine.store import Store
from simulation.backtest import BacktestError, Window, read_history, read_only_engine
from tests.backtest.conftest import build_store, write_folder

JAN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return build_store(tmp_path / "store.db", write_folder(tmp_path / "playbooks"))


def test_the_whole_history_is_replayed_in_stored_order_with_traits_and_events_as_stored(store_url: str) -> None:
    history = read_history(store_url, Window())
    assert [(o["id"], o.get("event")) for o in history.objects] == [
        ("acme-traits", None), ("acme-signed", "signed"), ("globex-traits", None), ("globex-signed", "signed"),
        ("initech-traits", None), ("initech-signed", "signed")]
    assert history.objects[0]["traits"]["tasks_completed"] == 7
    assert history.objects[0]["at"] == "2026-01-05T09:00:00+00:00"
    assert history.accounts == {"acme", "globex", "initech"}


def test_only_the_named_accounts_and_the_window_are_replayed(store_url: str) -> None:
    history = read_history(store_url, Window(since=JAN, until=datetime(2026, 1, 7, tzinfo=UTC)),
                           accounts=["globex", "initech"])
    assert [o["id"] for o in history.objects] == ["globex-traits", "globex-signed"]


def test_accounts_start_the_window_with_the_traits_stored_before_it(store_url: str) -> None:
    since = datetime(2026, 1, 6, tzinfo=UTC)
    history = read_history(store_url, Window(since=since))
    seed = history.objects[0]
    assert seed == {"account": "acme", "at": since.isoformat(), "traits": {
        "name": "Acme", "tasks_completed": 7, "csm": {"email": "sam@vendor.example", "name": "Sam"},
        "primary_contact": {"email": "ana@acme.example", "name": "Ana"}}}
    assert "event" not in seed
    assert history.seeded == 1 and history.stored == 4


def test_a_warmup_replays_the_days_before_the_window_instead_of_seeding_them(store_url: str) -> None:
    history = read_history(store_url, Window(since=datetime(2026, 1, 6, tzinfo=UTC), warmup=timedelta(days=1)))
    assert history.seeded == 0
    assert history.objects[0]["id"] == "acme-traits"


def test_fields_set_by_playbooks_are_left_for_the_replayed_playbooks_to_set(store_url: str) -> None:
    store = Store.open(store_url)
    store.add_change("acme", datetime(2026, 1, 9, tzinfo=UTC), event=None, data={}, traits={"tasks_completed": 99},
                     event_id="set-1", source="playbook:signup")
    store.close()
    assert "set-1" not in [o.get("id") for o in read_history(store_url, Window()).objects]


def test_a_completed_task_is_replayed_as_completing_its_playbooks_tasks(store_url: str) -> None:
    store = Store.open(store_url)
    at = datetime(2026, 1, 9, tzinfo=UTC)
    store.create_task(TaskRecord(id="t-live-1", account="acme", playbook="signup", title="Check in", owner="s@x.io",
                                 due=None, priority="normal", created_at=at), key="k-1", journey=None)
    store.add_change("acme", at + timedelta(hours=1), event="task_completed", data={"task": "t-live-1"}, traits={},
                     event_id="done-1")
    store.close()
    [done] = [o for o in read_history(store_url, Window()).objects if o.get("event") == "task_completed"]
    assert done["data"] == {"playbook": "signup"}


def test_the_store_is_opened_so_that_it_cannot_be_written(store_url: str) -> None:
    engine = read_only_engine(store_url)
    try:
        with pytest.raises(OperationalError, match="readonly"), engine.begin() as conn:
            conn.execute(text("DELETE FROM events"))
    finally:
        engine.dispose()


def test_a_missing_store_is_reported_not_created(tmp_path: Path) -> None:
    with pytest.raises(BacktestError, match="no store at"):
        read_history(f"sqlite:///{tmp_path / 'absent.db'}", Window())
    assert not (tmp_path / "absent.db").exists()


def test_history_replays_arrival_moments_and_back_fill_unless_on_time(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "playbooks")
    url = build_store(tmp_path / "store.db", folder)
    store = Store.open(url)
    try:
        late = '{"id": "late", "account": "acme", "at": "2026-01-09T09:00:00Z", "event": "signed"}'
        old = '{"id": "old", "account": "acme", "at": "2026-01-02T09:00:00Z", "event": "signed"}'
        store_at = datetime(2026, 1, 9, 13, tzinfo=UTC)
        bundle = compile_folder(folder).bundle
        assert bundle is not None
        result = Ingestor(store, bundle.model).ingest(f"{late}\n{old}", now=store_at)
        assert result.backfill == 1
    finally:
        store.close()
    replayed = {o["id"]: o for o in read_history(url, Window()).objects}
    assert replayed["late"]["received_at"] == "2026-01-09T13:00:00+00:00"
    assert replayed["old"]["backfill"] is True
    assert "received_at" not in replayed["acme-signed"] and "backfill" not in replayed["acme-signed"]
    on_time = {o["id"]: o for o in read_history(url, Window(on_time=True)).objects}
    assert "received_at" not in on_time["late"] and "backfill" not in on_time["old"]
