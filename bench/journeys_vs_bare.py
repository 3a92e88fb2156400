"""Journeys per second through the engine versus a bare hand-written Temporal workflow of the
same shape, on the same local dev server in the same run.

    .venv/bin/python bench/journeys_vs_bare.py [--journeys 300] [--rounds 2] [--warmup 20] [--lead 1.0]

Starts `temporal server start-dev` from the venv (headless, 127.0.0.1, a free port, a temporary
SQLite file with `journal_mode=wal` and `synchronous=normal`), and stops it at the end.

- Engine: a playbook of six in-app sends at entry (the onboarding shape with its steps at
  day 0), started the way the engine starts journeys (`engine.routing.starter.JourneyStarter`), run by a
  worker from `workers.runtime.build_worker` with the real activities, a real store
  (`Store.open("sqlite:///…")`) and a `CaptureMailer`.
- Bare: `bench/bare_journey.py`, the same timer (until the entry time, `--lead` seconds after
  the start) and six activities that each write one row to SQLite, on a worker with the same
  sandbox and the same defaults.

Both workers run side by side on the shared server, each on its own task queue. Each side
first runs `--warmup` journeys (not counted); then `--rounds` batches of `--journeys` journeys
per side, all started at once, in the order engine, bare, bare, engine, ... (`--order` picks the
side that starts): whichever side runs later meets a larger server database and a warmer
machine, and the alternation cancels that drift, which one batch after the other does not. A
batch's rate is its journeys over the time from its first start to its last completion; a
side's rate is its journeys over the sum of its batches' times. Prints every batch, both rates
and their ratio (goal: engine / bare >= 1.0) with the ratio of each round, the Temporal history
of one journey of each kind (events, activities, timers, workflow tasks) and the worker's and
the server's CPU time per journey.
`--threaded` (an experiment) runs the engine's activities on threads instead of the worker's
event loop; `--one-at-a-time` (another) has the engine send nothing together: each in-app
message its own activity and the end its own local activity, as before runs of messages. The last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dev_server import DevServer
from journey_sides import BareSide, EngineSide, Side

GOAL_RATIO = 1.0


def schedule(rounds: int, first: str) -> list[str]:
    """The measured batches, in an order that cancels a steady drift of the shared server (its
    database grows, the machine warms): engine, bare, bare, engine, engine, bare ... (ABBA)."""
    second = "bare" if first == "engine" else "engine"
    order: list[str] = []
    for index in range(rounds):
        order += [first, second] if index % 2 == 0 else [second, first]
    return order


# --------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> dict[str, Any]:
    order = schedule(args.rounds, args.order.split(",")[0])
    with tempfile.TemporaryDirectory(prefix="playbook-bench-") as scratch:
        folder = Path(scratch)
        server = DevServer(folder)
        try:
            client = await server.connect()
            (folder / "engine").mkdir()
            (folder / "bare").mkdir()
            sides: dict[str, Side] = {
                "engine": EngineSide(client, folder / "engine", args.warmup + args.journeys * args.rounds, args.lead,
                                     args.threaded, args.one_at_a_time),
                "bare": BareSide(client, folder / "bare", args.lead),
            }
            engine_side, bare_side = sides["engine"], sides["bare"]
            assert isinstance(engine_side, EngineSide) and isinstance(bare_side, BareSide)
            async with engine_side.worker, bare_side.worker:
                for name in order[:2]:
                    if args.warmup:
                        await sides[name].batch(args.warmup, server.process.pid)
                batches = [await sides[name].batch(args.journeys, server.process.pid) for name in order]
                ends = {"engine": await engine_side.finish(), "bare": await bare_side.finish()}
        finally:
            server.stop()

    def total(name: str, key: str) -> float:
        return sum(batch[key] for batch in batches if batch["side"] == name)

    journeys = args.journeys * args.rounds
    rates = {name: journeys / total(name, "seconds") for name in ("engine", "bare")}
    ratio = rates["engine"] / rates["bare"]
    round_ratios = [_round_ratio(batches[index:index + 2]) for index in range(0, len(batches), 2)]
    print(f"dev server: temporal server start-dev, SQLite file (wal, synchronous=normal); {args.journeys} journeys "
          f"per batch, {args.rounds} per side in the order {', '.join(order)}, after {args.warmup} per side to warm "
          "up" + ("; engine activities on threads (experiment)" if args.threaded else "")
          + ("; engine sending one at a time (experiment)" if args.one_at_a_time else ""))
    print()
    for batch in batches:
        print(f"  {batch['side']:7s} {batch['journeys'] / batch['seconds']:6.1f} journeys/s  ({batch['seconds']:.1f} s; "
              f"worker CPU {batch['cpu'] / batch['journeys'] * 1000:.1f} ms/journey, server CPU "
              f"{batch['server_cpu'] / batch['journeys'] * 1000:.1f} ms/journey)")
    print()
    for name in ("engine", "bare"):
        shape = ends[name]["shape"]
        print(f"{name:7s} {rates[name]:7.1f} journeys/s  ({total(name, 'seconds'):.1f} s for {journeys}; worker CPU "
              f"{total(name, 'cpu') / journeys * 1000:.1f} ms/journey; history {shape['events']} events, "
              f"{shape['activities']} activities, {shape['timers']} timers, {shape['workflow_tasks']} workflow tasks)")
    print(f"ratio    {ratio:7.2f}  engine / bare   (goal >= {GOAL_RATIO}; "
          f"round by round {', '.join(f'{r:.2f}' for r in round_ratios)})")
    return {
        "journeys": args.journeys,
        "rounds": args.rounds,
        "order": order,
        "threaded_engine_activities": args.threaded,
        "one_at_a_time": args.one_at_a_time,
        "engine_journeys_per_second": round(rates["engine"], 2),
        "bare_journeys_per_second": round(rates["bare"], 2),
        "ratio": round(ratio, 3),
        "round_ratios": [round(r, 3) for r in round_ratios],
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio >= GOAL_RATIO,
        "engine_history": ends["engine"]["shape"],
        "bare_history": ends["bare"]["shape"],
        "engine_worker_cpu_ms_per_journey": round(total("engine", "cpu") / journeys * 1000, 1),
        "bare_worker_cpu_ms_per_journey": round(total("bare", "cpu") / journeys * 1000, 1),
        "server_cpu_ms_per_journey": {name: round(total(name, "server_cpu") / journeys * 1000, 1)
                                      for name in ("engine", "bare")},
        "batches": [{key: round(value, 3) if isinstance(value, float) else value for key, value in batch.items()}
                    for batch in batches],
    }


def _round_ratio(pair: list[dict[str, Any]]) -> float:
    """Engine / bare journeys per second in one round (one batch of each)."""
    rate = {batch["side"]: batch["journeys"] / batch["seconds"] for batch in pair}
    return rate["engine"] / rate["bare"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--journeys", type=int, default=300, help="journeys per batch (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="journeys per side run first, not counted")
    parser.add_argument("--lead", type=float, default=1.0,
                        help="seconds from a start to the journey's entry time: its one timer (default 1)")
    parser.add_argument("--threaded", action="store_true",
                        help="experiment: run the engine's activities off the worker's event loop")
    parser.add_argument("--one-at-a-time", action="store_true",
                        help="experiment: the engine sends each message in its own activity, the end in its own")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measured batches per side, in the order engine, bare, bare, engine ... (default 2)")
    parser.add_argument("--order", default="engine,bare", choices=("engine,bare", "bare,engine"),
                        help="the side measured first (then the order alternates)")
    args = parser.parse_args(argv)
    if args.journeys < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--journeys and --rounds take a positive number, --warmup zero or more")
    figures = asyncio.run(run(args))
    print(json.dumps(figures))
    return 0 if figures["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
