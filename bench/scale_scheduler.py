"""The scheduler of time triggers at scale, and the store's size per event (SQLite).

    .venv/bin/python bench/scale_scheduler.py [--quick] [--accounts N ...]

Default: 1,000, 10,000 and 100,000 accounts; `--quick`: 1,000 and 10,000. For each size:

- a generated timeline (`bench/generate_timeline.py`, seed 7, 30 days from Monday 2026-01-05)
  is stored and routed in process (the standard playbooks, a starter that starts nothing), as it
  arrives at the end of the timeline; `bytes_per_event` is the database file (after a WAL
  checkpoint) over the events stored. With `--quick`, the size is measured on at most 1,000
  accounts (`size_accounts`).
- the Monday trend pass: every account has the standard playbooks' trend trigger (`churn`,
  weekly logins), checked Mondays at 09:00 account time, so every account is due once between
  Sunday noon and Monday evening UTC. `index_build_s`: the first `next_due`, which computes
  every account's next instant (once per store, and again after a playbook version changes the
  time triggers); `quiet_round_ms`: a `next_due` with nothing due since; `scheduler_pass_s`: the
  pass (`RoutingCore.fire_due`) over that window, `due_accounts` of `accounts_measured` due;
  `scheduler_ms_per_due_account` = pass / due accounts. Beside them, the same work without the
  index, as the scheduler did it before (every account's fields read each round, every account
  looked at by each pass): `full_scan_round_s` and `full_scan_pass_s`.
- proportionality (`proportional`): a store of 10,000 accounts (`--proportional-accounts`) with
  only the renewal playbook, whose renewal dates put 1%, then 10% of them (100, then 1,000) due
  in one pass: the two passes' seconds, and their ratio (10 if the work is proportional to the
  accounts due, 1 if the pass cost the same whatever was due).

Goal: `bytes_per_event` ≤ 600 at every size (exit 0 when met). The last line is one JSON object:
the figures by size. Importable: `scheduler_figures(accounts, quick)` returns one size's figures
(`bench/scale.py` uses it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate_timeline  # noqa: E402

from cli.playbook_loading import load_bundle  # noqa: E402
from dsl import ir  # noqa: E402
from engine.intake.ingestion import Ingestor  # noqa: E402
from engine.records import Intent, StartJourney  # noqa: E402
from engine.routing import RoutingCore  # noqa: E402
from engine.routing.account_cache import AccountCache, Lifetime  # noqa: E402
from engine.routing.starter import JourneyStarter  # noqa: E402
from engine.store import NewChange, Store  # noqa: E402

__all__ = ["scheduler_figures"]

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
DAYS = 30
MONDAY_AFTER = datetime(2026, 1, 18, 12, tzinfo=UTC)  # Sunday noon UTC: before every zone's Monday 09:00
MONDAY_UNTIL = datetime(2026, 1, 19, 20, tzinfo=UTC)  # Monday evening UTC: after every zone's Monday 09:00
QUICK_SIZE_ACCOUNTS = 1000
PROPORTIONAL_ACCOUNTS = 10_000
GOAL_BYTES_PER_EVENT = 600
ROUTE_RUN = 500


class _StartsNothing(JourneyStarter):
    """The journeys are not started: the bench measures the scheduler and the store, not Temporal."""

    def __init__(self, store: Store) -> None:
        super().__init__(None, "bench", store)  # type: ignore[arg-type]
        self.intents = 0

    async def execute(self, bundle: ir.Bundle, intents: list[Intent],
                      clock_offset_seconds: float | None = None) -> list[StartJourney]:
        self.intents += len(intents)
        return []


def _core(store: Store, bundle: ir.Bundle) -> tuple[RoutingCore, _StartsNothing]:
    starter = _StartsNothing(store)
    return RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle, starter), starter


def _file_bytes(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def _stored_timeline(folder: Path, accounts: int, bundle: ir.Bundle, *, route: bool) -> tuple[Path, int]:
    """A store holding the generated timeline (routed when `route`): its path and the events stored."""
    path = folder / f"timeline-{accounts}.db"
    objects = generate_timeline.generate(accounts, DAYS, 7, START)
    store = Store.open(f"sqlite:///{path}")
    try:
        arrived = START + timedelta(days=DAYS)
        Ingestor(store, bundle.model, batch_size=2000).ingest_objects(objects, arrived)
        if route:
            core, _ = _core(store, bundle)
            while changes := store.unrouted(ROUTE_RUN):
                core.route_run(changes)
                store.mark_routed([change.seq for change in changes], arrived)
    finally:
        store.close()
    return path, len(objects)


def _monday_pass(path: Path, bundle: ir.Bundle) -> dict[str, Any]:
    store = Store.open(f"sqlite:///{path}")
    try:
        core, starter = _core(store, bundle)
        core.router.due(MONDAY_AFTER, MONDAY_UNTIL, store.account_ids()[:20])  # warm-up: statements compiled
        begin = time.perf_counter()
        core.router.next_due(MONDAY_AFTER)  # before the index: every account's fields, every round
        scanned = time.perf_counter() - begin
        begin = time.perf_counter()
        core.next_due(MONDAY_AFTER)  # the index computed for every account: once per store and plan
        built = time.perf_counter() - begin
        begin = time.perf_counter()
        core.next_due(MONDAY_AFTER)
        quiet = time.perf_counter() - begin
        due = len(store.due_rows(MONDAY_UNTIL))
        begin = time.perf_counter()
        asyncio.run(core.fire_due(MONDAY_AFTER, MONDAY_UNTIL))
        passed = time.perf_counter() - begin
        begin = time.perf_counter()
        core.router.due(MONDAY_AFTER, MONDAY_UNTIL)  # before the index: every account, read through the store
        full_pass = time.perf_counter() - begin
        accounts = len(store.account_ids())
    finally:
        store.close()
    return {"accounts_measured": accounts, "due_accounts": due, "index_build_s": round(built, 3),
            "quiet_round_ms": round(quiet * 1000, 2), "scheduler_pass_s": round(passed, 3),
            "scheduler_ms_per_due_account": round(passed * 1000 / max(due, 1), 3),
            "full_scan_round_s": round(scanned, 3), "full_scan_pass_s": round(full_pass, 3),
            "journeys_started": starter.intents}


def _renewal_store(path: Path, accounts: int, due: int, window: tuple[datetime, datetime]) -> None:
    """`accounts` accounts with a renewal date, `due` of them 90 days after a day in the window."""
    store = Store.open(f"sqlite:///{path}")
    try:
        due_date = window[0].date() + timedelta(days=90)  # 90 days before it, at 09:00 UTC: in the window
        far = date(2027, 6, 1)
        changes = [NewChange(account=f"acct-{n:06d}", at=START, event_id=f"renewal-{n}",
                             traits={"timezone": "UTC", "renewal_date": (due_date if n < due else far).isoformat()})
                   for n in range(accounts)]
        # one account due the day before: a first pass warms the store's statements up
        changes.append(NewChange(account="warm-up", at=START, event_id="warm-up",
                                 traits={"timezone": "UTC", "renewal_date": (due_date - timedelta(days=1)).isoformat()}))
        for first in range(0, len(changes), 5000):
            store.add_changes(changes[first:first + 5000], START)
    finally:
        store.close()


def _proportional(folder: Path, bundle: ir.Bundle, accounts: int) -> dict[str, Any]:
    renewal = next(pb for pb in bundle.playbooks.values() if isinstance(pb.trigger, ir.DateTrigger))
    only_renewal = bundle.model_copy(update={"playbooks": {renewal.id: renewal}})
    after = datetime(2026, 2, 1, tzinfo=UTC)
    until = after + timedelta(days=1)
    figures: dict[str, Any] = {"accounts": accounts}
    small, large = max(accounts // 100, 1), max(accounts // 10, 1)
    for label, due in (("small", small), ("large", large)):
        path = folder / f"renewal-{due}.db"
        _renewal_store(path, accounts, due, (after, until))
        store = Store.open(f"sqlite:///{path}")
        try:
            core, _ = _core(store, only_renewal)
            core.next_due(after - timedelta(days=1))
            asyncio.run(core.fire_due(after - timedelta(days=1), after))  # the warm-up account
            core.next_due(after)
            found = len(store.due_rows(until))
            begin = time.perf_counter()
            asyncio.run(core.fire_due(after, until))
            figures[f"{label}_due"] = found
            figures[f"{label}_pass_s"] = round(time.perf_counter() - begin, 3)
        finally:
            store.close()
    figures["ratio"] = round(figures["large_pass_s"] / max(figures["small_pass_s"], 1e-6), 2)
    return figures


def scheduler_figures(accounts: int, quick: bool, proportional_accounts: int = PROPORTIONAL_ACCOUNTS
                      ) -> dict[str, Any]:
    """One size's figures (see the module's docstring)."""
    bundle = load_bundle(ROOT / "playbooks")
    with tempfile.TemporaryDirectory(prefix="scale-scheduler-") as tmp:
        folder = Path(tmp)
        size_accounts = min(accounts, QUICK_SIZE_ACCOUNTS) if quick else accounts
        sized, events = _stored_timeline(folder, size_accounts, bundle, route=True)
        figures: dict[str, Any] = {"size_accounts": size_accounts, "size_events": events,
                                   "bytes_per_event": round(_file_bytes(sized) / max(events, 1), 1)}
        if size_accounts == accounts:
            timeline = sized
        else:
            timeline, _ = _stored_timeline(folder, accounts, bundle, route=False)
        figures.update(_monday_pass(timeline, bundle))
        figures["proportional"] = _proportional(folder, bundle, proportional_accounts)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 accounts; size on 1,000")
    parser.add_argument("--accounts", type=int, nargs="+", help="the sizes (default: 1000 10000 [100000])")
    parser.add_argument("--proportional-accounts", type=int, default=PROPORTIONAL_ACCOUNTS,
                        help="accounts of the proportionality stores, 1%% then 10%% of them due (default 10000)")
    args = parser.parse_args(argv)
    sizes = args.accounts or ([1000, 10_000] if args.quick else [1000, 10_000, 100_000])
    results: dict[str, Any] = {}
    for accounts in sizes:
        figures = scheduler_figures(accounts, args.quick, args.proportional_accounts)
        results[str(accounts)] = figures
        shares = figures["proportional"]
        print(f"{accounts:>7} accounts: {figures['bytes_per_event']} B/event on {figures['size_accounts']} accounts "
              f"(goal {GOAL_BYTES_PER_EVENT}), index built in {figures['index_build_s']} s, quiet round "
              f"{figures['quiet_round_ms']} ms, Monday pass {figures['scheduler_pass_s']} s for "
              f"{figures['due_accounts']} due ({figures['scheduler_ms_per_due_account']} ms each; without the index: "
              f"round {figures['full_scan_round_s']} s, pass {figures['full_scan_pass_s']} s); "
              f"{shares['small_due']} vs {shares['large_due']} due of {shares['accounts']}: "
              f"{shares['small_pass_s']} s vs {shares['large_pass_s']} s (x{shares['ratio']})", flush=True)
    print(json.dumps(results))
    return 0 if all(figures["bytes_per_event"] <= GOAL_BYTES_PER_EVENT for figures in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
