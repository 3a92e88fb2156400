"""The example plugin package `examples/playbook-hubspot-tasks`, installed like any third-party one.

It must be installed in the environment the tests run in (`.ci/run` does it):
    pip install -e examples/playbook-hubspot-tasks
"""

from __future__ import annotations

import json
import shutil
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from cli.main import main
from simulation.plugin_testing import Answer, RecordingServer, Request

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "playbook-hubspot-tasks"
SAMPLE = EXAMPLE / "sample"


@pytest.fixture(autouse=True, scope="module")
def installed() -> None:
    try:
        distribution("playbook-hubspot-tasks")
    except PackageNotFoundError:
        pytest.fail("the example plugin is not installed: pip install -e examples/playbook-hubspot-tasks")


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SAMPLE, tmp_path / "sample"))


def test_plugins_command_lists_the_example_with_its_package_model_and_parameters(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    start = out.index("hubspot.create_task")
    lines = [line.rstrip() for line in out[start:].splitlines()[1:9]]
    version = distribution("playbook-hubspot-tasks").version
    assert lines[0] == f"    from playbook-hubspot-tasks {version} (entry point hubspot)"
    assert lines[1] == "    Create a HubSpot task for an owner, due some days after the step."
    assert lines[2] == "    config [plugins.hubspot]: token (required, secret), api_url, timeout_seconds"
    assert lines[3].split() == ["subject", "text", "required", "The", "task's", "subject;", "a", "template."]
    assert lines[5].split()[:5] == ["due_days", "number", "optional,", "default", "3"]
    assert lines[5].endswith("Days after the step the task is due. (0 to 365)")
    assert lines[7].endswith("one of LOW, MEDIUM, HIGH")


def test_plugins_json_lists_values_bounds_descriptions_and_the_package_version(
        capsys: pytest.CaptureFixture[str]) -> None:
    main(["plugins", "--json"])
    [task] = [a for a in json.loads(capsys.readouterr().out)["activities"] if a["name"] == "hubspot.create_task"]
    assert (task["package"], task["plugin"]) == ("playbook-hubspot-tasks", "hubspot")
    assert task["model"] == "Create a HubSpot task for an owner, due some days after the step."
    params = {param["name"]: param for param in task["params"]}
    assert params["priority"]["values"] == ["LOW", "MEDIUM", "HIGH"]
    assert (params["due_days"]["minimum"], params["due_days"]["maximum"]) == (0, 365)
    assert params["subject"]["description"] == "The task's subject; a template."
    assert task["config"][0] == {"name": "token", "required": True, "secret": True}


def test_check_accepts_the_sample_playbook_that_uses_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SAMPLE / "playbooks")]) == 0
    assert capsys.readouterr().err == "checked 2 files (18 lines): no errors\n"


def test_check_rejects_a_misspelled_parameter_with_a_suggestion(
        sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    play = sample / "playbooks" / "renewal.play"
    play.write_text(play.read_text().replace("owner_email=", "owner_emial="), encoding="utf-8")
    assert main(["check", str(sample / "playbooks")]) == 1
    line = "            do hubspot.create_task subject=\"Call {{ account.name }}\" owner_emial=csm.email due_days=2"
    assert capsys.readouterr().err.splitlines() == [
        f"{play}:7:12: missing parameter 'owner_email' for hubspot.create_task",
        line,
        " " * 15 + "^" * len("hubspot.create_task"),
        f"{play}:7:66: unknown parameter 'owner_emial' for hubspot.create_task (did you mean 'owner_email'?)",
        line,
        " " * 69 + "^" * len("owner_emial"),
        "checked 2 files (18 lines): 2 errors",
    ]


def test_simulate_runs_it_against_the_api_and_shows_its_call_action(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def hubspot(request: Request, attempt: int) -> Answer:
        if request.method == "GET":
            email = parse_qs(urlsplit(request.path).query)["email"][0]
            return Answer(200, json.dumps({"results": [{"id": "101", "email": email}]}).encode())
        return Answer(201, b'{"id": "9000"}')

    with RecordingServer(hubspot) as api:
        monkeypatch.setenv("PLAYBOOK_PLUGIN_HUBSPOT_API_URL", api.url)
        monkeypatch.setenv("PLAYBOOK_PLUGIN_HUBSPOT_TOKEN", "pat-test")
        status = main(["simulate", str(SAMPLE / "playbooks"), "--events", str(SAMPLE / "events.jsonl"),
                       "--days", "3", "--json", "--live-plugins"])
    assert status == 0
    actions = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [call] = [a for a in actions if a["kind"] == "call"]
    assert call == {
        "at": "2026-03-03T10:00:00+00:00", "account": "acme", "playbook": "renewal_call", "kind": "call",
        "activity": "hubspot.create_task",
        "params": {"subject": "Call Acme", "owner_email": "sam@vendor.example", "due_days": 2, "notes": None,
                   "priority": "MEDIUM"},
    }
    [created] = [r for r in api.requests if r.method == "POST"]
    assert created.headers["authorization"] == "Bearer pat-test"
    assert created.key.startswith("journey/renewal_call/acme/")
    assert json.loads(created.body)["properties"]["hs_timestamp"] == "2026-03-05T10:00:00Z"


def test_a_worker_whose_playbooks_call_it_refuses_to_start_without_its_token(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_PLAYBOOKS", str(SAMPLE / "playbooks"))
    monkeypatch.setenv("PLAYBOOK_TEMPORAL_ADDRESS", "127.0.0.1:9")  # never reached: it refuses first
    monkeypatch.delenv("PLAYBOOK_PLUGIN_HUBSPOT_TOKEN", raising=False)
    assert main(["worker"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "plugin hubspot (hubspot.create_task) is not configured: token is not set: set `token` under "
        "[plugins.hubspot] in playbook.toml or PLAYBOOK_PLUGIN_HUBSPOT_TOKEN",
        "playbook worker: not starting",
    ]


def test_simulate_with_live_plugins_refuses_to_start_without_its_token(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLAYBOOK_PLUGIN_HUBSPOT_TOKEN", raising=False)
    status = main(["simulate", str(SAMPLE / "playbooks"), "--events", str(SAMPLE / "events.jsonl"), "--live-plugins"])
    assert status == 1
    assert capsys.readouterr().err.splitlines()[-1] == "playbook simulate: not starting"
