"""The comparison the conformance suite makes: what it ignores, and what it does not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.records import ActionRecord
from tests.conformance.comparison import differences

T = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _action(kind: str, playbook: str = "p", at: datetime = T, **data: Any) -> ActionRecord:
    return ActionRecord(at=at, account="a", playbook=playbook, kind=kind, data=data)


def test_the_real_moment_of_a_late_send_and_task_ids_are_not_compared() -> None:
    live = [_action("email", template="welcome", sent_at="2026-01-05T13:00:01+00:00"), _action("task", task="t-1")]
    simulated = [_action("email", template="welcome", sent_at="2026-01-05T13:00:00+00:00"), _action("task", task="t-2")]
    assert differences(live, simulated) == []


def test_another_template_time_or_playbook_is_a_difference() -> None:
    assert differences([_action("email", template="welcome")], [_action("email", template="first_project")])
    assert differences([_action("email", template="welcome")],
                       [_action("email", template="welcome", at=datetime(2026, 1, 5, 10, tzinfo=UTC))])
    assert differences([_action("task", playbook="p")], [_action("task", playbook="q")])


def test_which_journey_wins_the_caps_last_slot_is_not_compared_but_who_raced_is() -> None:
    cap = "frequency cap: at most 3 emails per 7 days"
    live = [_action("email", playbook="p"), _action("suppressed", playbook="q", reason=cap)]
    simulated = [_action("email", playbook="q"), _action("suppressed", playbook="p", reason=cap)]
    assert differences(live, simulated) == []
    other = [_action("email", playbook="r"), _action("suppressed", playbook="p", reason=cap)]
    assert differences(live, other)
    assert differences(live, [_action("email", playbook="p"), _action("email", playbook="q")])
