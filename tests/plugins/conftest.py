"""Fixtures for plugin tests: playbook folders written on the fly, simulated on the real engine."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from activities.plugin_catalog import plugin_catalog
from activities.registry import load_registry
from dsl.project import Compilation, compile_folder
from engine.records import ActionRecord
from simulation.simulate import simulate

START = "2026-03-02T09:00:00Z"


def write_folder(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def write_events(path: Path, events: Iterable[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(event) + "\n" for event in events), encoding="utf-8")
    return path


def compile_with_plugins(folder: Path) -> Compilation:
    return compile_folder(folder, plugins=plugin_catalog(load_registry()))


async def simulate_folder(folder: Path, events: Path, days: float = 2) -> list[ActionRecord]:
    compilation = compile_with_plugins(folder)
    assert compilation.ok and compilation.bundle is not None, compilation.render()
    result = await simulate(compilation.bundle, events, days=days, live_plugins=True)
    return result.actions
