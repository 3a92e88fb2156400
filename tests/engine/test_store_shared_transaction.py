"""`Database.batch`: the reads and writes inside share one transaction, committed at its end
(how a simulation's timeline stores and routes a round of events)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.store import Store

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_writes_in_a_batch_are_seen_inside_it_and_by_others_only_at_its_end(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store, other = Store.open(url), Store.open(url)
    try:
        with store.database.batch():
            store.suppress("ana@acme.example", "unsubscribed", T0)
            store.suppress("bo@acme.example", "bounced", T0)
            assert store.suppression("ana@acme.example") == "unsubscribed"  # the batch reads its own writes
            assert other.suppression("ana@acme.example") is None  # not committed yet
        assert other.suppression("ana@acme.example") == "unsubscribed"
        assert other.suppression("bo@acme.example") == "bounced"
    finally:
        store.close()
        other.close()


def test_a_failure_inside_a_batch_keeps_none_of_its_writes(store: Store) -> None:
    with pytest.raises(RuntimeError), store.database.batch():
        store.suppress("ana@acme.example", "unsubscribed", T0)
        raise RuntimeError("routing failed")
    assert store.suppression("ana@acme.example") is None
    store.suppress("ana@acme.example", "bounced", T0)  # the store is usable afterwards
    assert store.suppression("ana@acme.example") == "bounced"


async def test_a_batch_belongs_to_its_task_and_other_tasks_write_on_their_own(store: Store) -> None:
    seen: list[object] = []

    async def other_task() -> None:
        store.suppress("cy@acme.example", "bounced", T0)  # its own transaction, after the batch's
        seen.append(store.suppression("cy@acme.example"))

    with store.database.batch():
        store.suppress("ana@acme.example", "unsubscribed", T0)
        task = asyncio.get_running_loop().create_task(other_task())
    await task  # started inside the batch, it writes on its own once it runs
    assert seen == ["bounced"]
    store.suppress("bo@acme.example", "bounced", T0)
    assert store.suppression("ana@acme.example") == "unsubscribed"
