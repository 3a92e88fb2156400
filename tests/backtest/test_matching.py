"""What counts as the same action in two runs, and how a difference is explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.records import ActionRecord
from simulation.backtest_diff import compare

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _email(template: str, at: datetime, account: str = "acme", playbook: str = "onboarding") -> ActionRecord:
    return ActionRecord(at=at, account=account, playbook=playbook, kind="email",
                        data={"template": template, "to": "ana@acme.example", "subject": template})


def _branch(detail: str, reads: dict[str, Any], at: datetime, run: str, **fields: str) -> ActionRecord:
    return ActionRecord(at=at, account="acme", playbook="onboarding", kind="decided",
                        data={"what": "branch", "detail": detail, "reads": reads, "path": "steps/2/0", **fields},
                        key=f"journey/onboarding/acme/{run}/steps/2/0/branch/0")


def test_identical_actions_in_both_runs_are_no_difference() -> None:
    actions = [_email("welcome", T0), _email("tips", T0 + timedelta(days=3))]
    assert compare(actions, list(actions)).differences == []


def test_a_step_moved_by_a_few_days_is_one_moved_action_not_a_removal_and_an_addition() -> None:
    comparison = compare([_email("first_project", T0 + timedelta(days=7))],
                         [_email("first_project", T0 + timedelta(days=10))])
    [moved] = comparison.differences
    assert (moved.change, moved.label) == ("moved", "email first_project")
    assert comparison.counts["onboarding"]["email"].moved == 1
    assert comparison.counts["onboarding"]["email"].added == 0


def test_a_step_moved_further_than_the_matching_window_is_removed_and_added() -> None:
    comparison = compare([_email("first_project", T0)], [_email("first_project", T0 + timedelta(days=30))])
    assert sorted(d.change for d in comparison.differences) == ["added", "removed"]
    counts = comparison.counts["onboarding"]["email"]
    assert (counts.added, counts.removed, len(counts.added_accounts)) == (1, 1, 1)


def test_a_repeated_email_pairs_each_copy_with_the_nearest_one() -> None:
    base = [_email("digest", T0), _email("digest", T0 + timedelta(days=7))]
    head = [_email("digest", T0 + timedelta(days=1)), _email("digest", T0 + timedelta(days=8))]
    moved = sorted((d.base.at, d.head.at) for d in compare(base, head).differences if d.base and d.head)
    assert moved == [(T0, T0 + timedelta(days=1)), (T0 + timedelta(days=7), T0 + timedelta(days=8))]


def test_actions_outside_the_window_are_not_compared() -> None:
    comparison = compare([_email("welcome", T0)], [], since=T0 + timedelta(days=1))
    assert comparison.differences == []


def test_a_branch_that_went_the_other_way_is_shown_side_by_side_with_the_values_it_read() -> None:
    at = T0 + timedelta(days=21)
    base = [_branch("if arr > 15000: false (skipped)", {"arr": 12000}, at, "run-a",
                    subject="if arr > 15000", outcome="false", block="skipped")]
    head = [_branch("if arr > 15000: true (ran)", {"arr": 20000}, at, "run-b",
                    subject="if arr > 15000", outcome="true", block="then"), _email("milestone", at)]
    [added] = compare(base, head).differences
    assert added.why == ["branch `if arr > 15000`: true in head, false in base; head read (arr = 20000), "
                         "base read (arr = 12000)"]


def test_without_a_differing_decision_a_difference_is_put_down_to_the_changed_steps() -> None:
    [added] = compare([], [_email("new_step", T0)], changed_playbooks={"onboarding"}).differences
    assert added.why == ["no decision differs: the steps of onboarding changed"]
    [knock_on] = compare([], [_email("renewal", T0, playbook="renewal")], changed_playbooks={"onboarding"}).differences
    assert knock_on.why[0].startswith("no decision of this playbook differs: a knock-on effect")
