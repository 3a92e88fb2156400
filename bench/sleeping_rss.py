"""Worker memory with many sleeping journeys: RSS of the worker process with 1,000 and then
10,000 journeys waiting on a long timer, on the local dev server.

    .venv/bin/python bench/sleeping_rss.py [--counts 1000,10000] [--cache 1000] [--window 300]

Starts `temporal server start-dev` from the venv (headless, 127.0.0.1, a free port, a temporary
SQLite file with `journal_mode=wal` and `synchronous=normal`) and a worker in its own process
(`workers.runtime.build_worker`, the real activities, a real store, `max_cached_workflows` =
`--cache`), then starts journeys of a playbook whose only step is at day 30, so each enters,
takes its snapshot and sleeps. Starts are paced: at most `--window` journeys not yet asleep.
After each count is reached and the worker has gone quiet, reads the worker's VmRSS and VmHWM
from /proc. Goal: flat, bounded by the workflow cache (the RSS at 10,000 sleeping journeys
within 25% of the RSS at 1,000, and its growth well below the size of the extra journeys).
The last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]

from dev_server import DevServer  # noqa: E402
from journey_sides import seed_accounts  # noqa: E402

from dsl import ir  # noqa: E402
from dsl.project import compile_folder  # noqa: E402
from engine.records import StartJourney  # noqa: E402
from engine.routing.starter import JourneyStarter  # noqa: E402
from engine.store import Store  # noqa: E402

GOAL_GROWTH = 0.25  # RSS at the largest count may exceed the RSS at the first by at most this share

MODEL = """\
account fields:
    name: text
    segment: one of enterprise, mid_market, smb, trial
    primary_contact: contact
    csm: owner

events:
    signed
"""

PLAYBOOK = """\
# One step a month after entry: a journey that sleeps.

playbook bench_sleeper "Sleeps thirty days":
    trigger: event signed

    day 30:
        send in_app wake_up
