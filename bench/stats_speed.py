"""How long `playbook stats` takes on a store of 100,000 accounts (SQLite).

    .venv/bin/python bench/stats_speed.py [--accounts 100000] [--samples 20] [--keep FILE]

Writes the rows straight into a fresh store (its schema from the migrations): every account ran
`smb_onboarding` (the journey row, its actions and decisions keyed as the engine keys them, a
task for a fifth of them, most done) and was refused by `churn_trial_rescue`. About 11 rows of
the action log per account. The rows bypass the store's writes, so the counts kept as journeys
and tasks change and the action tallies are then built as migrations 0013 and 0010 build them on an
existing store (timed apart). Then times `playbook_stats` for that playbook and for the whole
folder (p50 and p99 of `--samples` reads), and prints the counts it found beside the counts
written. Goal: p99 under 200 ms for each on 100,000 accounts.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dsl.project import compile_folder  # noqa: E402
from engine.insight.analytics import playbook_stats  # noqa: E402
from engine.store import Store  # noqa: E402
from engine.store.action_tallies import fold  # noqa: E402
from engine.store.playbook_tallies import recount  # noqa: E402
from engine.store.task_tallies import recount_tasks  # noqa: E402

PB = "smb_onboarding"
GOAL_MS = 200.0
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def stamp(at: datetime) -> str:
    """A datetime as SQLAlchemy writes it into SQLite: naive UTC text with microseconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(path: Path, accounts: int, seed: int = 7) -> dict[str, int]:
    random.seed(seed)
    written = {"actions": 0, "sent day 0": 0, "suppressed day 0": 0, "tasks": 0, "done": 0}
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    action_rows: list[tuple[str, str, str, str, str, str | None]] = []
    journey_rows = []
    task_rows = []

    def act(at: datetime, account: str, kind: str, data: dict[str, object], key: str | None) -> None:
        action_rows.append((stamp(at), account, PB, kind, json.dumps(data), key))

    for n in range(accounts):
        account = f"acct-{n:06d}"
        run = f"{n:08x}-0000-4000-8000-000000000000"
        wid = f"journey/{PB}/{account}"
        entered = T0 + timedelta(minutes=n % 10080)
        prefix = f"{wid}/{run}/"
        decisions = 0

        def decide(at: datetime, what: str, path: str, detail: str, wid: str = wid, run: str = run,
                   account: str = account) -> None:
            nonlocal decisions
            act(at, account, "decided", {"what": what, "detail": detail, "reads": {}},
                f"{wid}/{run}/{path}/{what}/{decisions}")
            decisions += 1

        act(entered, account, "enrolled", {"reason": "event signed", "version": "v1"}, prefix + "enter")
        if random.random() < 0.1:
            act(entered, account, "suppressed", {"template": "welcome", "reason": "unsubscribed"}, prefix + "day 0/0")
            written["suppressed day 0"] += 1
        else:
            act(entered, account, "email", {"template": "welcome"}, prefix + "day 0/0")
            written["sent day 0"] += 1
        act(entered + timedelta(days=3), account, "in_app", {"template": "core_workflows_tutorial"}, prefix + "day 3/0")
        seen = random.random() < 0.5
        decide(entered + timedelta(days=7), "branch", "day 7/0",
               f"unless seen project_created: {'true (skipped)' if seen else 'false (ran)'}")
        if not seen:
            act(entered + timedelta(days=7), account, "email", {"template": "first_project"}, prefix + "day 7/0/then/0")
        act(entered + timedelta(days=14), account, "email", {"template": "webinar_invite"}, prefix + "day 14/0")
        decide(entered + timedelta(days=21), "branch", "day 21/0", "if tasks_completed >= 10: false (skipped)")
        rescue = random.random() < 0.2
        decide(entered + timedelta(days=30), "branch", "day 30/0",
               f"if feature_adoption < 20%: {'true (ran)' if rescue else 'false (skipped)'}")
        end = entered + timedelta(days=30)
        if rescue:
            done = random.random() < 0.8
            completed = end + timedelta(hours=random.randint(1, 96)) if done else None
            task_rows.append((f"t-{n:08d}", account, PB, wid, "Onboarding rescue", "sam@vendor.example", None,
                              "high", "done" if done else "open", stamp(end),
                              stamp(completed) if completed else None, prefix + "day 30/0/then/0"))
            act(end, account, "task", {"task": f"t-{n:08d}"}, prefix + "day 30/0/then/0")
            written["tasks"] += 1
            written["done"] += done
        act(end, account, "completed", {}, prefix + "end")
        journey_rows.append((wid, run, PB, account, "v1", stamp(entered), stamp(end), "completed", None))
        action_rows.append((stamp(entered), account, "churn_trial_rescue", "decided",
                            json.dumps({"what": "not_admitted", "detail": "", "reads": {}}),
                            f"decided/churn_trial_rescue/{account}/change-{n}"))
        if len(action_rows) > 50000:
            written["actions"] += len(action_rows)
            conn.executemany("INSERT INTO actions (at, account, playbook, kind, data, key) VALUES (?,?,?,?,?,?)",
                             action_rows)
            action_rows.clear()
    written["actions"] += len(action_rows)
    conn.executemany("INSERT INTO actions (at, account, playbook, kind, data, key) VALUES (?,?,?,?,?,?)",
                     action_rows)
    conn.executemany("INSERT INTO journeys (workflow_id, run_id, playbook, account, version, entered_at, ended_at,"
                     " status, reason) VALUES (?,?,?,?,?,?,?,?,?)", journey_rows)
    conn.executemany("INSERT INTO tasks (id, account, playbook, journey, title, owner, due, priority, status,"
                     " created_at, completed_at, key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", task_rows)
    conn.commit()
    conn.close()
    return written


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--keep", metavar="FILE", default=None, help="write the store here and keep it")
    args = parser.parse_args()
    compilation = compile_folder(ROOT / "playbooks")
    assert compilation.bundle is not None, compilation.render()
    bundle = compilation.bundle
    with tempfile.TemporaryDirectory(prefix="stats-speed-") as folder:
        path = Path(args.keep) if args.keep else Path(folder) / "store.db"
        Store.open(f"sqlite:///{path}").close()  # the schema, from the migrations
        started = time.perf_counter()
        written = generate(path, args.accounts)
        generated = time.perf_counter() - started
        store = Store.open(f"sqlite:///{path}")
        try:
            started = time.perf_counter()
            with store.database.write("counts") as conn:
                fold(conn)
                recount(conn)
                recount_tasks(conn)
            counted = time.perf_counter() - started
            one, every = [], []
            for _ in range(args.samples):
                started = time.perf_counter()
                [stats] = playbook_stats(store, bundle, PB).playbooks
                one.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                playbook_stats(store, bundle)
                every.append((time.perf_counter() - started) * 1000)
        finally:
            store.close()
    welcome = stats.steps[0].statements[0]
    rescue = stats.steps[-1].statements[1]
    print(f"store: {args.accounts:,} accounts, {written['actions']:,} actions, {written['tasks']:,} tasks "
          f"(written in {generated:.1f} s, counted and tallied in {counted:.1f} s)")
    print(f"counted: entered {stats.entered:,}, day 0 sent {welcome.sent:,} (written {written['sent day 0']:,}), "
          f"suppressed {sum((welcome.suppressed or {}).values()):,} (written {written['suppressed day 0']:,}), "
          f"tasks {rescue.opened:,}/{rescue.completed:,} (written {written['tasks']:,}/{written['done']:,})")
    figures = {"one": (percentile(one, 0.5), percentile(one, 0.99)),
               "all": (percentile(every, 0.5), percentile(every, 0.99))}
    print(f"stats of {PB}: p50 {figures['one'][0]:.1f} ms, p99 {figures['one'][1]:.1f} ms; every playbook: "
          f"p50 {figures['all'][0]:.1f} ms, p99 {figures['all'][1]:.1f} ms (goal p99 < {GOAL_MS:g} ms)")
    met = max(figures["one"][1], figures["all"][1]) < GOAL_MS
    print(json.dumps({"accounts": args.accounts, "actions": written["actions"], "count_seconds": round(counted, 1),
                      "one_playbook_p99_ms": round(figures["one"][1], 1),
                      "all_playbooks_p99_ms": round(figures["all"][1], 1), "goal_ms": GOAL_MS, "goal_met": met}))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
