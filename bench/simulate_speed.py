"""How fast `simulate` runs a realistic timeline: 1,000 accounts through the standard playbooks
for 30 days, on the time-skipping test server with the real workflows and activities.

    .venv/bin/python bench/simulate_speed.py [--accounts 1000] [--days 30] [--seed 7]
                                             [--logins-per-week 5] [--timeout SECONDS]

The timeline comes from `bench/generate_timeline.py`. Prints the wall time, the number of
actions (all, and without `decided`), actions per second and journeys started, with the goal
(the whole run under 2 minutes) beside them, then where the time went: for each activity its
calls and time inside it, and the time the timeline workflow spent between its activities
(round trips through the server and the worker). While it runs, a progress line every 30 s on
stderr says how many of the timeline's instants are done; with `--timeout` a run that has not
finished is stopped and the figures are extrapolated from its progress (marked as such).
The last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]

import generate_timeline  # noqa: E402

import simulation.simulate as simulation  # noqa: E402
from activities.registry import Registry, load_registry  # noqa: E402
from dsl.project import compile_folder  # noqa: E402
from simulation.shards import auto_shards  # noqa: E402

GOAL_SECONDS = 120.0
TIMELINE_ACTIVITIES = ("timeline.",)  # the activities the timeline workflow calls (`timeline.advance`)


@dataclasses.dataclass
class Spans:
    """Start and end (perf_counter) of every activity run, by activity name."""

    runs: list[tuple[str, float, float]] = dataclasses.field(default_factory=list)
    feed: Any = None  # this process's `TimelineFeed`, seen by its first `timeline.advance`
    instants: int = 0  # the instants of that feed (all of the timeline's, in one process)

    def share_done(self) -> float:
        """The share of this process's instants taken so far (its moments with no line left)."""
        left = getattr(self.feed, "moments_left", None)
        return 0.0 if left is None or not self.instants else (self.instants - left()) / self.instants

    def count(self, name: str) -> int:
        return sum(1 for run in self.runs if run[0] == name)

    def by_name(self) -> dict[str, tuple[int, float]]:
        totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        for name, began, ended in self.runs:
            totals[name][0] += 1
            totals[name][1] += ended - began
        return {name: (int(n), s) for name, (n, s) in totals.items()}

    def timeline_gaps(self) -> list[float]:
        """Time between the end of one activity of the timeline workflow (`timeline.advance`)
        and the start of its next: the round trips through the server and the worker."""
        runs = sorted((r for r in self.runs if r[0].startswith(TIMELINE_ACTIVITIES)), key=lambda r: r[1])
        return [b[1] - a[2] for a, b in zip(runs, runs[1:], strict=False)]


def traced(spans: Spans):  # type: ignore[no-untyped-def]
    """A `load_registry` whose activities record their spans (the functions are unchanged)."""

    def load(*args: Any, **kwargs: Any) -> Registry:
        registry = load_registry(*args, **kwargs)
        for name, spec in list(registry.specs.items()):
            fn = spec.fn

            async def wrapped(params: Any, ctx: Any, _fn: Any = fn, _name: str = name) -> Any:
                if spans.feed is None and _name.startswith(TIMELINE_ACTIVITIES):
                    spans.feed = getattr(ctx, "extras", {}).get("timeline")
                    spans.instants = spans.feed.moments_left() if spans.feed is not None else 0
                began = time.perf_counter()
                try:
                    return await _fn(params, ctx)
                finally:
                    spans.runs.append((_name, began, time.perf_counter()))

            registry.specs[name] = dataclasses.replace(spec, fn=wrapped)
        return registry

    return load


