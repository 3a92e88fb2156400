"""`playbook lsp`: listed among the commands; a mistake in its options is one line, exit 2."""

from __future__ import annotations

import pytest

from cli.main import COMMANDS, build_parser, main


def test_the_language_server_is_a_command() -> None:
    assert "lsp" in COMMANDS
    parser = build_parser(("lsp",))
    args = parser.parse_args(["lsp", "--stdio", "--folder", "playbooks", "--debounce-ms", "0"])
    assert (args.folder, args.debounce_ms, args.stdio) == ("playbooks", 0, True)


def test_a_negative_pause_is_refused_with_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lsp", "--debounce-ms", "-5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "playbook: --debounce-ms takes a number of milliseconds, 0 or more")
