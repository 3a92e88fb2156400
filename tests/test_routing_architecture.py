"""Routing has one core: caches compose the store instead of extending it, journeys are started
and signalled only by the routing package and the journey starter, and routing reads no wall
clock (`tests/routing_architecture.py` reads the source with `ast`).
The last tests prove the checks catch a violation, on small source trees made for them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.routing_architecture import CALL_EXCEPTIONS, journey_calls, store_subclasses, wall_clock_reads

ROOT = Path(__file__).resolve().parents[1]


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_no_class_outside_the_store_package_subclasses_the_store() -> None:
    assert store_subclasses(ROOT) == []


def test_only_the_routing_package_and_the_starter_start_or_signal_journeys() -> None:
    unexplained = [call for call in journey_calls(ROOT) if (call[0], call[1]) not in CALL_EXCEPTIONS]
    assert unexplained == []


def test_every_listed_exception_is_still_in_the_source() -> None:
    made = {(path, attribute) for path, attribute, _ in journey_calls(ROOT)}
    assert sorted(set(CALL_EXCEPTIONS) - made) == []


def test_routing_reads_no_wall_clock() -> None:
    assert wall_clock_reads(ROOT) == []


def test_a_store_subclass_outside_the_store_package_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "engine/store/store.py": "class Store:\n    pass\n",
        "engine/store/sqlite_store.py": """\
            from engine.store.store import Store
            class SqliteStore(Store):
                pass
            """,
        "activities/cached.py": """\
            from engine.store import Store as BaseStore
            class CachedStore(BaseStore):
                pass
            """,
        "workers/reads.py": """\
            import engine.store
            from engine import store
            class RunStore(engine.store.Store):
                pass
            class OtherStore(store.Store):
                pass
            class Composed:
                def __init__(self, store: engine.store.Store) -> None:
                    self.store = store
            """,
    })
    assert store_subclasses(root) == ["activities/cached.py:2 CachedStore", "workers/reads.py:3 RunStore",
                                      "workers/reads.py:5 OtherStore"]


def test_a_journey_started_or_signalled_outside_the_routing_core_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "engine/routing/core.py": "async def go(client):\n    await client.start_workflow('journey')\n",
        "engine/routing/starter.py": "async def go(handle):\n    await handle.signal('event')\n",
        "activities/shortcut.py": """\
            async def start(client, handle):
                await client.start_workflow("journey", id="journey/welcome/acme")
                await handle.signal("event", {})
                await client.signal_with_start("journey", start_signal="event")
            """,
    })
    assert journey_calls(root) == [("activities/shortcut.py", "start_workflow", 2),
                                   ("activities/shortcut.py", "signal", 3),
                                   ("activities/shortcut.py", "signal_with_start", 4)]


def test_a_wall_clock_read_in_routing_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "engine/routing/core.py": """\
            import time
            from datetime import UTC, datetime
            def route(change):
                return datetime.now(UTC), time.monotonic(), change.at
            """,
        "server/api/routing.py": "import time\nSTARTED = time.monotonic()\n",  # a driver may
    })
    assert wall_clock_reads(root) == [("engine/routing/core.py", "datetime.now", 4),
                                      ("engine/routing/core.py", "time.monotonic", 4)]
