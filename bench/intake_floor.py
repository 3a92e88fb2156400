"""The floor of any intake written in Python: read the timeline's JSON lines and insert their rows,
nothing else, against the raw `executemany` of the same rows (the divisor of `routed_vs_raw`).

    .venv/bin/python bench/intake_floor.py [--accounts 150,1000,10000] [--days 30]

For each number of accounts, the generated timeline (`generate_timeline.py`, seed 7) as the JSON
lines a client posts; then, on fresh stores of the engine's schema:

(SQLite, as the `routed_vs_raw` of `bench/scale.py`.)

- `raw`: one `executemany` of the rows already built, committed (what `routed_vs_raw` divides by);
- `parse_insert`: `json.loads` of each line, its row built (payloads dumped back to JSON text),
  then the same `executemany`: no check of names or values, no trait history, no account, no
  routing, no HTTP.

`parse_insert_vs_raw` is therefore the highest `routed_vs_raw` an intake that reads JSON lines in
Python can reach on this machine: every check and every routing decision comes on top of it. The
last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_timeline
from ingest_speed import COLUMNS, Databases

__all__ = ["measure"]

EPOCH_MICROS = 1_767_225_600_000_000  # received_at of the first row (2026-01-01), one microsecond apart
_ROW_OF_LINE = ("id", "account", "event", "at")  # the line's keys in `COLUMNS` order, then payloads


def parse_rows(lines: list[str]) -> list[tuple[Any, ...]]:
    """The events' rows as the store's `events` table takes them, from JSON lines."""
    assert COLUMNS == ("id", "account", "name", "at", "data", "traits", "source", "received_at", "routed_at")
    rows: list[tuple[Any, ...]] = []
    for number, line in enumerate(lines):
        obj = json.loads(line)
        rows.append((obj.get("id"), obj["account"], obj.get("event"), obj["at"],
                     json.dumps(obj.get("data") or {}), json.dumps(obj.get("traits") or {}), "api",
                     EPOCH_MICROS + number, None))
    return rows


def measure(accounts: int, days: int, folder: Path) -> dict[str, Any]:
    objects = generate_timeline.generate(accounts, days, 7, generate_timeline.DEFAULT_START)
    lines = [json.dumps(obj) for obj in objects]
    databases = Databases("sqlite", folder)
    try:
        began = time.perf_counter()
        rows = parse_rows(lines)
        parse_s = time.perf_counter() - began
        raw_s = databases.raw_insert(databases.fresh(f"floor_raw{accounts}"), rows)
        insert_s = databases.raw_insert(databases.fresh(f"floor_parsed{accounts}"), rows)
    finally:
        databases.drop()
    events = len(lines)
    return {"accounts": accounts, "events": events, "raw_events_per_s": round(events / raw_s, 1),
            "parse_events_per_s": round(events / parse_s, 1),
            "parse_insert_events_per_s": round(events / (parse_s + insert_s), 1),
            "parse_insert_vs_raw": round(raw_s / (parse_s + insert_s), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", default="150,1000,10000", help="comma-separated numbers of accounts")
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args(argv)
    print(f"{'accounts':>8s} {'events':>9s} {'raw/s':>9s} {'parse/s':>9s} {'parse+insert/s':>15s} {'vs raw':>7s}")
    curves: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="playbook-floor-") as scratch:
        for accounts in (int(n) for n in args.accounts.split(",")):
            folder = Path(scratch) / str(accounts)
            folder.mkdir()
            curve = measure(accounts, args.days, folder)
            curves.append(curve)
            print(f"{accounts:8,d} {curve['events']:9,d} {curve['raw_events_per_s']:9,.0f} "
                  f"{curve['parse_events_per_s']:9,.0f} {curve['parse_insert_events_per_s']:15,.0f} "
                  f"{curve['parse_insert_vs_raw']:7.3f}", flush=True)
    print(json.dumps({"curves": curves,
                      "parse_insert_vs_raw": curves[0]["parse_insert_vs_raw"] if curves else None}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
