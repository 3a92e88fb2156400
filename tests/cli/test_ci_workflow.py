"""The GitHub Actions workflow in docs/ci.md: it is valid YAML, runs on pull requests that touch
`playbooks/`, uses the actions the page describes, and every `playbook` command it runs exists
with the options it passes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.main import COMMANDS, build_parser

PAGE = Path(__file__).resolve().parents[2] / "docs" / "ci.md"
SHELL_OPERATORS = frozenset({">", ">>", "|", "||", "&&", ";", "2>"})


def workflow() -> dict[Any, Any]:
    blocks = re.findall(r"^```yaml\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.S | re.M)
    assert len(blocks) == 1, "docs/ci.md has one YAML block: the workflow"
    loaded = yaml.safe_load(blocks[0])
    assert isinstance(loaded, dict)
    return loaded


def steps() -> list[dict[str, Any]]:
    (job,) = workflow()["jobs"].values()
    found: list[dict[str, Any]] = job["steps"]
    return found


def playbook_commands() -> list[list[str]]:
    """The arguments of each `playbook` command the workflow runs, up to a redirection or pipe."""
    commands: list[list[str]] = []
    for step in steps():
        for line in str(step.get("run", "")).replace("\\\n", " ").splitlines():
            words = shlex.split(line)
            if words[:1] != ["playbook"]:
                continue
            end = next((i for i, word in enumerate(words) if word in SHELL_OPERATORS), len(words))
            commands.append(words[1:end])
    return commands


def test_the_workflow_runs_on_pull_requests_that_touch_the_playbooks() -> None:
    loaded = workflow()
    triggers: dict[str, Any] = loaded["on"] if "on" in loaded else loaded[True]  # YAML 1.1 reads `on` as true
    assert triggers["pull_request"]["paths"] == ["playbooks/**"]
    assert loaded["permissions"]["security-events"] == "write"
    assert loaded["permissions"]["pull-requests"] == "write"


def test_the_workflow_sets_up_python_3_11_and_uses_the_actions_it_describes() -> None:
    uses = {str(step["uses"]).split("@")[0]: step for step in steps() if "uses" in step}
    assert uses["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert uses["github/codeql-action/upload-sarif"]["with"]["sarif_file"] == "check.sarif"
    assert uses["marocchino/sticky-pull-request-comment"]["with"]["path"] == "summary.md"
    assert any("pip install" in str(step.get("run", "")) for step in steps())


def test_the_workflow_runs_check_test_and_backtest_in_that_order() -> None:
    assert [(command[0], command[command.index("--format") + 1] if "--format" in command else None)
            for command in playbook_commands()] == [
        ("check", "github"), ("check", "sarif"), ("test", None), ("backtest", "markdown")]
    backtest = next(step for step in steps() if "playbook backtest" in str(step.get("run", "")))
    assert str(backtest["run"]).rstrip().endswith("> summary.md")


@pytest.mark.parametrize("command", playbook_commands(), ids=" ".join)
def test_each_playbook_command_of_the_workflow_exists_with_its_options(command: list[str]) -> None:
    assert command[0] in COMMANDS, f"the workflow runs `playbook {command[0]}`, which does not exist"
    args = build_parser((command[0],)).parse_args(command)
    assert args.command == command[0]
    assert callable(args.handler)
