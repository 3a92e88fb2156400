"""One router of the shared routing queue in a process of its own, for the fault test of
`test_routing_shared.py`: it routes (and drains, to a starter that calls nothing) until every
stored change is routed and drained, printing `routed N` after each cycle that committed.

    python tests/api/shared_router_process.py URL RUN [HOLD_FILE]

With HOLD_FILE, in its second batch, before the commit, it creates that file and waits there to
be killed.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

from dsl.project import compile_folder
from engine.records import Change, Intent, StartJourney
from engine.routing import AccountCache, Lifetime, RoutingCore
from engine.routing.starter import JourneyStarter
from engine.store import Store
from server.api.routing_shared import SharedRouter

ROOT = Path(__file__).resolve().parents[2]


class CallsNothing(JourneyStarter):
    async def execute(self, bundle: Any, intents: list[Intent],
                      clock_offset_seconds: float | None = None) -> list[StartJourney]:
        return []

    async def wake_scheduler(self) -> None:
        return None


async def route(url: str, run: int, hold: Path | None) -> None:
    store = Store.open(url, migrate=False)
    bundle = compile_folder(ROOT / "playbooks").bundle
    assert bundle is not None
    core = RoutingCore(AccountCache(store, lifetime=Lifetime.PER_RUN), bundle,
                       CallsNothing(None, "shared", store))  # type: ignore[arg-type]  # no Temporal
    batches = 0

    def before_commit(changes: list[Change]) -> None:
        nonlocal batches
        batches += 1
        if hold is not None and batches == 2:
            hold.write_text(f"{len(changes)}\n")
            threading.Event().wait()  # until killed

    router = SharedRouter(store, core, 10.0, loop=asyncio.get_running_loop(), before_commit=before_commit, run=run)
    last = max((change.seq for change in store.unrouted(1_000_000)), default=0)
    while True:
        done = await asyncio.to_thread(router.cycle)
        print(f"routed {router.routed}", flush=True)
        if not done and await asyncio.to_thread(store.routed_through, last):
            break
        if not done:
            await asyncio.sleep(0.05)  # another router holds what is left


if __name__ == "__main__":
    asyncio.run(route(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None))
