"""Checks of the routing architecture over a source tree, read with `ast` (never imported):

- no class outside `engine/store/` subclasses the `Store`: caches compose a store, they do not
  extend it;
- only the routing package and `engine/routing/starter.py` call Temporal's `start_workflow`, `signal` or
  `signal_with_start`: journeys are started and signalled by the routing core alone. The other
  calls of those names are listed in `CALL_EXCEPTIONS`, each with the reason it is no journey's;
- routing reads no wall clock (`ROUTING_RULES`): it routes as of each change's own moment.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["CALL_EXCEPTIONS", "ROUTING_RULES", "STARTING_CALLS", "journey_calls", "store_subclasses",
           "wall_clock_reads"]

STORE_HOME = "engine/store/"
ROUTING_HOMES = ("engine/routing/",)
STARTING_CALLS = frozenset({"start_workflow", "signal", "signal_with_start"})
# what decides routing: the routing package, admission, time triggers, score recording, snapshots
ROUTING_RULES = ("engine/routing/", "engine/store/snapshots.py")
WALL_CLOCKS = frozenset({"now", "utcnow", "today", "time", "monotonic", "perf_counter"})
SKIPPED_FOLDERS = frozenset({"__pycache__", "build", "node_modules"})  # and hidden ones (.venv, .git)

# (file, called attribute) -> why that call starts or signals no journey
CALL_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("cli/playbook_loading.py", "start_workflow"):
        "starts the one scheduler of time triggers for the dev and worker processes",
    ("tests/engine/test_scheduler.py", "start_workflow"):
        "test code: starts the scheduler of time triggers to prove it resumes from the store",
    ("tests/api/test_forget.py", "start_workflow"):
        "test code: a journey no worker polls, for erasure to end and delete",
    ("tests/faults/test_api_killed.py", "start_workflow"):
        "test code: a marker workflow started after every journey, to wait on the server's list",
    ("tests/faults/test_drain_killed.py", "start_workflow"):
        "test code: a marker workflow started after every journey, to wait on the server's list",
    ("engine/workflows/journey.py", "signal"):
        "`@workflow.signal` declares the journey's own signal handler",
    ("engine/workflows/scheduler.py", "signal"):
        "`@workflow.signal` declares the scheduler's `wake` handler",
    ("simulation/processes.py", "signal"):
        "the operating system's `signal.signal` in a simulation's part process",
    ("tests/workers/test_journey_generations.py", "start_workflow"):
        "test code: starts workflows of older generations to prove they are retired",
    ("bench/journey_sides.py", "start_workflow"):
        "a benchmark that measures bare workflows against journeys",
}


@functools.cache
def python_files(root: Path) -> tuple[tuple[str, ast.Module], ...]:
    """Each Python file under `root` (relative path with `/`, parsed), outside virtualenvs and caches."""
    return tuple(_parsed(root))


def _parsed(root: Path) -> Iterator[tuple[str, ast.Module]]:
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(name for name in folders if name not in SKIPPED_FOLDERS and not name.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                path = Path(folder) / name
                yield (path.relative_to(root).as_posix(),
                       ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))


def _store_names(module: ast.Module) -> tuple[set[str], set[str]]:
    """The names a module binds to the `Store` class, and to modules that hold it."""
    classes, modules = set(), set()
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module in ("engine.store", "engine.store.store"):
            classes |= {alias.asname or alias.name for alias in node.names if alias.name == "Store"}
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == "store"}
        elif isinstance(node, ast.ImportFrom) and node.module == "engine":
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == "store"}
        elif isinstance(node, ast.Import):
            modules |= {alias.asname or alias.name for alias in node.names
                        if alias.name in ("engine.store", "engine.store.store")}
    return classes, modules


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def store_subclasses(root: Path) -> list[str]:
    """`file:line class` of every class outside `engine/store/` with `Store` among its bases."""
    found = []
    for path, module in python_files(root):
        if path.startswith(STORE_HOME):
            continue
        classes, modules = _store_names(module)
        for node in ast.walk(module):
            if not isinstance(node, ast.ClassDef):
                continue
            for base in node.bases:
                name = _dotted(base)
                head, _, last = name.rpartition(".")
                if name in classes or (last == "Store" and (head in modules or head.endswith("engine.store"))):
                    found.append(f"{path}:{node.lineno} {node.name}")
    return found


def journey_calls(root: Path) -> list[tuple[str, str, int]]:
    """(file, attribute, line) of every call of `.start_workflow`, `.signal` or `.signal_with_start`
    outside the routing package and `engine/routing/starter.py`."""
    found = []
    for path, module in python_files(root):
        if path.startswith(ROUTING_HOMES):
            continue
        for node in ast.walk(module):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in STARTING_CALLS):
                found.append((path, node.func.attr, node.lineno))
    return found


def wall_clock_reads(root: Path) -> list[tuple[str, str, int]]:
    """(file, call, line) of every read of a wall clock (`datetime.now()`, `time.time()`, ...) in
    the modules that decide routing."""
    found = []
    for path, module in python_files(root):
        if not path.startswith(ROUTING_RULES):
            continue
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WALL_CLOCKS:
                found.append((path, _dotted(node.func), node.lineno))
    return found