async def _progress(spans: Spans, began: float) -> None:
    while True:
        await asyncio.sleep(30)
        share = spans.share_done()
        elapsed = time.perf_counter() - began
        eta = elapsed / share * (1 - share) if share else float("nan")
        print(f"  … {elapsed:5.0f}s: {share:.0%} of the instants of this process ingested, about {eta:,.0f}s to go",
              file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    compilation = compile_folder(ROOT / "playbooks")
    assert compilation.bundle is not None, "the standard playbooks do not compile"
    spans = Spans()
    simulation.load_registry = traced(spans)
    with tempfile.TemporaryDirectory(prefix="playbook-bench-") as scratch:
        events = Path(scratch) / "events.jsonl"
        summary = generate_timeline.write(events, args.accounts, args.days, args.seed,
                                          logins_per_week=args.logins_per_week)
        for line in summary.lines():
            print(line)
        processes = args.processes or auto_shards(summary.events)
        print(f"processes: {processes}" + ("" if args.processes else " (as `playbook simulate` chooses)"))
        began, cpu = time.perf_counter(), time.process_time()
        progress = asyncio.create_task(_progress(spans, began))
        finished = True
        result = None
        try:
            result = await asyncio.wait_for(
                simulation.simulate(compilation.bundle, events, start=summary.start, days=args.days,
                                    processes=processes),
                timeout=args.timeout)
        except TimeoutError:
            finished = False
        finally:
            progress.cancel()
        wall = time.perf_counter() - began

    share = 1.0 if result is not None else spans.share_done()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures: dict[str, Any] = {
        "accounts": args.accounts, "days": args.days, "seed": args.seed, "objects": summary.events,
        "instants": summary.distinct_times, "finished": finished, "share_done": round(share, 3),
        "processes": processes,
        "timeline_steps": spans.count("timeline.advance"),  # of this process's part
        "taken_ahead": getattr(spans.feed, "taken_ahead", None),
        "process_cpu_seconds": round(time.process_time() - cpu, 1),  # this process: worker + client
        # processes this one started and waited for: its test server (the other parts come from
        # the fork server, their CPU is in `parts`)
        "children_cpu_seconds": round(children.ru_utime + children.ru_stime, 1),
    }
    print()
    if result is not None:
        kinds = Counter(action.kind for action in result.actions)
        actions = len(result.actions)
        contract = actions - kinds.get("decided", 0)
        figures.update(wall_seconds=round(wall, 1), actions=actions, actions_without_decided=contract,
                       actions_per_second=round(actions / wall, 1), journeys_started=kinds.get("enrolled", 0),
                       rejected=len(result.rejected), kinds=dict(sorted(kinds.items())))
        print(f"wall time:          {wall:8.1f} s   (goal under {GOAL_SECONDS:.0f} s)")
        print(f"actions:            {actions:8,}     ({contract:,} without `decided`)")
        print(f"actions per second: {actions / wall:8.1f}")
        print(f"journeys started:   {kinds.get('enrolled', 0):8,}")
        print(f"rejected lines:     {len(result.rejected):8,}")
        print("by kind:            " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())))
        for number, part in enumerate(result.parts, 1):
            print(f"process {number}:          {part.seconds:8.1f} s, {part.cpu_seconds:.1f} s CPU, "
                  f"{part.accounts:,} accounts, {part.lines:,} lines")
        figures["parts"] = [dataclasses.asdict(part) for part in result.parts]
    else:
        projected = wall / share if share else float("inf")
        figures.update(wall_seconds=round(wall, 1), projected_wall_seconds=round(projected),
                       journeys_started=spans.count("journey.enter"))
        print(f"NOT FINISHED after {wall:.0f} s: {share:.0%} of the instants of this process ingested")
        print(f"projected wall time: {projected:8,.0f} s   (goal under {GOAL_SECONDS:.0f} s)")
        print(f"journeys started so far: {spans.count('journey.enter'):,}")
    figures["goal_seconds"] = GOAL_SECONDS
    figures["goal_met"] = bool(finished and wall < GOAL_SECONDS)

    parts_cpu = sum(part["cpu_seconds"] for part in figures.get("parts", [])[1:])
    print(f"CPU:                {figures['process_cpu_seconds']:8.1f} s in this process, "
          f"{parts_cpu:.1f} s in the other parts, {figures['children_cpu_seconds']:.1f} s in its test server")
    share_of = f" in this process (part 1 of {processes})" if processes > 1 else ""
    print(f"\nwhere the time went{share_of} (activity: runs, seconds inside, ms per run):")
    for name, (count, seconds) in sorted(spans.by_name().items(), key=lambda item: -item[1][1]):
        print(f"  {name:20s} {count:8,} {seconds:9.1f} s {seconds / count * 1000:8.2f} ms")
    gaps = sorted(spans.timeline_gaps())
    if gaps:
        print(f"  timeline round trips between its activities: {len(gaps):,}, {sum(gaps):.1f} s in all, "
              f"median {gaps[len(gaps) // 2] * 1000:.1f} ms, p90 {gaps[int(len(gaps) * 0.9)] * 1000:.1f} ms")
        figures["timeline_gap_seconds"] = round(sum(gaps), 1)
    figures["activity_seconds"] = {name: round(s, 1) for name, (_, s) in spans.by_name().items()}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--logins-per-week", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=None,
                        help="processes to split the accounts over (default: as `playbook simulate` chooses)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="stop after this many seconds and extrapolate (default: run to the end)")
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args))
    print(json.dumps(figures))
    return 0 if figures["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
