"""A work item's SLA with real journeys (time-skipping Temporal server, real worker): a CSM's
snooze over HTTP moves the clock, so the item is overdue when the snooze ends, not at its due
time, and escalated to the manager one business day after that; an item completed over HTTP
before its due time is never overdue, and its journey ends at once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dsl import ir
from dsl.project import compile_folder
from engine.records import ActionRecord
from engine.store import Store
from server.app import create_app
from tests.api.conftest import engine, http, settings

FOLDER = Path(__file__).resolve().parents[1] / "scenarios" / "timelines" / "work_item_escalated_when_overdue"
CSM = {"email": "sam@vendor.example", "name": "Sam", "manager": {"email": "lee@vendor.example", "name": "Lee"}}


def _signals(account: str) -> str:
    lines: list[dict[str, Any]] = [
        {"id": f"{account}-1", "account": account, "traits": {"name": account.title(), "timezone": "UTC", "csm": CSM}},
        {"id": f"{account}-2", "account": account, "event": "usage_dropped"}]
    return "\n".join(json.dumps(line) for line in lines)


@pytest.fixture(scope="module")
def sla() -> ir.Bundle:
    compilation = compile_folder(FOLDER / "playbooks")
    assert compilation.ok and compilation.bundle is not None
    return compilation.bundle


async def _task(api: httpx.AsyncClient, account: str) -> dict[str, Any]:
    for _ in range(200):
        tasks = (await api.get("/v1/tasks", params={"account": account})).json()
        if tasks:
            return dict(tasks[0])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no task for {account}")


def _of(store: Store, account: str, kind: str) -> list[ActionRecord]:
    return [action for action in store.actions(account=account) if action.kind == kind]


async def _until(store: Store, account: str, kind: str) -> ActionRecord:
    for _ in range(300):
        if found := _of(store, account, kind):
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} for {account}: {[a.kind for a in store.actions(account=account)]}")


async def test_a_snooze_moves_the_overdue_moment_and_a_completed_item_is_never_overdue(
        store: Store, sla: ir.Bundle) -> None:
    async with engine(store, sla) as running:
        app = create_app(settings(), store, sla, running.starter)
        async with http(app) as api:
            for account in ("acme", "globex"):
                assert (await api.post("/v1/events", content=_signals(account))).status_code == 202
            acme, globex = await _task(api, "acme"), await _task(api, "globex")
            until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
            snoozed = await api.post(f"/v1/tasks/{acme['id']}/snooze",
                                     json={"until": until.isoformat(), "reason": "customer on holiday"})
            done = await api.post(f"/v1/tasks/{globex['id']}/complete", json={"outcome": "resolved"})
            await _until(store, "globex", "completed")
            await running.env.sleep(timedelta(days=8))  # the server's clock past every deadline
            overdue = await _until(store, "acme", "task_overdue")
            escalated = await _until(store, "acme", "task_escalated")
            await _until(store, "acme", "completed")
            shown = (await api.get("/v1/tasks", params={"account": "acme"})).json()[0]
    assert snoozed.status_code == 200 and done.status_code == 200
    assert overdue.at == until  # not at its due time, two days after it was opened
    assert datetime.fromisoformat(acme["due"]) < until
    assert escalated.at - overdue.at >= timedelta(days=1) and escalated.data["to"] == "lee@vendor.example"
    assert (shown["escalated_to"], shown["owner"]) == ("lee@vendor.example", "sam@vendor.example")
    assert _of(store, "globex", "task_overdue") == [] and _of(store, "globex", "task_escalated") == []
