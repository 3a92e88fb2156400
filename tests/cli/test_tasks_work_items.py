"""`playbook tasks` with work items: `--type` lists one type, the table shows each task's type,
reason and checklist progress, and `--step ID N` ticks a step through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dsl import ir
from engine.records import TaskRecord, TaskStep
from engine.store import Store
from tests.cli.test_views import TOKEN, offline_engine, playbook

T0 = datetime.now(UTC).replace(microsecond=0)


def _tasks(store: Store) -> None:
    steps = [TaskStep(title="Book the call", due=T0 + timedelta(days=2)), TaskStep(title="Send the plan")]
    store.create_task(TaskRecord(id="kickoff", account="acme", playbook="kickoff", title="Kickoff: Acme",
                                 owner="sam@vendor.example", due=T0 + timedelta(days=5), priority="high",
                                 created_at=T0, task_type="onboarding", reason="new_customer", checklist=steps),
                      key="k1", journey=None)
    store.create_task(TaskRecord(id="risky", account="acme", playbook="usage", title="Usage dropped",
                                 owner="sam@vendor.example", due=None, priority="normal",
                                 created_at=T0 + timedelta(hours=1), task_type="risk"), key="k2", journey=None)


async def test_tasks_by_type_show_the_work_item_and_a_step_ticks_through_the_api(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one table row per task
    _tasks(store)
    async with offline_engine(store, bundle) as url:
        listed = await playbook("tasks", "--type", "onboarding", "--url", url, "--token", TOKEN)
        table = capsys.readouterr().out
        ticked = await playbook("tasks", "--step", "kickoff", "1", "--url", url, "--token", TOKEN)
        tick_out = capsys.readouterr().out
        missing = await playbook("tasks", "--step", "kickoff", "9", "--url", url, "--token", TOKEN)
        bad = await playbook("tasks", "--step", "kickoff", "first", "--url", url, "--token", TOKEN)
        errors = capsys.readouterr().err
    assert (listed, ticked, missing, bad) == (0, 0, 1, 2)
    assert "onboarding: new_customer, 0/2" in table and "Usage dropped" not in table
    assert tick_out == "kickoff: step 1 done: Book the call (1/2)\n"
    assert "playbook tasks: task 'kickoff' has 2 steps: no step 9\n" in errors
    assert "--step kickoff first: the step is a number from 1" in errors
    task = store.task("kickoff")
    assert task is not None and task.checklist[0].done_at is not None and task.checklist[1].done_at is None


async def test_tasks_complete_with_an_outcome_records_it_and_outcome_alone_is_refused(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _tasks(store)
    async with offline_engine(store, bundle) as url:
        done = await playbook("tasks", "--complete", "risky", "--outcome", "no_response", "--url", url,
                              "--token", TOKEN)
        alone = await playbook("tasks", "--outcome", "resolved", "--url", url, "--token", TOKEN)
    captured = capsys.readouterr()
    assert (done, alone) == (0, 2)
    assert captured.out == "risky: done: Usage dropped (acme)\n"
    assert "--outcome goes with --complete ID" in captured.err
    task = store.task("risky")
    assert task is not None and (task.status, task.outcome) == ("done", "no_response")


async def test_tasks_snooze_and_reassign_through_the_api(
        store: Store, bundle: ir.Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    _tasks(store)
    async with offline_engine(store, bundle) as url:
        snoozed = await playbook("tasks", "--snooze", "kickoff", "--until", "2099-01-05T09:00:00Z", "--reason",
                                 "customer on holiday", "--url", url, "--token", TOKEN)
        moved = await playbook("tasks", "--reassign", "risky", "--to", "lee@vendor.example", "--url", url,
                               "--token", TOKEN)
        no_until = await playbook("tasks", "--snooze", "kickoff", "--reason", "x", "--url", url, "--token", TOKEN)
        closed = await playbook("tasks", "--reassign", "gone", "--to", "lee@vendor.example", "--url", url,
                                "--token", TOKEN)
    captured = capsys.readouterr()
    assert (snoozed, moved, no_until, closed) == (0, 0, 2, 1)
    assert captured.out.splitlines() == ["kickoff: snoozed until 2099-01-05T09:00:00Z: Kickoff: Acme",
                                         "risky: now for lee@vendor.example: Usage dropped"]
    assert "--snooze ID needs --until WHEN" in captured.err
    assert "playbook tasks: no task 'gone'" in captured.err