"""

TEMPLATE = """\
{% block subject %}A month with {{ account.name }}{% endblock %}
{% block text -%}
Hello {{ contact.name | default("there", true) }}.
{%- endblock %}
"""


def bench_bundle(folder: Path) -> ir.Bundle:
    (folder / "templates").mkdir(parents=True)
    (folder / "model.play").write_text(MODEL)
    (folder / "sleeper.play").write_text(PLAYBOOK)
    (folder / "templates" / "wake_up.in_app.jinja").write_text(TEMPLATE)
    compilation = compile_folder(folder)
    if not compilation.ok or compilation.bundle is None:
        raise SystemExit("the bench playbook does not compile: "
                         + "; ".join(d.headline() for d in compilation.diagnostics))
    return compilation.bundle


# --------------------------------------------------------------------------- the worker process


def worker_main(args: argparse.Namespace) -> None:
    """Run a worker until stdin closes (the parent's signal to stop)."""
    from temporalio.client import Client

    from activities.context import ActivityContext, CaptureMailer
    from activities.registry import load_registry
    from workers.runtime import DATA_CONVERTER, build_worker, quiet_runtime

    async def serve() -> None:
        bundle = compile_folder(Path(args.playbooks)).bundle
        assert bundle is not None
        store = Store.open(args.store)
        client = await Client.connect(args.address, data_converter=DATA_CONVERTER, runtime=quiet_runtime())
        context = ActivityContext(store=store, bundle=bundle, starter=JourneyStarter(client, args.task_queue, store),
                                  mailer=CaptureMailer())
        async with build_worker(client, args.task_queue, load_registry(), context,
                                max_cached_workflows=args.cache):
            print("ready", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        store.close()

    asyncio.run(serve())


# --------------------------------------------------------------------------- measuring


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB, from /proc/<pid>/status."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_entered(store_path: Path) -> int:
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM actions WHERE kind = 'enrolled'").fetchone()[0])
    finally:
        conn.close()


async def wait_quiet(pid: int, seconds: float = 3.0, timeout: float = 120.0) -> None:
    """Until the worker has used no CPU to speak of for `seconds` (its journeys are asleep)."""
    deadline = time.monotonic() + timeout
    last = proc_cpu(pid)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = proc_cpu(pid)
        if now - last > 0.05:
            quiet_since = time.monotonic()
        last = now
        if time.monotonic() - quiet_since >= seconds:
            return


async def run(args: argparse.Namespace) -> dict[str, Any]:
    counts = sorted(int(c) for c in args.counts.split(","))
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="playbook-bench-") as scratch:
        folder = Path(scratch)
        playbooks = folder / "playbooks"
        bundle = bench_bundle(playbooks)
        store_path = folder / "store.db"
        store = Store.open(f"sqlite:///{store_path}")
        accounts = [f"s{index:06d}" for index in range(counts[-1])]
        seed_accounts(store, bundle, accounts, datetime.now(UTC) - timedelta(minutes=5))
        server = DevServer(folder)
        worker: subprocess.Popen[str] | None = None
        try:
            client = await server.connect()
            task_queue = f"bench-sleep-{uuid.uuid4().hex[:8]}"
            worker = subprocess.Popen(
                [sys.executable, __file__, "--worker", "--address", server.address, "--task-queue", task_queue,
                 "--store", f"sqlite:///{store_path}", "--playbooks", str(playbooks), "--cache", str(args.cache)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":
                raise SystemExit("the worker did not start")
            await asyncio.sleep(2)
            idle = proc_status(worker.pid)
            print(f"worker idle: RSS {idle['VmRSS'] / 1024:.0f} MiB")
            rows.append({"journeys": 0, "rss_mib": round(idle["VmRSS"] / 1024, 1),
                         "hwm_mib": round(idle["VmHWM"] / 1024, 1), "seconds": 0.0})
            starter = JourneyStarter(client, task_queue, store)
            started = 0
            began = time.perf_counter()
            for target in counts:
                while started < target:
                    entered = count_entered(store_path)
                    room = min(target - started, args.window - (started - entered))
                    if room <= 0:
                        await asyncio.sleep(0.2)
                        continue
                    gate = asyncio.Semaphore(50)

                    async def start(account: str) -> None:
                        async with gate:
                            await starter.start(bundle, StartJourney(
                                playbook="bench_sleeper", account=account, entry_at=datetime.now(UTC),
                                reason="event signed", event="signed"), 0.0)

                    await asyncio.gather(*(start(a) for a in accounts[started:started + room]))
                    started += room
                while count_entered(store_path) < target:
                    await asyncio.sleep(0.5)
                await wait_quiet(worker.pid)
                status = proc_status(worker.pid)
                elapsed = time.perf_counter() - began
                row = {"journeys": target, "rss_mib": round(status["VmRSS"] / 1024, 1),
                       "hwm_mib": round(status["VmHWM"] / 1024, 1), "seconds": round(elapsed, 1)}
                rows.append(row)
                print(f"{target:7,} sleeping journeys: RSS {row['rss_mib']:6.0f} MiB, peak {row['hwm_mib']:6.0f} MiB"
                      f"  ({elapsed:.0f} s since the first start)", flush=True)
        finally:
            if worker is not None and worker.poll() is None:
                assert worker.stdin is not None
                worker.stdin.close()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
            server.stop()
            store.close()

    first, last = rows[1], rows[-1]
    growth = (last["rss_mib"] - first["rss_mib"]) / first["rss_mib"]
    per_extra = (last["rss_mib"] - first["rss_mib"]) * 1024 / max(1, last["journeys"] - first["journeys"])
    print(f"growth from {first['journeys']:,} to {last['journeys']:,}: {growth * 100:+.1f}% "
          f"({per_extra:.1f} KiB per extra journey)   (goal: flat, within {GOAL_GROWTH * 100:.0f}%, "
          f"max_cached_workflows={args.cache})")
    return {"cache": args.cache, "rows": rows, "growth": round(growth, 3),
            "kib_per_extra_journey": round(per_extra, 2), "goal_growth": GOAL_GROWTH,
            "goal_met": growth <= GOAL_GROWTH}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--counts", default="1000,10000", help="sleeping journeys to measure at (default 1000,10000)")
    parser.add_argument("--cache", type=int, default=1000, help="the worker's max_cached_workflows (default 1000)")
    parser.add_argument("--window", type=int, default=300, help="at most this many journeys not yet asleep")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--task-queue", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--playbooks", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0
    figures = asyncio.run(run(args))
    print(json.dumps(figures))
    return 0 if figures["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
