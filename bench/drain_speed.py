"""The drain: journey starts per second carried out on a Temporal dev server by the API's drain
(`server.api.routing_drain.Drain`), apart from routing: the starts are committed in the store
first, as routing commits them, then drained.

    .venv/bin/python bench/drain_speed.py [--starts 200] [--in-flight 8]

A dev server on free ports (`dev_server.py`), no worker (a start is accepted once Temporal
recorded it; running the journeys is the worker's and `journeys_vs_bare.py` measures it), the
standard playbooks, `smb_onboarding` started for `--starts` accounts, with `--in-flight` calls
at once (the default of `PLAYBOOK_API_DRAIN_IN_FLIGHT`) and one at a time. Prints the rates and,
last, one JSON object: `drain_starts_per_s` (at `--in-flight`) and `drain_starts_per_s_one_at_a_time`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dev_server import DevServer

from cli.playbook_loading import load_bundle
from engine.records import StartJourney
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store
from server.api.routing_drain import Drain
from server.web.limits import DEFAULT_DRAIN_IN_FLIGHT, Limits

ROOT = Path(__file__).resolve().parents[1]


async def starts_per_second(starts: int, in_flight: int) -> float:
    bundle = load_bundle(ROOT / "playbooks")
    with tempfile.TemporaryDirectory(prefix="playbook-drain-") as scratch:
        folder = Path(scratch)
        server = DevServer(folder)
        store = Store.open(f"sqlite:///{folder / 'store.db'}")
        try:
            client = await server.connect()
            starter = JourneyStarter(client, "bench-drain", store)
            core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle, starter)
            drain = Drain(store, core, Limits(), in_flight=in_flight)
            at = datetime.now(UTC)

            def commit(first: int, count: int) -> None:
                store.add_intents([(number, 0, f"acct-{number:05d}", StartJourney(
                    playbook="smb_onboarding", account=f"acct-{number:05d}", entry_at=at, reason="event signed",
                    event="signed").model_dump(mode="json")) for number in range(first, first + count)], at)

            commit(0, 5)
            await drain.round()  # the connection warmed up
            commit(5, starts)
            began = time.perf_counter()
            while await drain.round():
                pass
            seconds = time.perf_counter() - began
            if store.undrained(None, 1) or drain.record.routed != starts + 5:
                raise SystemExit(f"the drain carried out {drain.record.routed} of {starts + 5} starts")
            return starts / seconds
        finally:
            store.close()
            server.stop()


def measure(starts: int, in_flight: int = DEFAULT_DRAIN_IN_FLIGHT) -> dict[str, Any]:
    return {"drain_starts_per_s": round(asyncio.run(starts_per_second(starts, in_flight)), 1),
            "drain_in_flight": in_flight,
            "drain_starts_per_s_one_at_a_time": round(asyncio.run(starts_per_second(starts, 1)), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=DEFAULT_DRAIN_IN_FLIGHT)
    args = parser.parse_args(argv)
    figures = measure(args.starts, args.in_flight)
    print(f"drain: {figures['drain_starts_per_s']:,.1f} journey starts/s carried out on the dev server, "
          f"{args.in_flight} at once ({figures['drain_starts_per_s_one_at_a_time']:,.1f} one at a time)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
