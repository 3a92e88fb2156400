"""Scale: events routed as fast as they are stored, routing flat in an account's history, the
scheduler's pass, the drain to Temporal, shared routing on PostgreSQL, bytes per event.

    .venv/bin/python bench/scale.py [--quick] [--accounts 1000,10000,100000] [--days 30]
                                    [--postgres URL | --no-postgres] [--postgres-accounts 1000,10000]

Prints, in order:

1. the curves, per number of accounts (`routing_speed.py`, SQLite): events stored/s through the
   `Ingestor`, routed/s by the routing core (committed, nothing carried out on Temporal), stored
   and routed together, a raw `executemany` of the same rows, the scheduler's pass over a local
   Monday, bytes per event; the same on PostgreSQL at `--postgres-accounts` sizes;
2. routing one change against 0 … 3,000 past changes (`route_history.py`);
3. the drain: journey starts/s on a Temporal dev server (`drain_speed.py`);
4. the API and `playbook ingest` end to end on a timeline that starts journeys, until every
   stored event is routed (committed), and apart until the drain carried its starts and signals
   out on Temporal (`ingest_speed.py --live`, its own processes and dev server); and the floor of
   any intake written in Python, reading the same JSON lines and inserting their rows, nothing
   else (`intake_floor.py`: `parse_insert_vs_raw`, the highest `routed_vs_raw` it allows);
5. shared routing on PostgreSQL, one router process against two (`shared_routers.py`), when a
   server is given (`--postgres`, `PLAYBOOK_TEST_POSTGRES_URL`; the full run starts one with
   `.ci/postgres.sh` otherwise).

Last, one JSON object: `routed_events_per_s` and `routed_vs_raw` (the API's, until routed, over
raw `executemany` of the same rows in the same run), `ingest_routed_vs_raw`, `drain_starts_per_s`,
`route_ms_history_0`, `route_ms_history_3000`, `scheduler_ms_per_due_account`, `scheduler_pass_s`,
`accounts_measured`, `bytes_per_event`, the curves and the rest. The scheduler figures come from
`scale_scheduler.py` when it is there (`scheduler_figures(accounts, quick)`), else from the pass
measured here. `--quick`: 300 and 1,000 accounts, fewer of everything; under 5 minutes.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import drain_speed
import intake_floor
import route_history
import routing_speed

HERE = Path(__file__).resolve().parent
GOAL_ROUTED_VS_RAW, GOAL_HISTORY_RATIO = 0.5, 1.5


def _script(name: str, *args: str) -> dict[str, Any]:
    """Run a script of `bench/` in its own process, echoing its output; its last JSON line."""
    done = subprocess.run([sys.executable, str(HERE / name), *args], capture_output=True, text=True, cwd=HERE.parent)
    lines = done.stdout.strip().splitlines()
    for line in lines[:-1]:
        print("   " + line)
    try:
        return dict(json.loads(lines[-1]))
    except (IndexError, ValueError):
        print(f"   {name} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return {}


def _scheduler(accounts: int, quick: bool, measured: dict[str, Any]) -> dict[str, Any]:
    try:
        module = importlib.import_module("scale_scheduler")
    except ImportError:
        return {"scheduler_ms_per_due_account": measured["scheduler_ms_per_due_account"],
                "scheduler_pass_s": measured["scheduler_pass_s"], "accounts_measured": accounts,
                "scheduler_source": "scale.py: one pass of the time triggers over every account"}
    function = module.scheduler_figures
    # a quick run keeps the proportionality check small too (it builds a store of its own)
    extra = {"proportional_accounts": 2_000} if quick and "proportional_accounts" in inspect.signature(
        function).parameters else {}
    figures = dict(function(accounts, quick, **extra))
    figures.setdefault("accounts_measured", accounts)
    figures["scheduler_source"] = "scale_scheduler.py"
    return figures


def _curves(kind: str, sizes: list[int], days: int, server_url: str | None = None) -> list[dict[str, Any]]:
    """`routing_speed.measure` at each size, a line each as it comes."""
    print(f"   {'accounts':>8s} {'events':>9s} {'stored/s':>9s} {'routed/s':>9s} {'/CPU s':>8s} {'both/s':>8s} "
          f"{'raw/s':>9s} {'vs raw':>7s} {'sched s':>8s} {'ms/due':>7s} {'B/event':>8s}")
    curves: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="playbook-scale-") as scratch:
        for accounts in sizes:
            folder = Path(scratch) / str(accounts)
            folder.mkdir()
            curve = routing_speed.measure(kind, accounts, days, folder, server_url)
            curves.append(curve)
            print(f"   {accounts:8,d} {curve['events']:9,d} {curve['store_events_per_s']:9,.0f} "
                  f"{curve['route_events_per_s']:9,.0f} {curve['route_events_per_cpu_s']:8,.0f} "
                  f"{curve['routed_events_per_s']:8,.0f} "
                  f"{curve['raw_events_per_s']:9,.0f} {curve['routed_vs_raw']:7.3f} {curve['scheduler_pass_s']:8.2f} "
                  f"{curve['scheduler_ms_per_due_account']:7.2f} {curve['bytes_per_event']:8.0f}", flush=True)
    return curves


def run(sizes: list[int], days: int, quick: bool, postgres: str | None,
        postgres_sizes: list[int] | None = None) -> dict[str, Any]:
    figures: dict[str, Any] = {"mode": "quick" if quick else "full", "days": days}
    print("1. stored and routed in this process (SQLite; routed = decided and committed, nothing on Temporal)")
    curves = _curves("sqlite", sizes, days)
    figures["curves"] = curves
    if postgres and postgres_sizes:
        print("   the same on PostgreSQL")
        figures["postgres_curves"] = _curves("postgresql", postgres_sizes, days, postgres)
    largest = curves[-1]
    figures.update(core_routed_events_per_s=largest["routed_events_per_s"],
                   core_routed_vs_raw=largest["routed_vs_raw"], bytes_per_event=largest["bytes_per_event"])
    figures.update(_scheduler(largest["accounts"], quick, largest))

    print("2. routing one change against the account's history (median)")
    history = route_history.measure([0, 300, 1000, 3000], 30 if quick else 60)
    for name, value in history.items():  # logins (route_ms_history_N), then usage updates (route_update_ms_…)
        kind = "usage update" if name.startswith("route_update_") else "login"
        print(f"   {kind:12s} {name.rsplit('_', 1)[1]:>5s} past changes: {value:6.2f} ms")
    figures.update(history)

    print("3. the drain: journey starts carried out on a Temporal dev server")
    figures.update(drain_speed.measure(100 if quick else 300))
    print(f"   {figures['drain_starts_per_s']:,.1f} starts/s")

    print("4. the API and `playbook ingest`, until every stored event is routed (SQLite)")
    # `--live`: the sign-ups start journeys, so routing commits starts and signals the drain carries out
    api = _script("ingest_speed.py", "--accounts", str(150 if quick else 1000), "--days", str(days), "--no-postgres",
                  "--live")
    sqlite = api.get("sqlite", {})
    if sqlite:
        figures.update(routed_events_per_s=sqlite["api"]["routed_events_per_second"],
                       routed_vs_raw=sqlite["routed_vs_raw"],
                       ingest_routed_vs_raw=round(sqlite["ingest"]["routed_events_per_second"]
                                                  / sqlite["raw"]["events_per_second"], 4),
                       api_events=sqlite["events"], api_drained_intents=sqlite["api"].get("drained_intents"),
                       api_drained_seconds=sqlite["api"].get("drained_seconds"))

    print("   the floor: JSON lines read and their rows inserted, nothing else, against raw (`intake_floor.py`)")
    with tempfile.TemporaryDirectory(prefix="playbook-floor-") as scratch:
        floor = intake_floor.measure(150 if quick else 1000, days, Path(scratch))
    figures["parse_insert_vs_raw"] = floor["parse_insert_vs_raw"]
    print(f"   {floor['events']:,d} events: parse and insert {floor['parse_insert_events_per_s']:,.0f}/s, raw "
          f"{floor['raw_events_per_s']:,.0f}/s: at most {floor['parse_insert_vs_raw']:.3f} of raw for any intake in Python")

    print("5. shared routing on PostgreSQL: one router process, then two")
    if postgres or not quick:
        figures["shared"] = _script("shared_routers.py", "--accounts", str(150 if quick else 1000),
                                    *(["--postgres", postgres] if postgres else []))
    else:
        figures["shared"] = {"skipped": "quick run without --postgres or PLAYBOOK_TEST_POSTGRES_URL"}
        print(f"   skipped: {figures['shared']['skipped']}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 and 1,000 accounts: under 5 minutes")
    parser.add_argument("--accounts", help="comma-separated numbers of accounts (default 1000,10000,100000)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server for shared routing")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-accounts", metavar="N,N",
                        help="also the curves on PostgreSQL at these sizes (default: none; e.g. 1000,10000)")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in (args.accounts or ("300,1000" if args.quick else "1000,10000,100000")).split(",")]
    postgres = None if args.no_postgres else (args.postgres or os.environ.get("PLAYBOOK_TEST_POSTGRES_URL"))
    postgres_sizes = [int(n) for n in args.postgres_accounts.split(",")] if args.postgres_accounts else None
    figures = run(sizes, args.days, args.quick, postgres, postgres_sizes)
    routed, history = figures.get("routed_vs_raw"), figures["route_ms_history_3000"] / figures["route_ms_history_0"]
    print(f"goals: routed/raw {routed} (>= {GOAL_ROUTED_VS_RAW}, the API until routed; in this process "
          f"{figures['core_routed_vs_raw']}; reading and inserting alone: {figures.get('parse_insert_vs_raw')}), history 3,000 vs 0 x{history:.2f} (<= x{GOAL_HISTORY_RATIO})")
    figures["goals_met"] = {"routed_vs_raw": routed is not None and routed >= GOAL_ROUTED_VS_RAW,
                            "route_history": history <= GOAL_HISTORY_RATIO}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
