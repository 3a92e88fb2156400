"""Every test of a run in one simulation, each in a namespace of its own.

A simulation is slow to start and fast to run, so the tests' timelines are merged into one: each
test's accounts, event ids and email addresses get a prefix of their own (`t03-techcorp`,
`ana+t03@techcorp.example`), as the conformance suite merges its scenarios, so the tests cannot
meet (a frequency cap, a suppression). The merged timeline runs once, through the same
`simulate` as `playbook simulate`; each test then gets back its own actions, namespace removed.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsl import ir
from engine.records import ActionRecord
from simulation.playbook_tests.test_file import Place, TestCase, TestFileError
from simulation.simulate import TimelineError, load_timeline, simulate

__all__ = ["CaseActions", "check_timelines", "run_merged"]

_EMAIL = re.compile(r"^([^@\s]+)@([^@\s]+)$")


@dataclass
class CaseActions:
    """One test's actions, as if it had run alone: its own account ids and addresses."""

    case: TestCase
    actions: list[dict[str, Any]]


def _prefix(index: int) -> str:
    return f"t{index:02d}"


def _namespaced(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        return {key: _namespaced(item, prefix) for key, item in value.items()}
    if isinstance(value, list):
        return [_namespaced(item, prefix) for item in value]
    if isinstance(value, str) and (found := _EMAIL.match(value)):
        return f"{found.group(1)}+{prefix}@{found.group(2)}"
    return value


def _plain(value: Any, prefix: str) -> Any:
    """A value of an action with the test's namespace taken out again."""
    if isinstance(value, dict):
        return {key: _plain(item, prefix) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, prefix) for item in value]
    if isinstance(value, str):
        value = value.replace(f"+{prefix}@", "@")
        return value[len(prefix) + 1:] if value.startswith(f"{prefix}-") else value
    return value


def _line(obj: dict[str, Any], prefix: str) -> dict[str, Any]:
    out = dict(obj)
    if "account" in obj:
        out["account"] = f"{prefix}-{obj['account']}"
    if "id" in obj:
        out["id"] = f"{prefix}-{obj['id']}"
    for key in ("traits", "data"):
        if key in obj:
            out[key] = _namespaced(obj[key], prefix)
    return out


def _write(cases: list[TestCase], folder: Path) -> tuple[Path, list[Place]]:
    """The merged timeline, and where each of its lines was written (by line number - 1)."""
    lines: list[tuple[str, int, int, dict[str, Any], Place]] = []
    for index, case in enumerate(cases):
        for order, event in enumerate(case.events):
            obj = _line(event.obj, _prefix(index))
            lines.append((str(event.obj.get("received_at") or event.obj["at"]), index, order, obj, event.place))
    lines.sort(key=lambda entry: (entry[0], entry[1], entry[2]))
    path = folder / "timeline.jsonl"
    path.write_text("".join(json.dumps(entry[3]) + "\n" for entry in lines), encoding="utf-8")
    return path, [entry[4] for entry in lines]


def check_timelines(bundle: ir.Bundle, cases: list[TestCase]) -> list[TestFileError]:
    """Every event line the engine would refuse, at its place in a test file or a timeline file."""
    with tempfile.TemporaryDirectory(prefix="playbook-test-") as folder:
        path, places = _write(cases, Path(folder))
        try:
            rejected = load_timeline(path, bundle.model, min(case.start for case in cases))[0].rejected
        except TimelineError as error:
            rejected = error.rejected
    return [TestFileError(places[r.line - 1], f"this event cannot be used: {r.reason}") for r in rejected]


async def run_merged(bundle: ir.Bundle, cases: list[TestCase]) -> tuple[list[CaseActions], list[TestFileError]]:
    """Run every case's timeline in one simulation; each case's actions, and refused lines."""
    if not cases:
        return [], []
    begin = min(case.start for case in cases)
    end = max(case.end for case in cases)
    with tempfile.TemporaryDirectory(prefix="playbook-test-") as folder:
        path, places = _write(cases, Path(folder))
        result = await simulate(bundle, path, start=begin, days=(end - begin).total_seconds() / 86400)
    refused = [TestFileError(places[r.line - 1], f"this event cannot be used: {r.reason}") for r in result.rejected]
    return [CaseActions(case, _own(result.actions, case, _prefix(index))) for index, case in enumerate(cases)], refused


def _own(actions: list[ActionRecord], case: TestCase, prefix: str) -> list[dict[str, Any]]:
    own = f"{prefix}-"
    return [_plain(action.to_contract(), prefix) for action in actions
            if action.account.startswith(own) and case.start <= action.at <= case.end]
