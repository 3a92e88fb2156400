"""`run_folder(...)`: a playbook folder run through `simulate` with live plugins, from a plugin's tests.

    actions = await run_folder(Path("sample/playbooks"), Path("sample/events.jsonl"), days=3)
    [call] = [a for a in actions if a.kind == "call"]

The folder is compiled against the installed plugins (or `registry`, for a plugin registered in
the test itself), exactly as `playbook check` would: a problem raises `FolderProblems` with the
diagnostics as `check` prints them. The journeys then run on the real journey workflow and the
real activities on a time-skipping server; each plugin's configuration comes from
`playbook.toml` in the working folder and `PLAYBOOK_PLUGIN_<NAME>_<KEY>` variables, as in a
worker.
"""

from __future__ import annotations

from pathlib import Path

from activities.plugin_catalog import plugin_catalog
from activities.registry import Registry, load_registry
from dsl.project import compile_folder
from engine.records import ActionRecord
from simulation.simulate import simulate

__all__ = ["FolderProblems", "run_folder"]


class FolderProblems(Exception):
    """The folder does not compile; the message holds the diagnostics."""


async def run_folder(folder: Path, events: Path, *, days: float = 2, registry: Registry | None = None,
                     live: bool = True) -> list[ActionRecord]:
    """Every action the simulation logged, in order (`call`, `failed`, `decided`, ...)."""
    activities = registry if registry is not None else load_registry()
    compilation = compile_folder(folder, plugins=plugin_catalog(activities))
    if not compilation.ok or compilation.bundle is None:
        raise FolderProblems(compilation.render())
    result = await simulate(compilation.bundle, events, days=days, live_plugins=live, registry=registry)
    return result.actions
