"""A bare, hand-written journey: the yardstick `bench/journeys_vs_bare.py` measures the engine by.

The shape of a tech-touch onboarding journey with its steps at day 0: sleep until the entry
time (a small timer when the entry lies ahead, none when it has passed, as the engine does),
then six steps, each one activity that writes a row to SQLite under an idempotency key made of
workflow id, run id and step. Nothing else: no IR, no snapshots, no decisions.

Kept in its own module so the workflow sandbox can import it by name.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import RetryPolicy

STEPS = 6
ACTIVITY_TIMEOUT = timedelta(minutes=2)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1),
                    maximum_attempts=20)


class BareInput(BaseModel):
    account: str
    entry_at: datetime
    steps: int = STEPS


class StepParams(BaseModel):
    key: str
    account: str
    step: int
    at: datetime


@workflow.defn(name="bare_journey")
class BareJourney:
    @workflow.run
    async def run(self, inp: BareInput) -> int:
        info = workflow.info()
        remaining = (inp.entry_at - workflow.now()).total_seconds()
        if remaining > 0:
            await workflow.sleep(timedelta(seconds=remaining))
        for step in range(inp.steps):
            await workflow.execute_activity(
                "bare.step", StepParams(key=f"{info.workflow_id}/{info.run_id}/step{step}", account=inp.account,
                                        step=step, at=inp.entry_at),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
        return inp.steps


class RowWriter:
    """One SQLite file (WAL), one connection, writes serialised: one row per step, once per key."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=wal")
        self._conn.execute("PRAGMA synchronous=normal")
        self._conn.execute("CREATE TABLE IF NOT EXISTS steps (key TEXT PRIMARY KEY, account TEXT NOT NULL, "
                           "step INTEGER NOT NULL, at TEXT NOT NULL)")
        self._lock = threading.Lock()

    def write(self, p: StepParams) -> None:
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO steps VALUES (?, ?, ?, ?)",
                               (p.key, p.account, p.step, p.at.isoformat()))

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM steps").fetchone()[0])

    def close(self) -> None:
        self._conn.close()


def step_activity(writer: RowWriter):  # type: ignore[no-untyped-def]
    @activity.defn(name="bare.step")
    async def bare_step(p: StepParams) -> None:
        writer.write(p)

    return bare_step
