"""Decisions are structured data: every kind carries its fields, `why`, `stats` and `backtest` read
those fields (whatever the sentence says), and a decision logged without them still shows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dsl import ir
from engine import decision_text
from engine.insight.analytics import playbook_stats
from engine.insight.story import tell
from engine.records import ActionRecord, Decision
from engine.store import Store
from simulation.backtest_diff import compare
from simulation.simulate import simulate
from tests.in_app_bundle import in_app_bundle
from tests.insight.conftest import Ran

MODEL = """\
account fields:
    name: text
    nickname: text
    feature_adoption: percent

events:
    signed
    replied
"""

PLAYBOOK = """\
playbook nudge "Decisions of every kind":
    trigger: event signed

    day 0:
        if feature_adoption < 30%:
            send in_app low
        else:
            send in_app high
        split 50% / 50%:
            control:
                set nickname = name
            offer:
                set nickname = name
        wait until event replied or 2 days
"""

T0 = "2026-01-05T09:00:00Z"
CONDITION = "if feature_adoption < 30%"


def _bundle(root: Path) -> ir.Bundle:
    return in_app_bundle(root, MODEL, PLAYBOOK)


def _events(path: Path, low_adoption: float = 10) -> Path:
    lines: list[dict[str, Any]] = [
        {"account": "unknown", "at": T0, "traits": {}},
        {"account": "low", "at": T0, "traits": {"name": "Low", "feature_adoption": low_adoption}},
        {"account": "high", "at": T0, "traits": {"name": "High", "feature_adoption": 80}},
        *({"account": account, "at": T0, "event": "signed"} for account in ("unknown", "low", "high")),
        {"account": "low", "at": "2026-01-06T09:00:00Z", "event": "replied"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _decided(actions: list[ActionRecord], account: str, what: str) -> list[dict[str, Any]]:
    return [a.data for a in actions if a.kind == "decided" and a.account == account and a.data["what"] == what]


async def test_each_kind_of_journey_decision_carries_its_structured_fields(tmp_path: Path) -> None:
    result = await simulate(_bundle(tmp_path / "playbooks"), _events(tmp_path / "events.jsonl"), days=3)
    actions = result.actions
    branches = {account: _decided(actions, account, "branch") for account in ("unknown", "low", "high")}
    assert {account: [(d["outcome"], d["block"], d["subject"], d["path"]) for d in found]
            for account, found in branches.items()} == {
        "unknown": [("unknown", "none", CONDITION, "day 0/0")],
        "low": [("true", "then", CONDITION, "day 0/0")],
        "high": [("false", "else", CONDITION, "day 0/0")],
    }
    for account in ("unknown", "low", "high"):
        [split] = _decided(actions, account, "split")
        assert split["outcome"] in {"control", "offer"} and split["path"] == "day 0/1"
        assert split["subject"] == f"arm {split['outcome']} (50%)" == split["detail"]
    [skipped] = _decided(actions, "unknown", "set_skipped")
    assert (skipped["outcome"], skipped["subject"]) == ("unknown", "nickname")
    assert skipped["path"].startswith("day 0/1/arm")
    waits = {account: _decided(actions, account, "wait_ended") for account in ("unknown", "low", "high")}
    assert {account: [(d["outcome"], d["subject"], d["path"]) for d in found] for account, found in waits.items()} == {
        "unknown": [("timeout", "replied", "day 0/2")],
        "low": [("event", "replied", "day 0/2")],
        "high": [("timeout", "replied", "day 0/2")],
    }
    assert waits["high"][0]["until"] == "2026-01-07T09:00:00+00:00"
    # the sentence stays as it always was
    assert branches["unknown"][0]["detail"] == f"{CONDITION}: unknown (neither branch ran)"
    assert waits["high"][0]["detail"] == "no replied within 2 days"


def test_real_journeys_log_quiet_hours_and_refusals_with_their_fields(ran: Ran) -> None:
    decided = [a for a in ran.store.actions() if a.kind == "decided"]
    quiet = [a.data for a in decided if a.data["what"] == "quiet_hours"]
    assert quiet and all(d["outcome"] == "quiet_hours" and d["subject"] and d["until"] and d["path"] for d in quiet)
    refused = [a.data for a in decided if a.data["what"] == "not_admitted"]
    assert refused and all(d["outcome"] == "audience" and d["detail"] == f"audience: {d['reason']}" for d in refused)
    assert all("path" not in d for d in refused)  # a trigger's decision belongs to no statement


def _decision(what: str, **fields: Any) -> Decision:
    return Decision(at=datetime(2026, 1, 5, 9, tzinfo=UTC), account="acme", playbook="onboarding", what=what,
                    **fields)


def test_the_one_renderer_writes_each_kinds_sentence_as_before() -> None:
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    late = {"planned": "2026-01-05T09:00:00+00:00", "reached": "2026-01-05T13:00:00+00:00"}
    cases: list[tuple[Decision, dict[str, Any], str]] = [
        (_decision("branch", subject="unless seen x", outcome="false", block="then"), {}, "unless seen x: false (ran)"),
        (_decision("branch", subject="if a", outcome="false", block="else"), {}, "if a: false (skipped)"),
        (_decision("quiet_hours", subject="welcome", outcome="quiet_hours", until=at, reads={"timezone": "UTC"}), {},
         "send email welcome: quiet hours in UTC, waits until 2026-01-05T09:00:00+00:00; the journey goes on"),
        (_decision("quiet_hours", subject="tips", outcome="behind_held"), {"behind": "welcome"},
         "send email tips: waits behind the journey's held email (welcome)"),
        (_decision("send_dropped", subject="tips", outcome="dropped", until=at, reason="event churned"),
         {"ended_at": at - timedelta(hours=1)},
         "send email tips: held until 2026-01-05T09:00:00+00:00; the journey ended (event churned) "
         "at 2026-01-05T08:00:00+00:00 before it could go"),
        (_decision("late", path="day 0", outcome="late", reads=late), {},
         "day 0: runs 4 h late, at 2026-01-05T13:00:00+00:00 (planned 2026-01-05T09:00:00+00:00)"),
        (_decision("step_skipped", path="day 3", outcome="missing", subject="renewal_date"), {},
         "day 3: renewal_date is missing"),
        (_decision("reentry_blocked", outcome="never", subject="never", reads={"last_entry": "2026-01-01"}),
         {"trigger": "event signed"}, "event signed: reentry: never (entered 2026-01-01)"),
        (_decision("paused", outcome="paused"), {"trigger": "event signed"},
         "event signed: playbook onboarding is paused: no new entries"),
    ]
    for decision, facts, sentence in cases:
        assert decision_text.detail(decision, **facts) == sentence


async def test_why_stats_and_backtest_read_the_fields_not_the_sentence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    monkeypatch.setattr(decision_text, "detail", lambda decision, **facts: "whatever the words are today")
    bundle = _bundle(tmp_path / "playbooks")
    head = await simulate(bundle, _events(tmp_path / "events.jsonl"), days=3, store=store)
    assert {a.data["detail"] for a in head.actions if a.kind == "decided"} == {"whatever the words are today"}
    story = {account: [line.text for line in tell(store, bundle, account, "nudge", now=head.end).lines]
             for account in ("unknown", "low")}
    [stats] = playbook_stats(store, bundle, "nudge").playbooks
    assert "Day 0: `if feature_adoption < 30%` was unknown (a value it reads is missing), so neither its block " \
           "nor its else block ran (read feature_adoption = missing)." in story["unknown"]
    assert "Day 0: `if feature_adoption < 30%` was true, so its block ran (read feature_adoption = 10%)." \
           in story["low"]
    assert "Day 0: `wait until event replied or 2 days` ended: the event arrived." in story["low"]
    outcomes = {s.path: s.outcomes for s in stats.steps[0].statements if s.outcomes is not None}
    assert outcomes["day 0/0"] == {"ran": 1, "skipped": 1, "neither branch ran (unknown)": 1}
    assert outcomes["day 0/2"] == {"event arrived": 1, "timed out": 2}
    assert set(outcomes["day 0/1"]) <= {"arm control (50%)", "arm offer (50%)"}
    base = await simulate(bundle, _events(tmp_path / "base.jsonl", low_adoption=50), days=3)
    differences = [d for d in compare(base.actions, head.actions).differences if d.account == "low"]
    assert sorted(d.label for d in differences) == ["in_app high", "in_app low"]
    for difference in differences:
        assert difference.why == [f"branch `{CONDITION}`: true in head, false in base; "
                                  "head read (feature_adoption = 10), base read (feature_adoption = 50)"]


def test_a_decision_logged_without_the_fields_shows_its_sentence_as_it_is(
        empty_store: Store, bundle: ir.Bundle) -> None:
    at = datetime(2026, 1, 12, 9, tzinfo=UTC)
    key = "journey/smb_onboarding/acme/run-1"
    empty_store.journey_entered("journey/smb_onboarding/acme", "run-1", "smb_onboarding", "acme", "old", at)
    old = ActionRecord(at=at, account="acme", playbook="smb_onboarding", kind="decided",
                       data={"what": "branch", "detail": "unless seen project_created: true (skipped)", "reads": {}},
                       key=f"{key}/day 7/0/branch/0")
    empty_store.log_action(old)
    lines = [line.text for line in tell(empty_store, bundle, "acme", "smb_onboarding", now=at).lines]
    assert "Day 7: branch: unless seen project_created: true (skipped)." in lines
    [stats] = playbook_stats(empty_store, bundle, "smb_onboarding").playbooks
    [day7] = [step for step in stats.steps if step.step == "day 7"]
    assert day7.statements[0].outcomes == {"unless seen project_created: true (skipped)": 1}
    newer = old.model_copy(update={"data": {**old.data, "detail": "unless seen project_created: false (ran)"}})
    [why] = [d.why for d in compare([old, _email(at)], [newer]).differences]
    assert why == ["branch: head unless seen project_created: false (ran); "
                   "base unless seen project_created: true (skipped)"]


def _email(at: datetime) -> ActionRecord:
    return ActionRecord(at=at, account="acme", playbook="smb_onboarding", kind="email", data={"template": "tips"})


def test_why_tells_a_late_step_by_when_it_was_due_and_when_it_ran_in_the_accounts_time(
        empty_store: Store, bundle: ir.Bundle) -> None:
    at = datetime(2026, 1, 12, 9, tzinfo=UTC)
    empty_store.journey_entered("journey/smb_onboarding/acme", "run-1", "smb_onboarding", "acme", "event signed", at)
    late = Decision(at=at, account="acme", playbook="smb_onboarding", what="late", path="day 0", outcome="late",
                    reads={"planned": at.isoformat(), "reached": (at + timedelta(minutes=5)).isoformat()})
    empty_store.log_action(ActionRecord(at=at, account="acme", playbook="smb_onboarding", kind="decided",
                                        data=late.model_copy(update={"detail": decision_text.detail(late)}).logged(),
                                        key="journey/smb_onboarding/acme/run-1/day 0/late/0"))
    lines = [line.text for line in tell(empty_store, bundle, "acme", "smb_onboarding", now=at).lines]
    assert "Day 0: ran 5 min late: due 2026-01-12 09:00 UTC, ran at 2026-01-12 09:05 UTC." in lines
