"""`playbook simulate` on timelines with bad lines: each is reported as FILE:LINE: reason, the good
ones are simulated, and the exit status says something was wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main

ROOT = Path(__file__).resolve().parents[2]
TRAITS = {"name": "TechCorp", "segment": "smb", "timezone": "Europe/Berlin",
          "primary_contact": {"email": "ana@techcorp.example", "name": "Ana"},
          "csm": {"email": "sam@vendor.example", "manager": {"email": "lee@vendor.example"}}}


def _timeline(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "timeline.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_lines_are_reported_by_number_and_the_good_ones_simulated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _timeline(tmp_path, [
        json.dumps({"id": "t1", "account": "techcorp", "at": "2026-01-05T09:00:00Z", "traits": TRAITS}),
        json.dumps({"id": "t2", "account": "techcorp", "at": "2026-01-05T09:00:00Z", "event": "signd"}),
        json.dumps({"id": "t3", "account": "techcorp", "at": "2026-01-05T09:00:00Z", "event": "signed"}),
    ])
    status = main(["simulate", str(ROOT / "playbooks"), "--events", str(path), "--days", "2", "--json"])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err.splitlines() == [
        f"{path}:2: undeclared event 'signd' (did you mean 'signed'?): the model's events: section does not list it"]
    kinds = [(a["playbook"], a["kind"]) for a in map(json.loads, captured.out.splitlines())]
    assert ("smb_onboarding", "enrolled") in kinds
    assert ("smb_onboarding", "email") in kinds


def test_a_timeline_with_only_bad_lines_lists_each_and_simulates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _timeline(tmp_path, [json.dumps({"account": "a", "event": "signed", "at": "bad"}), "nope"])
    status = main(["simulate", str(ROOT / "playbooks"), "--events", str(path)])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    err = captured.err.splitlines()
    assert err[0].startswith(f"{path}:1: 'at': expected a date and time")
    assert err[1].startswith(f"{path}:2: not JSON")
    assert err[2] == f"playbook simulate: {path}: no event to simulate (2 bad lines)"

