"""The drain: journey starts per second carried out on a Temporal dev server, the way routing
carries out its intents (`JourneyStarter.execute`, one after the other), apart from routing.

    .venv/bin/python bench/drain_speed.py [--starts 200]

A dev server on free ports (`dev_server.py`), no worker (a start is accepted once Temporal
recorded it; running the journeys is the worker's and `journeys_vs_bare.py` measures it), the
standard playbooks, `smb_onboarding` started for `--starts` accounts. Prints the rate and, last,
one JSON object: `drain_starts_per_s`.
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
from engine.records import Intent, StartJourney
from engine.routing.starter import JourneyStarter
from engine.store import Store

ROOT = Path(__file__).resolve().parents[1]


async def starts_per_second(starts: int) -> float:
    bundle = load_bundle(ROOT / "playbooks")
    with tempfile.TemporaryDirectory(prefix="playbook-drain-") as scratch:
        folder = Path(scratch)
        server = DevServer(folder)
        store = Store.open(f"sqlite:///{folder / 'store.db'}")
        try:
            client = await server.connect()
            starter = JourneyStarter(client, "bench-drain", store)
            at = datetime.now(UTC)
            intents: list[Intent] = [
                StartJourney(playbook="smb_onboarding", account=f"acct-{number:05d}", entry_at=at,
                             reason="event signed", event="signed") for number in range(starts)]
            await starter.execute(bundle, intents[:5])  # the connection warmed up
            began = time.perf_counter()
            refused = await starter.execute(bundle, intents[5:])
            seconds = time.perf_counter() - began
            if refused:
                raise SystemExit(f"{len(refused)} starts were refused")
            return (len(intents) - 5) / seconds
        finally:
            store.close()
            server.stop()


def measure(starts: int) -> dict[str, Any]:
    return {"drain_starts_per_s": round(asyncio.run(starts_per_second(starts)), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=200)
    args = parser.parse_args(argv)
    figures = measure(args.starts)
    print(f"drain: {figures['drain_starts_per_s']:,.1f} journey starts/s carried out on the dev server, one by one")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
