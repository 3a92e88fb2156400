"""Conditions on events and waits for conditions, run by the journey workflow: a `where` that reads
the account is judged with the account at the event's moment; `since entry` never counts the event
that started the journey; a condition already true when the wait starts ends it at once; `why`
tells how each wait ended."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dsl import ir
from engine.insight.story import tell
from engine.records import ActionRecord
from engine.store import Store
from simulation.simulate import simulate
from tests.in_app_bundle import in_app_bundle

MODEL = """\
account fields:
    name: text
    segment: one of enterprise, smb
    feature_adoption: percent

events:
    signed
    ticket: priority text
    replied
"""

AT = "2026-03-02T10:00:00Z"


async def _run(root: Path, playbook: str, lines: list[dict[str, Any]], days: float = 10,
               store: Store | None = None) -> tuple[ir.Bundle, list[ActionRecord]]:
    bundle = in_app_bundle(root / "playbooks", MODEL, playbook)
    events = root / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = await simulate(bundle, events, days=days, store=store)
    return bundle, result.actions


def _kinds(actions: list[ActionRecord], account: str) -> list[tuple[str, str]]:
    return [(a.at.isoformat(), a.kind) for a in actions
            if a.account == account and a.kind in ("in_app", "exited", "goal_reached", "completed")]


async def test_an_exit_where_that_reads_the_account_is_judged_at_the_events_moment(tmp_path: Path) -> None:
    playbook = """\
playbook nudge "Nudge":
    trigger: event signed
    exit: event ticket where priority == "p1" and segment == "enterprise"

    day 2:
        send in_app low
"""
    lines: list[dict[str, Any]] = [
        {"account": "big", "at": AT, "traits": {"name": "Big", "segment": "enterprise"}},
        {"account": "small", "at": AT, "traits": {"name": "Small", "segment": "smb"}},
        {"account": "big", "at": AT, "event": "signed"},
        {"account": "small", "at": AT, "event": "signed"},
        {"account": "big", "at": "2026-03-03T08:00:00Z", "event": "ticket", "data": {"priority": "p1"}},
        {"account": "small", "at": "2026-03-03T08:00:00Z", "event": "ticket", "data": {"priority": "p1"}},
        # the account becomes enterprise after its ticket: the ticket's moment decides
        {"account": "small", "at": "2026-03-03T09:00:00Z", "traits": {"segment": "enterprise"}},
    ]
    _, actions = await _run(tmp_path, playbook, lines)
    assert _kinds(actions, "big") == [("2026-03-03T08:00:00+00:00", "exited")]
    assert _kinds(actions, "small") == [("2026-03-04T10:00:00+00:00", "in_app"),
                                        ("2026-03-04T10:00:00+00:00", "completed")]
    [exited] = [a for a in actions if a.kind == "exited"]
    assert exited.data["reason"] == 'event ticket where priority == "p1" and segment == "enterprise"'


async def test_since_entry_never_counts_the_event_that_started_the_journey(tmp_path: Path) -> None:
    playbook = """\
playbook nudge "Nudge":
    trigger: event replied

    wait until event replied since entry or 2 days
    send in_app low
"""
    lines: list[dict[str, Any]] = [
        {"account": "once", "at": AT, "traits": {"name": "Once"}},
        {"account": "once", "at": AT, "event": "replied"},
        {"account": "twice", "at": AT, "traits": {"name": "Twice"}},
        {"account": "twice", "at": AT, "event": "replied"},
        {"account": "twice", "at": "2026-03-03T07:00:00Z", "event": "replied"},
    ]
    _, actions = await _run(tmp_path, playbook, lines)
    assert _kinds(actions, "once")[0] == ("2026-03-04T10:00:00+00:00", "in_app")
    assert _kinds(actions, "twice")[0] == ("2026-03-03T07:00:00+00:00", "in_app")


async def test_a_condition_true_when_the_wait_starts_ends_it_at_once_and_why_says_so(
        tmp_path: Path, store: Store) -> None:
    playbook = """\
playbook nudge "Nudge":
    trigger: event signed

    wait until feature_adoption >= 40% or 5 days
    send in_app low
"""
    lines: list[dict[str, Any]] = [
        {"account": "ready", "at": AT, "traits": {"name": "Ready", "feature_adoption": 50}},
        {"account": "ready", "at": AT, "event": "signed"},
        {"account": "later", "at": AT, "traits": {"name": "Later", "feature_adoption": 10}},
        {"account": "later", "at": AT, "event": "signed"},
        {"account": "later", "at": "2026-03-04T13:15:00Z", "traits": {"feature_adoption": 45}},
        {"account": "never", "at": AT, "traits": {"name": "Never", "feature_adoption": 10}},
        {"account": "never", "at": AT, "event": "signed"},
    ]
    bundle, actions = await _run(tmp_path, playbook, lines, store=store)
    assert _kinds(actions, "ready")[0] == ("2026-03-02T10:00:00+00:00", "in_app")
    assert _kinds(actions, "later")[0] == ("2026-03-04T13:15:00+00:00", "in_app")
    assert _kinds(actions, "never")[0] == ("2026-03-07T10:00:00+00:00", "in_app")
    outcomes = {a.account: a.data.get("outcome") for a in actions if a.data.get("what") == "wait_ended"}
    assert outcomes == {"ready": "condition", "later": "condition", "never": "timeout"}
    story = "\n".join(line.text for line in tell(store, bundle, "later", "nudge").lines)
    assert "`wait until feature_adoption >= 40% or 5 days` ended: feature_adoption >= 40%: true at" in story
