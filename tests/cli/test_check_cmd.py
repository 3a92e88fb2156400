"""`playbook check` and `playbook compile`, and the dispatcher's promises: exit statuses, the
summary line, diagnostics with a caret, and never a Python traceback."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli import main as cli
from cli.main import main
from dsl.ir import Bundle

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "playbooks"

MODEL = """\
account fields:
    name: text
    segment: one of enterprise, mid_market, smb, trial
    feature_adoption: percent
    csm: owner
    primary_contact: contact

events:
    signed
    churned
"""

PLAYBOOK = """\
playbook starter "Starter":
    trigger: event signed
    audience: segment == "smb"

    day 0:
        send email hello to primary_contact
    day 30:
        if {field} < 20%:
            create task "Rescue: {{{{ account.name }}}}" for csm due 48h priority high
"""

TEMPLATE = """\
{% block subject %}Hello {{ account.name }}{% endblock %}
{% block text %}Hi {{ contact.name }}, welcome.{% endblock %}
{% block html %}<p>Hi {{ contact.name }}, welcome.</p>{% endblock %}
"""


def make_folder(root: Path, field: str = "feature_adoption") -> Path:
    folder = root / "playbooks"
    (folder / "templates").mkdir(parents=True)
    (folder / "model.play").write_text(MODEL, encoding="utf-8")
    (folder / "starter.play").write_text(PLAYBOOK.format(field=field), encoding="utf-8")
    (folder / "templates" / "hello.email.jinja").write_text(TEMPLATE, encoding="utf-8")
    return folder


SUMMARY = re.compile(r"^checked (\d[\d,]*) files? \((\d[\d,]*) lines?\): (.+)$", re.MULTILINE)


def test_a_clean_folder_checks_with_exit_0_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(tmp_path)
    assert main(["check", str(folder)]) == 0
    err = capsys.readouterr().err
    match = SUMMARY.search(err)
    assert match, err
    written = MODEL.count("\n") + PLAYBOOK.count("\n")
    assert match.groups() == ("2", str(written), "no errors")


def test_an_unknown_field_is_reported_at_its_place_with_a_caret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(tmp_path, field="feature_adoptoin")
    assert main(["check", str(folder)]) == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    headline = next(i for i, line in enumerate(lines) if "feature_adoptoin" in line and ".play:" in line)
    expected = r"starter\.play:8:12: .*feature_adoptoin.*did you mean 'feature_adoption'"
    assert re.search(expected, lines[headline])
    assert lines[headline + 1].strip() == "if feature_adoptoin < 20%:"
    caret = lines[headline + 2]
    assert caret.strip().startswith("^")
    assert caret.index("^") == lines[headline + 1].index("feature_adoptoin")
    assert SUMMARY.search(err).group(3) == "1 error"  # type: ignore[union-attr]
    assert "Traceback" not in err


def test_the_standard_library_checks_clean(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", str(LIBRARY)])
    err = capsys.readouterr().err
    assert status == 0, err
    assert SUMMARY.search(err).group(3) == "no errors"  # type: ignore[union-attr]


def test_a_missing_folder_is_a_usage_error_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"playbook: no such folder: {tmp_path / 'nowhere'}"


def test_a_file_given_as_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "one.play"
    file.write_text("", encoding="utf-8")
    assert main(["check", str(file)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_an_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--frobnicate"]) == 2
    assert "unrecognized arguments: --frobnicate" in capsys.readouterr().err


def test_no_command_prints_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: playbook" in capsys.readouterr().err


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert re.fullmatch(r"playbook \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


def test_an_unexpected_failure_prints_one_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object, **__: object) -> object:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr("cli.commands.check.compile_folder", explode)
    monkeypatch.delenv("PLAYBOOK_DEBUG", raising=False)
    assert main(["check", str(make_folder(tmp_path))]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "playbook: internal error: RuntimeError: disk on fire (set PLAYBOOK_DEBUG=1 to see the traceback)"
    ]


def test_playbook_debug_shows_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object, **__: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("cli.commands.check.compile_folder", explode)
    monkeypatch.setenv("PLAYBOOK_DEBUG", "1")
    assert main(["check", str(make_folder(tmp_path))]) == cli.EXIT_INTERNAL
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_a_command_that_fails_to_import_does_not_break_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = cli.importlib.import_module

    def import_module(name: str) -> object:
        if name == "cli.commands.broken":
            raise ImportError("cannot import name 'Thing' from 'somewhere'")
        if name == "cli.commands.absent":
            raise ModuleNotFoundError("No module named 'cli.commands.absent'", name=name)
        return real_import(name)

    monkeypatch.setattr(cli.importlib, "import_module", import_module)
    monkeypatch.setattr(cli, "COMMANDS", ("broken", "absent", "check"))
    parser = cli.build_parser()
    choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(choices) == {"broken", "check"}
    assert main(["check", str(make_folder(tmp_path))]) == 0
    capsys.readouterr()
    assert main(["broken"]) == cli.EXIT_INTERNAL
    assert "cannot run here: ImportError: cannot import name 'Thing'" in capsys.readouterr().err


def test_compile_prints_the_bundle_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(make_folder(tmp_path))]) == 0
    out = capsys.readouterr().out
    bundle = Bundle.from_json(out)
    assert "starter" in bundle.playbooks
    assert json.loads(out)["playbooks"]["starter"]["trigger"]["event"] == "signed"


def test_compile_with_errors_prints_nothing_on_stdout_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compile", str(make_folder(tmp_path, field="feature_adoptoin"))]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "feature_adoptoin" in captured.err


def test_the_installed_command_runs_without_a_traceback(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("playbook")
    result = subprocess.run(
        [str(command), "check", str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "no such folder" in result.stderr


def test_a_command_imports_only_its_own_module(tmp_path: Path) -> None:
    """`playbook check` does not load the engine, Temporal or the HTTP stack (they cost seconds)."""
    folder = make_folder(tmp_path)
    probe = (
        "import sys\n"
        "from cli.main import main\n"
        f"status = main(['check', {str(folder)!r}])\n"
        "heavy = [m for m in ('cli.commands.simulate', 'cli.commands.api', 'temporalio.worker',"
        " 'sqlalchemy') if m in sys.modules]\n"
        "print(status, heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "0 []", result.stderr


def test_help_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in cli.COMMANDS)


def test_a_file_that_fails_to_parse_still_counts_its_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(tmp_path)
    broken = PLAYBOOK.format(field="feature_adoption").replace('"Rescue:', '"Rescue:"" x')
    (folder / "starter.play").write_text(broken, encoding="utf-8")
    assert main(["check", str(folder)]) == 1
    match = SUMMARY.search(capsys.readouterr().err)
    assert match is not None
    assert match.groups() == ("2", str(MODEL.count("\n") + broken.count("\n")), "1 error")


def test_a_tab_in_the_indentation_is_a_warning_with_a_caret_and_fmt_removes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(tmp_path)
    play = folder / "starter.play"
    play.write_text(play.read_text(encoding="utf-8").replace("    day 30:", "\tday 30:"), encoding="utf-8")
    assert main(["check", str(folder)]) == 0
    err = capsys.readouterr().err
    assert f"{play}:7:1: warning: a tab in the indentation (read as spaces up to the next multiple of 4): " \
           "indent with spaces; 'playbook fmt' rewrites it" in err.splitlines()
    assert main(["fmt", str(folder)]) == 0
    assert "\t" not in play.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(folder)]) == 0
    assert "warning" not in capsys.readouterr().err
