"""What routing one change costs against the account's history: 0, 300, 1,000, 3,000 past changes.

    .venv/bin/python bench/route_history.py [--histories 0,300,1000,3000] [--changes 40]

For each size, a fresh SQLite store holds one account of the standard playbooks (its first trait
update from `generate_timeline.py`, then the given number of past changes: logins and, one in
three, a trait update of its usage), all routed. Then `--changes` new logins, and as many usage
updates (which recompute the health score and evaluate the conditions that read it), are stored
and routed one at a time, each as its own run of the routing
core as the API's router drives it (a per-run cache, nothing carried out on Temporal), and each
one's routing is timed; the sizes take turns, change by change, so that the machine's load
weighs on all alike. Prints the median per size and, last, one JSON object:
`route_ms_history_<N>` (logins) and `route_update_ms_history_<N>` for each N. Goal: the median
at 3,000 at most 1.5 times the one at 0, for both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_timeline

from cli.playbook_loading import load_bundle
from dsl import ir
from engine.intake.ingestion import Ingestor
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store

ROOT = Path(__file__).resolve().parents[1]
GOAL_RATIO = 1.5
START = generate_timeline.DEFAULT_START
FAR = timedelta(days=10_000)  # the trigger horizon: nothing here is history
NOW = START + timedelta(days=365)


def _changes(account: str, first: int, count: int, begin: datetime, *, updates: bool = True) -> list[dict[str, Any]]:
    """`count` changes of `account` a minute apart from `begin`: logins and, with `updates`, one in
    three a usage update."""
    objects: list[dict[str, Any]] = []
    for number in range(first, first + count):
        at = (begin + timedelta(minutes=number)).strftime("%Y-%m-%dT%H:%M:%SZ")
        obj: dict[str, Any] = {"id": f"{account}-h{number}", "account": account, "at": at}
        if updates and number % 3 == 2:
            obj["traits"] = {"api_calls_pct": 10 + number % 50, "seats_used": 1 + number % 7}
        else:
            obj["event"], obj["data"] = "login", {}
        objects.append(obj)
    return objects


class _Account:
    """One store holding one account with `history` past changes, all routed."""

    def __init__(self, bundle: ir.Bundle, folder: Path, history: int) -> None:
        self.store = Store.open(f"sqlite:///{folder / f'history-{history}.db'}")
        first = next(obj for obj in generate_timeline.generate(1, 1, 7, START) if "traits" in obj)
        self.account, self.history = first["account"], history
        self.begin = datetime.fromisoformat(first["at"].replace("Z", "+00:00")) + timedelta(minutes=1)
        self.ingestor = Ingestor(self.store, bundle.model, batch_size=5_000)
        self.core = RoutingCore(AccountCache(self.store, lifetime=Lifetime.PER_RUN), bundle,
                                JourneyStarter(None, "bench", self.store))  # type: ignore[arg-type]  # nothing carried out
        past = self.ingestor.ingest_objects([first, *_changes(self.account, 0, history, self.begin)], NOW,
                                            horizon=FAR).accepted
        for index in range(0, len(past), 500):
            run = past[index:index + 500]
            self.core.route_run(run)
            self.store.mark_routed([change.seq for change in run], NOW)
        self.routed = 0

    def route_one(self, *, update: bool = False) -> float:
        """Store one more login (or usage update) and route it as a run of its own: the milliseconds
        routing took."""
        obj = _changes(self.account, self.history + self.routed, 1, self.begin, updates=False)[0]
        if update:
            number = self.history + self.routed
            del obj["event"], obj["data"]
            obj["traits"] = {"api_calls_pct": 10 + number % 50, "seats_used": 1 + number % 7}
        self.routed += 1
        stored = self.ingestor.ingest_objects([obj], NOW, horizon=FAR).accepted
        began = time.perf_counter()
        self.core.route_run(stored)
        took = (time.perf_counter() - began) * 1000
        self.store.mark_routed([change.seq for change in stored], NOW)
        return took


def measure(histories: list[int], changes: int) -> dict[str, float]:
    """The median milliseconds to route one new change for each size of history; the sizes take
    turns, change by change, so that the machine's load weighs on all alike."""
    bundle = load_bundle(ROOT / "playbooks")
    with tempfile.TemporaryDirectory(prefix="playbook-route-history-") as folder:
        accounts = [_Account(bundle, Path(folder), size) for size in histories]
        try:
            timings: list[list[float]] = [[] for _ in accounts]
            updates: list[list[float]] = [[] for _ in accounts]
            for _ in range(changes):
                for account, found, updated in zip(accounts, timings, updates, strict=True):
                    found.append(account.route_one())
                    updated.append(account.route_one(update=True))
            figures = {f"route_ms_history_{account.history}": round(statistics.median(found), 3)
                       for account, found in zip(accounts, timings, strict=True)}
            figures.update({f"route_update_ms_history_{account.history}": round(statistics.median(found), 3)
                            for account, found in zip(accounts, updates, strict=True)})
            return figures
        finally:
            for account in accounts:
                account.store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", default="0,300,1000,3000")
    parser.add_argument("--changes", type=int, default=40)
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.histories.split(",")]
    figures = measure(sizes, args.changes)
    met = True
    for kind, prefix in (("login", "route_ms_history"), ("usage update", "route_update_ms_history")):
        for size in sizes:
            print(f"route one {kind}, {size:>5,} past changes: {figures[f'{prefix}_{size}']:7.2f} ms (median)")
        first, last = figures[f"{prefix}_{sizes[0]}"], figures[f"{prefix}_{sizes[-1]}"]
        met = met and last <= GOAL_RATIO * first
        print(f"{kind}, {sizes[-1]:,} vs {sizes[0]:,}: x{last / first:.2f} (goal <= x{GOAL_RATIO}) "
              f"{'met' if last <= GOAL_RATIO * first else 'MISSED'}")
    print(json.dumps(figures))
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
