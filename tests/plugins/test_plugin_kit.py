"""A plugin written with the author's kit (`tests/plugins/ticketing.py`), run through `simulate`
with live and dry plugins: its types, its configuration, its call's context, its failures."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from activities.plugin_catalog import plugin_catalog
from activities.plugin_config import PluginNotConfigured
from dsl.project import compile_folder
from engine.decision_text import failure_text
from engine.records import ActionRecord
from simulation.plugin_testing import Answer, RecordingServer, Request, run_folder
from tests.plugins import ticketing
from tests.plugins.conftest import START, write_events, write_folder

MODEL = """\
account fields:
    name: text
    plan: text
    csm: owner

events:
    signed
"""

REQUESTER = r'requester="{\"email\": \"sam@vendor.example\"}"'
TAGS = 'tags="vip, {{ account.plan }}"'
BY_HAND = 'else: create task "Open the ticket for {{ account.name }} by hand" for csm'
PLAYBOOK = f"""playbook tickets "Open a ticket":
    trigger: event signed

    day 0:
        do tickets.create title="Onboard {{{{ account.name }}}}" priority="high" {TAGS} {REQUESTER} {BY_HAND}
"""

ACCOUNTS = {"acme/eu": "Acme", "refused": "Refused Co", "longname": "A name far too long for a ticket title"}


CSM = {"email": "sam@vendor.example", "name": "Sam"}


def answer(request: Request, attempt: int) -> Answer:
    if json.loads(request.body)["account"] == "refused":
        return Answer(400, b'{"message": "no such queue"}')
    return Answer(201, b'{"id": "T-1"}')


def folder(root: Path) -> tuple[Path, Path]:
    playbooks = write_folder(root / "playbooks", {"model.play": MODEL, "tickets.play": PLAYBOOK})
    events = write_events(root / "events.jsonl", [
        {"id": f"s-{account}", "account": account, "at": START, "event": "signed",
         "traits": {"name": name, "plan": "pro", "csm": CSM}} for account, name in ACCOUNTS.items()])
    return playbooks, events


@dataclass
class Run:
    server: RecordingServer
    actions: list[ActionRecord]

    def of(self, account: str, kind: str) -> list[ActionRecord]:
        return [a for a in self.actions if a.account == account and a.kind == kind]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def run(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    playbooks, events = folder(tmp_path_factory.mktemp("tickets"))
    with pytest.MonkeyPatch.context() as patch, RecordingServer(answer) as server:
        patch.setenv("PLAYBOOK_PLUGIN_TICKETS_BASE_URL", server.url)
        patch.setenv("PLAYBOOK_PLUGIN_TICKETS_TOKEN", "tok-secret")
        actions = await run_folder(playbooks, events, registry=ticketing.registry())
        yield Run(server, actions)


def test_list_and_object_parameters_written_as_text_reach_the_plugin_as_a_list_and_an_object(run: Run) -> None:
    [request] = [r for r in run.server.requests if json.loads(r.body)["account"] == "acme/eu"]
    body = json.loads(request.body)
    assert body["tags"] == ["vip", "pro"]
    assert body["requester"] == {"email": "sam@vendor.example", "name": ""}
    assert body["priority"] == "high"
    assert request.headers["authorization"] == "Bearer tok-secret"


def test_the_call_carries_journey_run_and_step_even_when_the_account_id_holds_a_slash(run: Run) -> None:
    [request] = [r for r in run.server.requests if json.loads(r.body)["account"] == "acme/eu"]
    body = json.loads(request.body)
    assert body["journey"] == "journey/tickets/acme/eu"
    assert body["step"] == "day 0/0"
    assert body["run"] and "/" not in body["run"]
    assert request.key == f"{body['journey']}/{body['run']}/{body['step']}"
    assert body["attempt"] == 1


def test_a_refused_call_is_recorded_failed_with_its_activity_and_attempts(run: Run) -> None:
    [failed] = run.of("refused", "failed")
    assert failed.data["activity"] == "tickets.create"
    assert failed.data["attempts"] == 1
    assert failure_text(failed.data) == (
        'tickets.create failed after 1 attempt: TicketRejected: HTTP 400: {"message": "no such queue"}')


def test_the_journey_does_what_its_else_says_when_the_call_failed_and_only_then(run: Run) -> None:
    [task] = run.of("refused", "task")
    assert task.data["title"] == "Open the ticket for Refused Co by hand"
    [failed] = run.of("refused", "failed")
    assert task.key == str(failed.key).removesuffix("/day 0/0/failed") + "/day 0/0/else/0"
    assert len(run.of("longname", "task")) == 1  # a parameter that did not fit is a failed call too
    assert run.of("acme/eu", "task") == []


def test_a_parameter_that_does_not_fit_once_rendered_reads_as_a_sentence_without_links(run: Run) -> None:
    [failed] = run.of("longname", "failed")
    assert failed.data["error"] == "InvalidParams: title: String should have at most 40 characters"
    assert "pydantic" not in failed.data["error"]
    assert run.of("longname", "call") == []


async def test_a_dry_run_call_shows_the_key_it_would_pass_on(tmp_path: Path) -> None:
    playbooks, events = folder(tmp_path)
    actions = await run_folder(playbooks, events, registry=ticketing.registry(), live=False)
    calls = {action.account: action for action in actions if action.kind == "call"}
    assert calls["acme/eu"].data["key"] == calls["acme/eu"].key
    assert str(calls["acme/eu"].key).startswith("journey/tickets/acme/eu/")


async def test_a_live_run_refuses_to_start_when_the_plugin_is_not_configured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_PLUGIN_TICKETS_TOKEN", "tok-secret")
    monkeypatch.delenv("PLAYBOOK_PLUGIN_TICKETS_BASE_URL", raising=False)
    playbooks, events = folder(tmp_path)
    with pytest.raises(PluginNotConfigured) as refused:
        await run_folder(playbooks, events, registry=ticketing.registry())
    assert str(refused.value) == (
        "plugin tickets (tickets.create) is not configured: base_url is not set: set `base_url` under "
        "[plugins.tickets] in playbook.toml or PLAYBOOK_PLUGIN_TICKETS_BASE_URL")
    assert "tok-secret" not in str(refused.value)


def test_an_enum_parameter_is_checked_statically_and_the_message_lists_its_values(tmp_path: Path) -> None:
    playbooks, _ = folder(tmp_path)
    play = playbooks / "tickets.play"
    play.write_text(play.read_text().replace('priority="high"', 'priority="critical"'))
    compilation = compile_folder(playbooks, plugins=plugin_catalog(ticketing.registry()))
    assert not compilation.ok
    assert "it takes one of low, normal, high, urgent" in compilation.render()


async def test_a_do_may_ask_for_fewer_attempts_than_its_activity_declares(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    playbooks, events = folder(tmp_path)
    play = playbooks / "tickets.play"
    play.write_text(play.read_text().replace(f" {BY_HAND}", " at most 2 attempts"))
    with RecordingServer(lambda request, attempt: Answer(503, b"{}")) as server:
        monkeypatch.setenv("PLAYBOOK_PLUGIN_TICKETS_BASE_URL", server.url)
        monkeypatch.setenv("PLAYBOOK_PLUGIN_TICKETS_TOKEN", "tok")
        actions = await run_folder(playbooks, events, registry=ticketing.registry())
    [failed] = [a for a in actions if a.kind == "failed" and a.account == "refused"]
    assert (failed.data["attempts"], failed.data["error"]) == (2, "TicketUnavailable: HTTP 503")
    assert len([r for r in server.requests if json.loads(r.body)["account"] == "refused"]) == 2  # it declares 3


def test_a_do_may_not_ask_for_more_attempts_than_its_activity_declares(tmp_path: Path) -> None:
    playbooks, _ = folder(tmp_path)
    play = playbooks / "tickets.play"
    play.write_text(play.read_text().replace(f" {BY_HAND}", " at most 5 attempts"))
    compilation = compile_folder(playbooks, plugins=plugin_catalog(ticketing.registry()))
    assert "tickets.create takes at least 1 attempt and at most its own number (it declares 3)" in compilation.render()
