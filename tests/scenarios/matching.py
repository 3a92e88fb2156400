"""Compare the actions of a simulation with a scenario's expected lines.

The rules are those of the acceptance checker: every expected line must be matched by one
action with the same kind, account, time and the keys the line gives (a task's `title` and a
suppression's `reason` match as case-insensitive substrings), and an action of a compared kind
that no expected line matches is a failure too. A scenario may widen the compared kinds with
`"compare": [...]` in its scenario.json (e.g. `exited`, `goal_reached`, `decided`).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

COMPARED = {"enrolled", "email", "in_app", "task", "score", "suppressed"}
SUBSTRING_KEYS = {"title", "reason", "detail"}
TIME_KEYS = {"at", "due"}


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _same(key: str, want: Any, got: Any) -> bool:
    if got is None:
        return want is None
    if key in TIME_KEYS:
        try:
            return _time(want) == _time(got)
        except (TypeError, ValueError):
            return False
    if key in SUBSTRING_KEYS:
        return str(want).lower() in str(got).lower()
    return bool(want == got)


def compare(folder: Path, actions: list[dict[str, Any]]) -> list[str]:
    spec = json.loads((folder / "scenario.json").read_text())
    kinds = COMPARED | set(spec.get("compare", []))
    expected = [json.loads(line) for line in (folder / "expected.jsonl").read_text().splitlines() if line.strip()]
    accounts = {e["account"] for e in expected} | {
        json.loads(line)["account"] for line in (folder / "events.jsonl").read_text().splitlines()
        if line.strip() and line.lstrip().startswith("{") and "account" in json.loads(line)}
    pool = [a for a in actions if a.get("kind") in kinds and a.get("account") in accounts]
    problems = []
    for want in expected:
        hit = next((a for a in pool if all(_same(k, v, a.get(k)) for k, v in want.items())), None)
        if hit is None:
            problems.append(f"missing: {json.dumps(want, sort_keys=True)}")
        else:
            pool.remove(hit)
    problems += [f"unexpected: {json.dumps(a, sort_keys=True)}" for a in pool]
    return problems
