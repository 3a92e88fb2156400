"""All scenario timelines as one timeline, each in a namespace of its own.

The conformance suite runs every scenario through one live stack, so each scenario's accounts,
event ids and email addresses get a prefix of their own (`c07-techcorp`, `ana+c07@…`): the
scenarios cannot meet (a suppression, a cap) and the stack runs them side by side in one pass.
Both sides, live and simulated, run the same merged lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from engine.semantics.values import parse_instant

__all__ = ["Line", "MergedTimeline", "merge"]

_EMAIL = re.compile(r"^([^@\s]+)@([^@\s]+)$")


@dataclass(frozen=True)
class Line:
    arrival: datetime  # its `received_at`, else its `at`
    order: int  # place in the merged file
    obj: dict[str, Any]


@dataclass
class MergedTimeline:
    lines: list[Line] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    prefixes: dict[str, str] = field(default_factory=dict)  # scenario folder -> prefix

    def write(self, path: Path) -> Path:
        path.write_text("".join(json.dumps(line.obj) + "\n" for line in self.lines), encoding="utf-8")
        return path

    def moments(self) -> list[datetime]:
        return sorted({line.arrival for line in self.lines})

    def at(self, moment: datetime) -> list[dict[str, Any]]:
        return [line.obj for line in self.lines if line.arrival == moment]


def _namespaced(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        return {key: _namespaced(item, prefix) for key, item in value.items()}
    if isinstance(value, list):
        return [_namespaced(item, prefix) for item in value]
    if isinstance(value, str) and (found := _EMAIL.match(value)):
        return f"{found.group(1)}+{prefix}@{found.group(2)}"
    return value


def merge(folders: list[Path]) -> MergedTimeline:
    """The scenarios' lines in arrival order, namespaced; the span covers each scenario's days."""
    merged = MergedTimeline()
    entries: list[tuple[datetime, int, int, dict[str, Any]]] = []
    for index, folder in enumerate(folders):
        prefix = f"c{index:02d}"
        merged.prefixes[folder.name] = prefix
        spec = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
        lines = [json.loads(text) for text in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
                 if text.strip()]
        first = min(parse_instant(obj["at"]) for obj in lines if "at" in obj)
        finish = first + timedelta(days=float(spec["days"]))
        merged.start = first if merged.start is None else min(merged.start, first)
        merged.end = finish if merged.end is None else max(merged.end, finish)
        for number, obj in enumerate(lines):
            out = dict(obj)
            out["account"] = f"{prefix}-{obj['account']}"
            if "id" in obj:
                out["id"] = f"{prefix}-{obj['id']}"
            for key in ("traits", "data"):
                if key in obj:
                    out[key] = _namespaced(obj[key], prefix)
            arrival = parse_instant(obj.get("received_at") or obj.get("at") or first.isoformat())
            entries.append((arrival, index, number, out))
    entries.sort(key=lambda entry: (entry[0], entry[1], entry[2]))
    merged.lines = [Line(arrival, order, obj) for order, (arrival, _, _, obj) in enumerate(entries)]
    return merged
