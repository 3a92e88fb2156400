"""`playbook check --format text|json|github|sarif` and `--output`: the same diagnostics, for
machines, at the same places, with the same exit statuses.

The SARIF log is validated against `sarif-schema-2.1.0-subset.json` beside this file: a faithful
subset of the SARIF 2.1.0 JSON schema (OASIS, errata01) covering every object `playbook` writes,
with the standard's required properties, types, minimums and enums, and objects closed as the
standard closes them. It is a subset written from the standard, not the standard's own file:
that file is not installed by any package here and tests run without a network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cli.main import main
from dsl.diagnostic_codes import ALL_RULES, code_of
from dsl.diagnostic_formats import escape_data, escape_property, github_command
from dsl.diagnostics import Diagnostic, Span

SCHEMA = Path(__file__).with_name("sarif-schema-2.1.0-subset.json")

MODEL = """\
account fields:
    name: text
    feature_adoption: percent
    csm: owner
    primary_contact: contact

events:
    signed
"""

PLAYBOOK = """\
playbook starter "Starter":
    trigger: event signed

    day 0:
\t\tsend email hello to primary_contact
    day 30:
        if feature_adoptoin < 20%:
            create task "Rescue" for csm due 48h priority high
"""

TEMPLATE = """\
{% block subject %}Hello{% endblock %}
{% block text %}Hi {{ contact.name }}.{% endblock %}
{% block html %}<p>Hi {{ contact.name }}.</p>{% endblock %}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder `playbooks` (relative to the working directory) with one error and one warning."""
    monkeypatch.chdir(tmp_path)
    playbooks = Path("playbooks")
    (playbooks / "templates").mkdir(parents=True)
    (playbooks / "model.play").write_text(MODEL, encoding="utf-8")
    (playbooks / "starter.play").write_text(PLAYBOOK, encoding="utf-8")
    (playbooks / "templates" / "hello.email.jinja").write_text(TEMPLATE, encoding="utf-8")
    return playbooks


def test_text_stays_the_default_with_the_caret_on_stderr(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(folder)]) == 1
    default = capsys.readouterr()
    assert main(["check", "--format", "text", str(folder)]) == 1
    assert capsys.readouterr() == default
    assert default.out == ""
    assert "playbooks/starter.play:7:12: unknown field 'feature_adoptoin'" in default.err
    assert default.err.endswith("checked 2 files (16 lines): 1 error, 1 warning\n")


def test_json_writes_one_object_per_diagnostic_per_line(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "json", str(folder)]) == 1
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert records == [
        {"file": "playbooks/starter.play", "line": 5, "column": 1, "end_line": 5, "end_column": 1,
         "severity": "warning", "code": "tab-indentation", "message": records[0]["message"]},
        {"file": "playbooks/starter.play", "line": 7, "column": 12, "end_line": 7, "end_column": 27,
         "severity": "error", "code": "unknown-name",
         "message": "unknown field 'feature_adoptoin' (did you mean 'feature_adoption'?)",
         "suggestion": "feature_adoption"},
    ]
    assert records[0]["message"].startswith("a tab in the indentation")
    assert captured.err == "checked 2 files (16 lines): 1 error, 1 warning\n"


def test_github_writes_workflow_commands_at_file_line_and_column(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--format", "github", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        "::warning file=playbooks/starter.play,line=5,col=1,endLine=5,endColumn=1,title=tab-indentation::"
        "a tab in the indentation"
    )
    assert lines[1] == (
        "::error file=playbooks/starter.play,line=7,col=12,endLine=7,endColumn=27,title=unknown-name::"
        "unknown field 'feature_adoptoin' (did you mean 'feature_adoption'?)"
    )


def test_github_escapes_the_message_and_the_properties_as_github_reads_them() -> None:
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    odd = Diagnostic(Span("dir:one,two/x.play", 3, 4, 2), "50% off\nsecond line: here, too", "warning")
    assert github_command(odd) == (
        "::warning file=dir%3Aone%2Ctwo/x.play,line=3,col=4,endLine=3,endColumn=5,title=other-warning::"
        "50%25 off%0Asecond line: here, too"
    )


def sarif(folder: Path, capsys: pytest.CaptureFixture[str], output: Path) -> dict[str, Any]:
    assert main(["check", "--format", "sarif", "--output", str(output), str(folder)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "checked 2 files (16 lines): 1 error, 1 warning\n"
    log: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return log


def test_sarif_is_valid_sarif_2_1_0(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = sarif(folder, capsys, Path("check.sarif"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)
    assert log["version"] == "2.1.0"


def test_sarif_places_each_result_relative_to_the_checked_folder(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (run,) = sarif(folder, capsys, Path("check.sarif"))["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "playbook"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == [rule.code for rule in ALL_RULES]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == folder.resolve().as_uri() + "/"
    warning, error = run["results"]
    assert (warning["ruleId"], warning["level"]) == ("tab-indentation", "warning")
    assert (error["ruleId"], error["level"]) == ("unknown-name", "error")
    assert rule_ids[error["ruleIndex"]] == "unknown-name"
    assert error["message"]["text"] == "unknown field 'feature_adoptoin' (did you mean 'feature_adoption'?)"
    (location,) = error["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "starter.play", "uriBaseId": "SRCROOT"},
        "region": {"startLine": 7, "startColumn": 12, "endLine": 7, "endColumn": 28},
    }


def test_sarif_places_results_relative_to_another_root_when_asked(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--format", "sarif", "--relative-to", ".", str(folder)]) == 1
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == Path.cwd().resolve().as_uri() + "/"
    locations = [result["locations"][0]["physicalLocation"]["artifactLocation"] for result in run["results"]]
    assert locations == [{"uri": "playbooks/starter.play", "uriBaseId": "SRCROOT"}] * 2


def test_relative_to_goes_only_with_sarif(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "json", "--relative-to", ".", str(folder)]) == 2
    assert "--relative-to places the files of a SARIF report" in capsys.readouterr().err


def test_a_clean_folder_gives_an_empty_report_and_exit_0(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "starter.play").write_text(
        PLAYBOOK.replace("feature_adoptoin", "feature_adoption").replace("\t\t", "        "), encoding="utf-8"
    )
    assert main(["check", "--format", "github", str(folder)]) == 0
    assert capsys.readouterr().out == ""
    (run,) = sarif_clean(folder, capsys)["runs"]
    assert run["results"] == []


def sarif_clean(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["check", "--format", "sarif", str(folder)]) == 0
    log: dict[str, Any] = json.loads(capsys.readouterr().out)
    return log


def test_output_writes_the_report_to_a_file(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "json", "--output", "report.jsonl", str(folder)]) == 1
    assert capsys.readouterr().out == ""
    assert len(Path("report.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_an_output_that_cannot_be_written_is_a_usage_error(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--format", "sarif", "--output", "nowhere/check.sarif", str(folder)]) == 2
    assert capsys.readouterr().err.startswith("playbook: cannot write nowhere/check.sarif")


def test_an_unknown_format_is_a_usage_error(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "xml", str(folder)]) == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_every_diagnostic_gets_a_code_of_a_known_rule() -> None:
    codes = {rule.code for rule in ALL_RULES}
    assert len(codes) == len(ALL_RULES)
    samples = {
        "unexpected ':': expected a statement": "syntax",
        "unknown weekday 'mondy'": "unknown-name",
        "step 'a' is written twice (first at line 3)": "duplicate",
        "missing parameter 'channel' for slack": "parameter",
        "'wait 0 days' waits for nothing": "never-happens",
        "split shares 50% / 40% add up to 90%, not 100%": "out-of-range",
        "cannot compare number with text": "wrong-type",
        "day 7 can only run on day 14 or later, after 'wait 14 days' on line 3": "step-order",
        "template syntax error: unexpected end of template": "syntax",
        "something new": "other-error",
    }
    for message, code in samples.items():
        assert code_of(Diagnostic(Span("x.play", 1, 1), message, code=code)) == code, message
        assert code_of(Diagnostic(Span("x.play", 1, 1), message)) == "other-error", message
