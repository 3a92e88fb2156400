"""The send window, deferral over the cap and transactional mail as `why`, `stats` and `backtest`
tell them: the example playbooks run over their timelines into a store these tests read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path

import pytest

from cli.main import main
from dsl import ir
from dsl.project import compile_folder
from engine.insight.analytics import PlaybookStats, StatementStats, playbook_stats
from engine.insight.story import tell
from engine.records import ActionRecord
from engine.store import Store
from simulation.backtest_diff import compare
from tests.insight.conftest import ROOT, Ran, run_timeline

EXAMPLES = ROOT / "examples" / "cs-playbooks"
TIMELINES = ROOT / "tests" / "scenarios" / "timelines"
SCENARIOS = ("send_window_holds_until_business_hours", "over_the_cap_defers_by_priority")


@pytest.fixture(scope="module")
def examples() -> ir.Bundle:
    compilation = compile_folder(EXAMPLES)
    assert compilation.bundle is not None
    return compilation.bundle


@pytest.fixture(scope="module")
async def told(tmp_path_factory: pytest.TempPathFactory, examples: ir.Bundle) -> AsyncIterator[Ran]:
    folder = tmp_path_factory.mktemp("send_rules")
    merged = folder / "events.jsonl"
    merged.write_text("".join((TIMELINES / name / "events.jsonl").read_text() for name in SCENARIOS))
    store = Store.open(f"sqlite:///{folder / 'store.db'}")
    try:
        start, end, outbox = await run_timeline(store, examples, merged, 12)
        yield Ran(store=store, bundle=examples, start=start, end=end, outbox=outbox)
    finally:
        store.close()


def story(ran: Ran, account: str, playbook: str) -> list[str]:
    lines = tell(ran.store, ran.bundle, account, playbook, now=ran.end).lines
    return [f"{line.at.astimezone(UTC):%m-%d %H:%M} {line.text}" for line in lines]


def send_stats(ran: Ran, playbook: str, path: str) -> StatementStats:
    stats: PlaybookStats = playbook_stats(ran.store, ran.bundle, playbook).playbooks[0]
    return next(s for step in stats.steps for s in step.statements if s.path == path)


def test_why_tells_an_email_held_for_the_send_window_with_its_new_moment(told: Ran) -> None:
    lines = story(told, "kumo", "nps_detractor")
    assert ("03-06 10:00 Entry: send email detractor_follow_up to primary_contact was due outside the send window "
            "(send on weekdays 09:00 to 17:00 account time: outside its hours): it waited until 2026-03-09 "
            "00:00 UTC (2026-03-09 09:00 Asia/Tokyo).") in lines
    assert ('03-09 00:00 Entry: sent email detractor_follow_up to kei@kumo.example: "Following up on your feedback, '
            'Kei".') in lines


def test_why_tells_each_deferral_with_its_reason_and_new_moment(told: Ran) -> None:
    deferred = [line for line in story(told, "maple", "feature_tips") if "deferred" in line]
    assert deferred == [
        "03-03 10:00 Entry: email feature_tips to mo@maple.example was deferred (frequency cap: at most 3 emails per 7 "
        "days): it waits until 2026-03-09 10:00 UTC.",
        "03-09 10:02 Entry: email feature_tips to mo@maple.example was deferred (frequency cap: at most 3 emails per 7 "
        "days): it waits until 2026-03-09 11:00 UTC.",
    ]


def test_stats_count_the_sends_held_by_the_window_and_deferred_by_the_cap(told: Ran) -> None:
    follow_up = send_stats(told, "nps_detractor", "entry/4")
    assert (follow_up.sent, follow_up.delayed_by_send_window, follow_up.deferred_over_cap) == (3, 2, 0)
    tips = send_stats(told, "feature_tips", "entry/0")
    assert (tips.sent, tips.suppressed, tips.deferred_over_cap) == (1, {}, 2)
    offer = send_stats(told, "expansion_signal", "entry/0")
    assert (offer.sent, offer.deferred_over_cap) == (1, 1)


def test_backtest_shows_a_deferral_beside_the_email_it_delays(told: Ran) -> None:
    head = [a for a in told.store.actions("maple") if a.playbook == "feature_tips"]
    # the same history under `over the cap: drop`: the tip is suppressed at once
    capped = next(a for a in head if a.kind == "deferred")
    base = [a for a in head if a.kind == "enrolled"] + [ActionRecord(
        at=capped.at, account="maple", playbook="feature_tips", kind="suppressed", key=capped.key,
        data={"template": "feature_tips", "channel": "email", "reason": "frequency cap: at most 3 emails per 7 days"})]
    outcomes = sorted(d.outcome() for d in compare(base, head).differences if d.label.endswith("feature_tips"))
    assert "deferred until 2026-03-09 10:00 (frequency cap: at most 3 emails per 7 days) in head only" in outcomes
    assert any(outcome.startswith("sent to mo@maple.example") for outcome in outcomes)


def test_the_timelines_are_where_the_tests_read_them() -> None:
    assert all((TIMELINES / name / "events.jsonl").is_file() for name in SCENARIOS)
    assert Path(EXAMPLES / "payment_failed.play").is_file()


def test_the_stats_command_prints_the_deferrals_and_the_window(told: Ran, capsys: pytest.CaptureFixture[str]) -> None:
    url = told.store.url
    assert main(["stats", "feature_tips", "--database-url", url, "--playbooks", str(EXAMPLES)]) == 0
    assert "sent 1; deferred over the cap 2" in capsys.readouterr().out
    assert main(["stats", "nps_detractor", "--database-url", url, "--playbooks", str(EXAMPLES)]) == 0
    assert "sent 3; held for the send window 2" in capsys.readouterr().out
