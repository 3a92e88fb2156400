"""What a task title, a `do` parameter and a message render at run time, through `playbook simulate`:
the journey's event, a missing parent under `default`, a contact without a name, whole numbers;
and a step that cannot run is a `failed` action with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from engine.store import Store

MODEL = """\
account fields:
    name: text
    csm: owner
    backup: owner
    primary_contact: contact
    seats: number

events:
    nps_response: score number, comment text
"""

TITLE = "NPS {{ event.data.score }}: {{ account.name }} ({{ account.seats }} seats), " \
        "backup {{ account.backup.name | default('none') }}"
PLAYBOOK = f"""\
playbook nps_low "Low NPS":
    trigger: event nps_response

    create task "{TITLE}" for csm due 48h
    do slack.notify channel="#cs" text="NPS {{{{ event.data.score }}}}: {{{{ event.data.comment }}}}"
    send email hello
"""

TEMPLATE = """\
{% block subject %}Hi {{ contact.name | default("there", true) }}{% endblock %}
{% block text %}Hi {{ contact.name | default("there", true) }},{% endblock %}
{% block html %}<p>Hi {{ contact.name | default("there", true) }},</p>{% endblock %}
"""


def _folder(tmp_path: Path, playbook: str = PLAYBOOK) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "model.play").write_text(MODEL, encoding="utf-8")
    (tmp_path / "nps.play").write_text(playbook, encoding="utf-8")
    (tmp_path / "templates" / "hello.email.jinja").write_text(TEMPLATE, encoding="utf-8")
    return tmp_path


def _simulate(folder: Path, traits: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    timeline = folder / "events.jsonl"
    timeline.write_text("\n".join(json.dumps(line) for line in [
        {"account": "acme", "at": "2026-01-05T09:00:00Z", "traits": traits},
        {"account": "acme", "at": "2026-01-05T10:00:00Z", "event": "nps_response",
         "data": {"score": 3, "comment": "slow"}},
    ]) + "\n", encoding="utf-8")
    status = main(["simulate", str(folder), "--events", str(timeline), "--days", "3", "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return [json.loads(line) for line in captured.out.splitlines()]


def _one(actions: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [action for action in actions if action["kind"] == kind]
    assert len(found) == 1, actions
    return found[0]


TRAITS: dict[str, Any] = {"name": "Acme", "seats": 5.0, "csm": {"email": "sam@vendor.example", "name": "Sam"},
                          "primary_contact": {"email": "ops@noname.example"}}


def test_a_task_title_reads_the_event_a_missing_parent_under_default_and_whole_numbers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    actions = _simulate(_folder(tmp_path), TRAITS, capsys)
    assert _one(actions, "task")["title"] == "NPS 3: Acme (5 seats), backup none"
    assert not [action for action in actions if action["kind"] == "failed"]


def test_a_do_parameter_reads_the_event_that_started_the_journey(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    actions = _simulate(_folder(tmp_path), TRAITS, capsys)
    assert _one(actions, "call")["params"]["text"] == "NPS 3: slow"


def test_a_contact_without_a_name_is_greeted_by_the_default_not_by_the_address(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    actions = _simulate(_folder(tmp_path), TRAITS, capsys)
    assert _one(actions, "email")["subject"] == "Hi there"


def test_a_task_for_an_account_without_its_owner_is_failed_with_the_reason_and_the_journey_goes_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    traits = {key: value for key, value in TRAITS.items() if key != "csm"}
    actions = _simulate(_folder(tmp_path), traits, capsys)
    failed = _one(actions, "failed")
    assert "the account has no csm with an email address" in failed["error"]
    assert _one(actions, "email")["subject"] == "Hi there"
    assert actions[-1]["kind"] == "completed"


def test_printing_a_missing_value_is_still_an_error_not_a_blank(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    playbook = PLAYBOOK.replace("{{ account.backup.name | default('none') }}", "{{ account.backup.name }}")
    actions = _simulate(_folder(tmp_path, playbook), TRAITS, capsys)
    assert "task title" in _one(actions, "failed")["error"]
    assert not [action for action in actions if action["kind"] == "task"]


def test_the_simulate_table_says_what_each_action_was_as_the_log_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "240")
    folder = _folder(tmp_path, PLAYBOOK.replace(" due 48h", ""))
    timeline = folder / "events.jsonl"
    timeline.write_text("\n".join(json.dumps(line) for line in [
        {"account": "acme", "at": "2026-01-05T09:00:00Z", "traits": TRAITS},
        {"account": "acme", "at": "2026-01-05T10:00:00Z", "event": "nps_response",
         "data": {"score": 3.0, "comment": "slow"}},
    ]) + "\n", encoding="utf-8")
    assert main(["simulate", str(folder), "--events", str(timeline), "--days", "3"]) == 0
    out = capsys.readouterr().out
    assert "NPS 3: Acme (5 seats), backup none for sam@vendor.example, normal" in out
    assert "slack.notify(text=NPS 3: slow, channel=#cs, timeout_seconds=10)" in out
    assert "None" not in out
    assert "{" not in out


async def test_a_failed_task_is_counted_under_failed_in_the_stats_of_its_statement(
        tmp_path: Path, store: Store) -> None:
    from dsl.project import compile_folder
    from engine.insight.analytics import playbook_stats
    from simulation.simulate import simulate

    folder = _folder(tmp_path)
    compilation = compile_folder(folder)
    assert compilation.bundle is not None, compilation.render()
    timeline = folder / "events.jsonl"
    traits = {key: value for key, value in TRAITS.items() if key != "csm"}
    timeline.write_text("\n".join(json.dumps(line) for line in [
        {"account": "acme", "at": "2026-01-05T09:00:00Z", "traits": traits},
        {"account": "acme", "at": "2026-01-05T10:00:00Z", "event": "nps_response",
         "data": {"score": 3, "comment": "slow"}},
    ]) + "\n", encoding="utf-8")
    await simulate(compilation.bundle, timeline, days=3, store=store)
    [stats] = playbook_stats(store, compilation.bundle, "nps_low").playbooks
    task = next(s for step in stats.steps for s in step.statements if s.statement.startswith("create task"))
    assert (task.opened, task.failed) == (0, 1)
    assert stats.completed == 1
