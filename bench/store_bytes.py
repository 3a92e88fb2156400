"""Where a store's bytes go: per table and per index, after storing and routing a generated timeline.

    python bench/store_bytes.py --accounts 1000 [--days 30] [--postgres URL] [--in-use]

Stores and routes the timeline of `accounts` accounts as `routing_speed.py` does (seed 7, batches
of 5,000, runs of 500 changes each marked routed), then prints JSON: bytes per event before and
after a `VACUUM` (an updated row such as a `routed_at` mark leaves its old version behind until
vacuumed; a store in use is vacuumed by autovacuum, so the figure after is the one that lasts;
PostgreSQL's plain `VACUUM` frees the space for later rows without giving it back, so a
`VACUUM FULL` follows, the live rows' own size),
the storing and routing rates, and per table its rows, heap, TOAST and index bytes, and each
index's bytes (PostgreSQL; on SQLite the file's size and each table's and index's pages, through
`dbstat` when SQLite has it).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_timeline
from ingest_speed import Databases
from routing_speed import FAR, ROOT, RUN, STORE_BATCH

from cli.playbook_loading import load_bundle
from engine.intake.ingestion import Ingestor
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store

__all__ = ["breakdown", "store_and_route"]

_TABLES = """
SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid), coalesce(pg_total_relation_size(c.reltoastrelid), 0),
       pg_indexes_size(c.oid), pg_total_relation_size(c.oid), s.n_live_tup, s.n_dead_tup
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC
"""
_INDEXES = """
SELECT i.indexrelid::regclass::text, t.relname, pg_relation_size(i.indexrelid)
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' ORDER BY pg_relation_size(i.indexrelid) DESC
"""


def store_and_route(url: str, accounts: int, days: int, vacuumed: Databases | None = None) -> dict[str, Any]:
    """Store then route the timeline into the store at `url`: events and rates. With `vacuumed`,
    as a store in use: each batch stored, routed, then the store vacuumed (autovacuum's part)
    before the next batch (the vacuums' time is not counted)."""
    bundle = load_bundle(ROOT / "playbooks")
    objects = generate_timeline.generate(accounts, days, 7, generate_timeline.DEFAULT_START)
    now = generate_timeline.DEFAULT_START + timedelta(days=days + 1)
    batches = [objects[first:first + STORE_BATCH] for first in range(0, len(objects), STORE_BATCH)] if vacuumed \
        else [objects]
    store = Store.open(url)
    store_s = store_cpu = route_s = route_cpu = 0.0
    events = 0
    try:
        ingestor = Ingestor(store, bundle.model, batch_size=STORE_BATCH)
        core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle,
                           JourneyStarter(None, "bench", store))  # type: ignore[arg-type]  # nothing carried out
        for batch in batches:
            began, cpu = time.perf_counter(), time.process_time()
            changes = ingestor.ingest_objects(batch, now, horizon=FAR).accepted
            store_s, store_cpu = store_s + time.perf_counter() - began, store_cpu + time.process_time() - cpu
            began, cpu = time.perf_counter(), time.process_time()
            for first in range(0, len(changes), RUN):
                run = changes[first:first + RUN]
                core.route_run(run)
                store.mark_routed([change.seq for change in run], now)
            route_s, route_cpu = route_s + time.perf_counter() - began, route_cpu + time.process_time() - cpu
            events += len(changes)
            if vacuumed is not None:
                vacuum(vacuumed, url)
    finally:
        store.close()
    return {"accounts": accounts, "events": events,
            "store_events_per_s": round(events / store_s, 1), "store_events_per_cpu_s": round(events / store_cpu, 1),
            "route_events_per_s": round(events / route_s, 1), "route_events_per_cpu_s": round(events / route_cpu, 1)}


def breakdown(databases: Databases, url: str, events: int) -> dict[str, Any]:
    """Bytes per event and per table and index, as the store stands now."""
    if databases.kind == "sqlite":
        return _sqlite_breakdown(url, events)
    conn = databases.connect(url)
    try:
        conn.execute("ANALYZE")
        tables = {name: {"rows": rows, "heap": heap, "toast": toast, "indexes": indexes, "total": total,
                         "bytes_per_row": round(total / max(rows, 1), 1), "dead_rows": dead}
                  for name, rows, heap, toast, indexes, total, _live, dead in conn.execute(_TABLES).fetchall()
                  if total > 8192 * 2}
        indexes = {name: size for name, _table, size in conn.execute(_INDEXES).fetchall() if size > 8192 * 2}
        size = sum(int(row[5]) for row in conn.execute(_TABLES).fetchall())
    finally:
        conn.close()
    return {"bytes_per_event": round(size / events, 1), "tables": tables, "indexes": indexes}


def _sqlite_breakdown(url: str, events: int) -> dict[str, Any]:
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            parts = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall())
        except sqlite3.OperationalError:  # SQLite built without dbstat
            parts = {}
    finally:
        conn.close()
    return {"bytes_per_event": round(Path(path).stat().st_size / events, 1),
            "objects": {name: size for name, size in parts.items() if size > 4096 * 4}}


def vacuum(databases: Databases, url: str, full: bool = False) -> None:
    conn = databases.connect(url)
    try:
        if databases.kind == "sqlite":
            conn.execute("VACUUM")
        else:
            conn.autocommit = True
            conn.execute("VACUUM FULL" if full else "VACUUM")
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server's URL (else SQLite files)")
    parser.add_argument("--in-use", action="store_true",
                        help="store and route batch by batch, vacuuming after each (as autovacuum would)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        databases = Databases("postgresql" if args.postgres else "sqlite", Path(folder), args.postgres)
        try:
            url = databases.fresh(f"bytes{args.accounts}")
            result = store_and_route(url, args.accounts, args.days, databases if args.in_use else None)
            result["in_use"] = args.in_use
            result["before_vacuum"] = breakdown(databases, url, result["events"])
            vacuum(databases, url)
            result["after_vacuum"] = breakdown(databases, url, result["events"])
            if databases.kind == "postgresql":  # the rows alone, every table and index rewritten
                vacuum(databases, url, full=True)
                result["after_vacuum_full"] = breakdown(databases, url, result["events"])
        finally:
            databases.drop()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
