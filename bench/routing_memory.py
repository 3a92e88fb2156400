"""What the account histories live routing keeps between runs weigh in memory.

    .venv/bin/python bench/routing_memory.py [--accounts 1000] [--days 30]

Stores a generated timeline (`generate_timeline.py`, seed 7) in a fresh SQLite store, then has an
`AccountHistories` read every account's history, in runs of 500 accounts as the API's router
does, with each history's metric index built (as routing a change that counts a metric builds
it), under `tracemalloc`. Prints one JSON object: the bytes per kept account, per trait or event
row and per stored change, and the estimate `AccountHistories` bounds its memory with
(`ACCOUNT_BYTES` + `ROW_BYTES` per row; `PLAYBOOK_ROUTING_KEEP_MB`, docs/operations.md), which
should not be below what is measured.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_timeline

from cli.playbook_loading import load_bundle
from engine.intake.ingestion import Ingestor
from engine.routing.account_histories import ACCOUNT_BYTES, ROW_BYTES, AccountHistories
from engine.store import Store

ROOT = Path(__file__).resolve().parents[1]
RUN = 500  # accounts per run


def measure(accounts: int, days: int) -> dict[str, float]:
    bundle = load_bundle(ROOT / "playbooks")
    objects = generate_timeline.generate(accounts, days, 7, generate_timeline.DEFAULT_START)
    now = generate_timeline.DEFAULT_START + timedelta(days=days + 1)
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/memory.db")
        try:
            changes = Ingestor(store, bundle.model, batch_size=5_000).ingest_objects(
                objects, now, horizon=timedelta(days=10_000)).accepted
            histories = AccountHistories(store, keep_bytes=1 << 62)
            names = sorted({change.account for change in changes})
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            kept = {}
            for first in range(0, len(names), RUN):
                kept.update(histories.for_run(names[first:first + RUN]))
            for history in kept.values():
                history.stamp_index()
            gc.collect()
            used = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
        finally:
            store.close()
    rows = sum(len(history.traits) + len(history.events) for history in kept.values())
    estimate = ACCOUNT_BYTES * len(kept) + ROW_BYTES * rows
    return {"accounts": len(kept), "changes": len(changes), "rows": rows, "bytes": used,
            "bytes_per_account": round(used / len(kept), 1), "bytes_per_row": round(used / rows, 1),
            "bytes_per_change": round(used / len(changes), 1), "estimate_bytes": estimate,
            "estimate_vs_measured": round(estimate / used, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=30)
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.accounts, arguments.days)))


if __name__ == "__main__":
    main()
