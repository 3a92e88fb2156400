"""Which plugins load, what `playbook plugins` lists, and what `check` / `compile` hold `do` to.

A broken plugin is a real distribution: a `*.dist-info` folder with an `entry_points.txt` in the
`playbook.activities` group, put on `sys.path`, whose module raises when imported.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from activities.plugin_catalog import plugin_catalog
from activities.registry import load_registry
from cli.main import main
from tests.plugins.conftest import write_folder

MODEL = """\
account fields:
    name: text
    csm: owner

events:
    signed
"""

GOOD = """\
playbook hooks "Hooks":
    trigger: event signed

    day 0:
        do webhook.post url="https://hooks.example.com/cs" body="{\\"id\\": {{ account.id|tojson }}}"
        do slack.notify channel="#cs-alerts" text="Red account: {{ account.name }}"
"""


@pytest.fixture
def broken_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    site = tmp_path / "site"
    info = site / "broken_playbook_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-playbook-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[playbook.activities]\nbroken = broken_playbook_plugin:register\n")
    (site / "broken_playbook_plugin.py").write_text('raise RuntimeError("boom at import")\n')
    monkeypatch.syspath_prepend(str(site))
    return "broken"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "playbooks", {"model.play": MODEL, "hooks.play": GOOD})


def test_registry_loads_webhook_and_slack_through_their_entry_point() -> None:
    registry = load_registry()
    assert {"webhook.post", "slack.notify"} <= {spec.name for spec in registry.plugins()}
    assert registry.errors == []


def test_catalog_gives_parameter_types_and_which_are_required() -> None:
    webhook = plugin_catalog(load_registry()).get("webhook.post")
    assert webhook is not None
    summary = {name: (param.type, param.required) for name, param in webhook.params.items()}
    assert summary == {"url": ("text", True), "body": ("text", True), "secret": ("text", False),
                       "secret_env": ("text", False), "timeout_seconds": ("number", False)}


def test_plugins_env_variable_limits_which_plugins_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYBOOK_PLUGINS", "nothing_else")
    names = {spec.name for spec in load_registry()}
    assert "webhook.post" not in names
    assert "journey.enter" in names  # the engine's own activities always load


def test_broken_plugin_is_reported_by_name_and_the_others_still_load(broken_plugin: str) -> None:
    registry = load_registry()
    assert [(e.plugin, e.error) for e in registry.errors] == [(broken_plugin, "RuntimeError: boom at import")]
    assert {"webhook.post", "slack.notify"} <= {spec.name for spec in registry.plugins()}


def test_plugins_command_lists_the_broken_plugin_with_its_error_and_fails(
        broken_plugin: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 1
    out = capsys.readouterr().out
    assert out.endswith("\nfailed to load:\n    broken: RuntimeError: boom at import\n")
    assert "\nwebhook.post " in out


def test_check_reports_a_broken_plugin_on_stderr_and_still_checks_against_the_others(
        broken_plugin: str, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(folder)]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "playbook: plugin 'broken' failed to load: RuntimeError: boom at import",
        "checked 2 files (12 lines): no errors",
    ]


def test_plugins_json_lists_each_activity_with_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    slack = next(a for a in document["activities"] if a["name"] == "slack.notify")
    assert {key: slack[key] for key in ("name", "description", "plugin", "package")} == {
        "name": "slack.notify",
        "description": "Post a message to a Slack channel through an incoming webhook.",
        "plugin": "webhook_slack", "package": "playbook",
    }
    assert [{key: param[key] for key in ("name", "type", "required")} | (
        {"default": param["default"]} if "default" in param else {}) for param in slack["params"]] == [
        {"name": "text", "type": "text", "required": True},
        {"name": "channel", "type": "text", "required": False},
        {"name": "webhook_url", "type": "text", "required": False},
        {"name": "webhook_env", "type": "text", "required": False},
        {"name": "timeout_seconds", "type": "number", "required": False, "default": 10},
    ]
    assert slack["params"][0]["description"].startswith("The message; a template")
    assert document["failed"] == []
    assert all(not a["name"].startswith(("journey.", "message.", "task.")) for a in document["activities"])


@pytest.mark.parametrize("command", ["check", "compile", "simulate"])
def test_do_statements_are_checked_against_the_installed_plugins(
        command: str, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "hooks.play").write_text(textwrap.dedent("""\
        playbook hooks "Hooks":
            trigger: event signed

            day 0:
                do webhook.pots url="https://x.example"
                do slack.notify chanel="#cs" text="Hi"
                do webhook.post url="https://x.example" body="{}" timeout_seconds="soon"
        """), encoding="utf-8")
    extra = ["--events", str(write_events_file(tmp_path))] if command == "simulate" else []
    assert main([command, str(folder), *extra]) == 1
    captured = capsys.readouterr()
    path = folder / "hooks.play"
    assert captured.out == ""
    assert [line for line in captured.err.splitlines() if line.startswith(str(path))] == [
        f"{path}:5:12: unknown activity 'webhook.pots' (did you mean 'webhook.post'?)",
        f"{path}:6:25: unknown parameter 'chanel' for slack.notify (did you mean 'channel'?)",
        f"{path}:7:75: parameter 'timeout_seconds' of webhook.post takes a number, not text",
    ]


def write_events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text('{"id": "1", "account": "a", "at": "2026-03-02T09:00:00Z", "event": "signed", "data": {}}\n')
    return path


def test_missing_required_parameter_is_reported_at_the_activity(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "hooks.play").write_text(
        'playbook hooks "Hooks":\n    trigger: event signed\n    do webhook.post body="{}"\n', encoding="utf-8")
    assert main(["check", str(folder)]) == 1
    path = folder / "hooks.play"
    assert f"{path}:3:8: missing parameter 'url' for webhook.post\n" in capsys.readouterr().err
