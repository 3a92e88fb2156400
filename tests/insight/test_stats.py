"""Per-step stats: exact counts from a store whose every row is known, and from real journeys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from dsl import ir
from engine.insight.analytics import StatementStats, playbook_stats
from engine.records import ActionRecord, TaskRecord
from engine.store import Store
from tests.api.conftest import offline_api
from tests.insight.conftest import ROOT, Ran

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PB = "smb_onboarding"
CAP = "frequency cap: at most 3 emails per 7 days"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


class Journey:
    """One run of smb_onboarding for an account, written to the store as the engine writes it."""

    def __init__(self, store: Store, account: str, run: str) -> None:
        self.store, self.account, self.run = store, account, run
        self.workflow = f"journey/{PB}/{account}"
        self.decisions = 0
        store.journey_entered(self.workflow, run, PB, account, "v1", T0)
        self.log(T0, "enrolled", "enter", {"reason": "event signed", "version": "v1"})

    def log(self, at: datetime, kind: str, path: str, data: dict[str, Any]) -> None:
        self.store.log_action(ActionRecord(at=at, account=self.account, playbook=PB, kind=kind, data=data,
                                           key=f"{self.workflow}/{self.run}/{path}"))

    def decide(self, at: datetime, what: str, path: str, detail: str, **fields: str) -> None:
        self.log(at, "decided", f"{path}/{what}/{self.decisions}",
                 {"what": what, "detail": detail, "reads": {}, "path": path, **fields})
        self.decisions += 1

    def task(self, at: datetime, path: str, done_after: timedelta | None, outcome: str | None = None) -> None:
        key = f"{self.workflow}/{self.run}/{path}"
        task = TaskRecord(id=f"t-{self.account}", account=self.account, playbook=PB, title="Onboarding rescue",
                          owner="sam@vendor.example", due=None, priority="high", created_at=at)
        self.store.create_task(task, key, self.workflow)
        self.log(at, "task", path, {"task": task.id, "title": task.title})
        if done_after is not None:
            self.store.complete_tasks(self.account, at + done_after, task_id=task.id, outcome=outcome)

    def end(self, at: datetime, status: str, reason: str | None = None) -> None:
        self.store.journey_ended(self.workflow, self.run, at, status, reason)
        self.log(at, status, "end", {"reason": reason} if reason else {})


@pytest.fixture
def known(empty_store: Store) -> Iterator[Store]:
    """Four journeys of smb_onboarding and three refused triggers, every row written by hand."""
    store = empty_store
    a1, a2, a3, a4 = (Journey(store, f"a{n}", f"run-{n}") for n in range(1, 5))
    for journey in (a1, a2, a3):
        journey.log(day(0), "email", "day 0/0", {"template": "welcome", "to": "x@example.com"})
    a2.decide(day(0), "quiet_hours", "day 0/0", "send email welcome: quiet hours in UTC, waits until later",
              outcome="quiet_hours", subject="welcome")
    a4.log(day(0), "suppressed", "day 0/0", {"template": "welcome", "channel": "email", "reason": CAP})
    for journey in (a1, a2, a3):
        journey.log(day(3), "in_app", "day 3/0", {"template": "core_workflows_tutorial"})
    a4.log(day(3), "failed", "day 3/0/failed", {"step": "day 3/0", "error": "no such template"})
    a1.decide(day(7), "branch", "day 7/0", "unless seen project_created: true (skipped)",
              outcome="true", block="skipped", subject="unless seen project_created")
    for journey in (a2, a3):
        journey.decide(day(7), "branch", "day 7/0", "unless seen project_created: false (ran)",
                       outcome="false", block="then", subject="unless seen project_created")
    a2.log(day(7), "email", "day 7/0/then/0", {"template": "first_project"})
    a3.log(day(7), "suppressed", "day 7/0/then/0", {"template": "first_project", "reason": "unsubscribed"})
    a3.end(day(10), "exited", "event churned")
    for journey, done in ((a1, timedelta(hours=10)), (a2, timedelta(hours=30)), (a4, None)):
        journey.decide(day(30), "branch", "day 30/0", "if feature_adoption < 20%: true (ran)",
                       outcome="true", block="then", subject="if feature_adoption < 20%")
        journey.task(day(30), "day 30/0/then/0", done, "resolved" if journey is a1 else None)
    a1.end(day(30), "completed")
    a2.end(day(31), "goal_reached", "feature_adoption >= 30%")
    a1.log(day(5), "email", "day 5/0", {"template": "welcome"})  # a step of an older version
    for n, what in enumerate(("not_admitted", "not_admitted", "already_active")):
        store.log_action(ActionRecord(at=day(n), account=f"b{n}", playbook=PB, kind="decided",
                                      data={"what": what, "detail": "", "reads": {}},
                                      key=f"decided/{PB}/b{n}/change-{n}"))
    yield store


def statement(stats: list[StatementStats], path: str) -> StatementStats:
    return next(s for s in stats if s.path == path)


def test_stats_count_each_step_and_statement_of_a_known_store_exactly(known: Store, bundle: ir.Bundle) -> None:
    [stats] = playbook_stats(known, bundle, PB).playbooks
    assert (stats.entered, stats.active, stats.completed, stats.goal_reached, stats.failed) == (4, 1, 1, 1, 0)
    assert stats.exited == {"event churned": 1}
    assert (stats.not_admitted, stats.already_active, stats.reentry_blocked) == (2, 1, 0)
    steps = {step.step: step for step in stats.steps}
    assert [step.step for step in stats.steps] == ["day 0", "day 3", "day 7", "day 14", "day 21", "day 30"]
    assert {name: step.reached for name, step in steps.items()} == {
        "day 0": 4, "day 3": 4, "day 7": 3, "day 14": 0, "day 21": 0, "day 30": 3}
    welcome = statement(steps["day 0"].statements, "day 0/0")
    assert (welcome.sent, welcome.suppressed, welcome.delayed_by_quiet_hours) == (3, {CAP: 1}, 1)
    tutorial = statement(steps["day 3"].statements, "day 3/0")
    assert (tutorial.shown, tutorial.suppressed, tutorial.failed) == (3, {}, 1)
    assert statement(steps["day 7"].statements, "day 7/0").outcomes == {"ran": 2, "skipped": 1}
    first_project = statement(steps["day 7"].statements, "day 7/0/then/0")
    assert (first_project.sent, first_project.suppressed) == (1, {"unsubscribed": 1})
    assert statement(steps["day 30"].statements, "day 30/0").outcomes == {"ran": 3}
    rescue = statement(steps["day 30"].statements, "day 30/0/then/0")
    assert (rescue.opened, rescue.completed, rescue.median_hours_to_complete) == (3, 2, 20.0)
    assert rescue.outcomes == {"resolved": 1}  # the one closed with an outcome
    assert [(s.path, s.sent) for s in stats.other_paths] == [("day 5/0", 1)]


def test_since_counts_only_what_happened_from_then_on(known: Store, bundle: ir.Bundle) -> None:
    [stats] = playbook_stats(known, bundle, PB, since=day(7)).playbooks
    assert (stats.entered, stats.active, stats.completed, stats.goal_reached) == (0, 1, 1, 1)
    assert stats.exited == {"event churned": 1}
    reached = {step.step: step.reached for step in stats.steps}
    assert reached == {"day 0": 0, "day 3": 0, "day 7": 3, "day 14": 0, "day 21": 0, "day 30": 3}
    assert (stats.not_admitted, stats.already_active) == (0, 0)


def test_stats_of_real_journeys_follow_the_log(ran: Ran) -> None:
    [stats] = playbook_stats(ran.store, ran.bundle, PB).playbooks
    # the journeys' counts kept as they change give what a count of every journey gives
    assert playbook_stats(ran.store, ran.bundle).playbooks == playbook_stats(
        ran.store, ran.bundle, since=datetime(2000, 1, 1, tzinfo=UTC)).playbooks
    assert (stats.entered, stats.exited, stats.not_admitted) == (2, {"event churned": 1}, 1)
    steps = {step.step: step for step in stats.steps}
    welcome = statement(steps["day 0"].statements, "day 0/0")
    assert (welcome.sent, welcome.suppressed, welcome.delayed_by_quiet_hours) == (2, {}, 1)
    assert statement(steps["day 7"].statements, "day 7/0").outcomes == {"ran": 1, "skipped": 1}
    assert statement(steps["day 7"].statements, "day 7/0/then/0").suppressed == {"unsubscribed": 1}
    [rescue] = playbook_stats(ran.store, ran.bundle, "churn_trial_rescue").playbooks
    task = statement(rescue.steps[0].statements, "day 14/0/then/1")
    # opened at 09:00 UTC on day 14 (the email before it waits for quiet hours to end, the task does
    # not), done at 16:00 the next day
    assert (task.opened, task.completed, task.median_hours_to_complete) == (1, 1, 31.0)


def test_stats_command_prints_the_steps_read_from_the_store(known: Store, capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    url = known.url
    assert main(["stats", PB, "--database-url", url, "--playbooks", str(ROOT / "playbooks")]) == 0
    out = capsys.readouterr().out
    assert "entered 4, active now 1, completed 1, goal reached 1, exited 1 (event churned: 1), failed 0" in out
    assert f"sent 3; suppressed 1 ({CAP}: 1); delayed by quiet hours 1" in out
    assert "opened 3, completed 2; median 20 h to complete" in out
    assert main(["stats", PB, "--json", "--database-url", url, "--playbooks", str(ROOT / "playbooks")]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["playbooks"][0]["steps"][0]["statements"][0]["sent"] == 3


async def test_stats_route_answers_a_playbook_and_refuses_an_unknown_one(known: Store, bundle: ir.Bundle) -> None:
    async with offline_api(known, bundle) as api:
        response = await api.get(f"/v1/playbooks/{PB}/stats", params={"since": "2026-01-12"})
        unknown = await api.get("/v1/playbooks/nope/stats")
        everything = await api.get("/v1/stats")
    assert response.status_code == 200
    [stats] = response.json()["playbooks"]
    assert stats["steps"][2]["statements"][0]["outcomes"] == {"ran": 2, "skipped": 1}
    assert unknown.status_code == 404
    assert {p["id"] for p in everything.json()["playbooks"]} == set(bundle.playbooks)
