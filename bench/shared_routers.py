"""Shared routing on PostgreSQL: one router process against two, the same timeline.

    .venv/bin/python bench/shared_routers.py [--accounts 300] [--days 30] [--postgres URL]

For each count of processes (1, then 2), a fresh database (`.ci/postgres.sh` starts a server
when no URL is given) holds the stored timeline (`generate_timeline.py`, seed 7, nothing routed);
then that many router processes (`server.api.routing_shared.SharedRouter`, as `playbook api`
runs it with `PLAYBOOK_API_ROUTING_SHARED`, the intents drained to a starter that calls nothing,
so the figure is routing's alone) route it all, each claiming its partitions; the time runs
from the first process's start of routing (after its start-up) to the last one's end. Prints the routed
events per second of each and, last, one JSON object: `shared_routed_per_s_1`,
`shared_routed_per_s_2` and their ratio. Run as `--route URL` it is one router process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_timeline
from ingest_speed import Databases, postgres_url

from cli.playbook_loading import load_bundle
from engine.intake.ingestion import Ingestor
from engine.records import Intent, StartJourney
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store
from server.api.routing_shared import SharedRouter

ROOT = Path(__file__).resolve().parents[1]
FAR = timedelta(days=10_000)


class _CallsNothing(JourneyStarter):
    async def execute(self, bundle: Any, intents: list[Intent],
                      clock_offset_seconds: float | None = None) -> list[StartJourney]:
        return []

    async def wake_scheduler(self) -> None:
        return None


async def route(url: str) -> None:
    """One router process: route and drain until every stored change is routed and drained."""
    store = Store.open(url, migrate=False)
    core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), load_bundle(ROOT / "playbooks"),
                       _CallsNothing(None, "bench", store))  # type: ignore[arg-type]  # no Temporal
    router = SharedRouter(store, core, 10.0, loop=asyncio.get_running_loop())
    last = max((change.seq for change in store.unrouted(10_000_000)), default=0)
    began = time.time()
    while True:
        done = await asyncio.to_thread(router.cycle)
        if not done:
            if await asyncio.to_thread(store.routed_through, last):
                break
            await asyncio.sleep(0.05)  # the other router holds what is left
    print(json.dumps({"routed": router.routed, "began": began, "ended": time.time()}))


def measure(accounts: int, days: int, server_url: str) -> dict[str, Any]:
    bundle = load_bundle(ROOT / "playbooks")
    objects = generate_timeline.generate(accounts, days, 7, generate_timeline.DEFAULT_START)
    now = generate_timeline.DEFAULT_START + timedelta(days=days + 1)
    figures: dict[str, Any] = {"accounts": accounts, "events": len(objects)}
    with tempfile.TemporaryDirectory(prefix="playbook-shared-") as scratch:
        databases = Databases("postgresql", Path(scratch), server_url)
        try:
            for processes in (1, 2):
                url = databases.fresh(f"shared{processes}")
                store = Store.open(url)
                try:
                    Ingestor(store, bundle.model, batch_size=5_000).ingest_objects(objects, now, horizon=FAR)
                finally:
                    store.close()
                routers = [subprocess.Popen([sys.executable, __file__, "--route", url], stdout=subprocess.PIPE,
                                            text=True, cwd=ROOT) for _ in range(processes)]
                reports = [json.loads(router.communicate()[0].strip().splitlines()[-1]) for router in routers]
                routed = [report["routed"] for report in reports]
                # from the first router's start of routing (its start-up left out) to the last one's end
                seconds = max(report["ended"] for report in reports) - min(report["began"] for report in reports)
                figures[f"shared_routed_per_s_{processes}"] = round(sum(routed) / seconds, 1)
                figures[f"shared_routed_by_{processes}"] = routed
        finally:
            databases.drop()
    figures["shared_2_vs_1"] = round(figures["shared_routed_per_s_2"] / figures["shared_routed_per_s_1"], 3)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--route", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.route:
        asyncio.run(route(args.route))
        return 0
    server, why = postgres_url(args.postgres, False)
    if server is None:
        print(f"shared routing needs PostgreSQL: {why}")
        print(json.dumps({"shared_skipped": why}))
        return 0
    figures = measure(args.accounts, args.days, server)
    for processes in (1, 2):
        print(f"{processes} router process(es): {figures[f'shared_routed_per_s_{processes}']:8,.0f} events routed/s "
              f"(each routed {figures[f'shared_routed_by_{processes}']})")
    print(f"2 vs 1: x{figures['shared_2_vs_1']}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
