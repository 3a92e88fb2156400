"""Storing and routing a generated timeline in this process, against a raw `executemany` of the same
rows: the curves of `bench/scale.py`.

`measure(kind, accounts, days, folder, server_url)` generates the timeline of `accounts` accounts
(`generate_timeline.py`, seed 7), stores it through the `Ingestor` into a fresh database (batches
of 5,000, as a request of `playbook ingest`), then routes it with the routing core as the API's
router does (runs of 500 changes, a per-run cache keeping histories between runs, each run marked
routed) with nothing carried out on Temporal: the intents are counted, carrying them out is the
drain (`drain_speed.py`). Storing's and routing's rates are given over wall time and over this
process's CPU time (the latter less sensitive to a shared machine's load).

Then the stored events are inserted with one `executemany` into a fresh database of the same
schema (`raw_events_per_s`, the divisor of `routed_vs_raw`); and the floor: every row the run
wrote (events, trait history, accounts, cards, scores, condition states, actions...) inserted the
same way into a fresh store, one `executemany` per table in one transaction (`raw_all_rows_s`).
Storing and routing cannot be faster than writing their rows: `routed_vs_raw_ceiling` (the raw
events' seconds over all rows' seconds) is the highest `routed_vs_raw` this store's rows allow,
`store_vs_raw_ceiling` the same for storing alone (its tables: `STORED_TABLES`). Also the store's
bytes per event (SQLite: the file after a checkpoint; PostgreSQL: every table's
`pg_total_relation_size`) and the scheduler's pass.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_timeline
from ingest_speed import Databases

from cli.playbook_loading import load_bundle
from engine.intake.ingestion import Ingestor
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store

__all__ = ["measure", "scheduler_pass"]

ROOT = Path(__file__).resolve().parents[1]
RUN = 500  # changes per run, as the API's router
STORE_BATCH = 5_000
STORED_TABLES = ("events", "trait_history", "accounts", "account_cards")  # what storing writes, before routing
FAR = timedelta(days=10_000)  # the trigger horizon: no change of the timeline is history


def measure(kind: str, accounts: int, days: int, folder: Path, server_url: str | None = None) -> dict[str, Any]:
    bundle = load_bundle(ROOT / "playbooks")
    objects = generate_timeline.generate(accounts, days, 7, generate_timeline.DEFAULT_START)
    now = generate_timeline.DEFAULT_START + timedelta(days=days + 1)
    databases = Databases(kind, folder, server_url)
    try:
        url = databases.fresh(f"scale{accounts}")
        store = Store.open(url)
        try:
            began, cpu = time.perf_counter(), time.process_time()
            ingestor = Ingestor(store, bundle.model, batch_size=STORE_BATCH)
            changes = ingestor.ingest_objects(objects, now, horizon=FAR).accepted
            store_s, store_cpu_s = time.perf_counter() - began, time.process_time() - cpu
            core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle,
                               JourneyStarter(None, "bench", store))  # type: ignore[arg-type]  # nothing carried out
            intents = 0
            began, cpu = time.perf_counter(), time.process_time()
            for first in range(0, len(changes), RUN):
                run = changes[first:first + RUN]
                intents += sum(len(found) for found in core.route_run(run))
                store.mark_routed([change.seq for change in run], now)
            route_s, route_cpu_s = time.perf_counter() - began, time.process_time() - cpu
            pass_s, due = scheduler_pass(core, generate_timeline.DEFAULT_START + timedelta(days=days))
        finally:
            store.close()
        size = _size(databases, url)
        rows = databases.rows(url)
        raw_s = databases.raw_insert(databases.fresh(f"raw{accounts}"), rows)
        written = databases.written_rows(url)
        raw_all_s, raw_all_rows = databases.raw_insert_all(databases.fresh(f"rawall{accounts}"), written)
        stored = {name: written[name] for name in STORED_TABLES if name in written}
        raw_stored_s, _ = databases.raw_insert_all(databases.fresh(f"rawstored{accounts}"), stored)
    finally:
        databases.drop()
    events = len(changes)
    raw_rate = events / raw_s
    routed_rate = events / (store_s + route_s)  # from the first stored to the last routed
    return {"accounts": accounts, "events": events, "store_events_per_s": round(events / store_s, 1),
            "store_events_per_cpu_s": round(events / max(store_cpu_s, 1e-9), 1),
            "route_events_per_s": round(events / route_s, 1),
            "route_events_per_cpu_s": round(events / max(route_cpu_s, 1e-9), 1), "routed_events_per_s": round(routed_rate, 1),
            "raw_events_per_s": round(raw_rate, 1), "routed_vs_raw": round(routed_rate / raw_rate, 4),
            "raw_all_rows_s": round(raw_all_s, 4), "raw_all_rows": raw_all_rows,
            "raw_all_events_per_s": round(events / raw_all_s, 1),
            "routed_vs_raw_ceiling": round(raw_s / raw_all_s, 4),
            "raw_stored_rows_s": round(raw_stored_s, 4), "store_vs_raw_ceiling": round(raw_s / raw_stored_s, 4),
            "written_rows": {name: len(rows) for name, (_, rows) in written.items()},
            "intents": intents, "bytes_per_event": round(size / max(events, 1), 1),
            "scheduler_pass_s": round(pass_s, 3), "scheduler_due_accounts": due,
            "scheduler_ms_per_due_account": round(1000 * pass_s / max(due, 1), 3)}


def scheduler_pass(core: RoutingCore, monday: datetime) -> tuple[float, int]:
    """One pass of the time triggers over a whole local Monday (every zone's 09:00 checks, the
    month's and the week's cadences): its seconds and how many accounts had something due."""
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    start -= timedelta(days=start.weekday())
    after, until = start - timedelta(hours=14), start + timedelta(hours=14)
    began = time.perf_counter()
    firings = core.router.time.firings(after, until)
    seconds = time.perf_counter() - began
    return seconds, len({account for _, account, _ in firings})


def _size(databases: Databases, url: str) -> int:
    """The store's size on disk: the SQLite file after a checkpoint, or PostgreSQL's tables and indexes."""
    if databases.kind == "sqlite":
        path = url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return os.path.getsize(path)
    conn = databases.connect(url)
    try:
        query = ("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
        return int(conn.execute(query).fetchone()[0])
    finally:
        conn.close()
