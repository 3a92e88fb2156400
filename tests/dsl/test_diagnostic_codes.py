"""Diagnostic codes are data: each diagnostic is given its code where the checker creates it.

The corpus is every playbook text written in the checker's tests (`test_checker*.py`,
`test_parse_errors.py`), checked alone and beside the checker tests' model: every diagnostic
it gives has a code from the table. The code and the suggestion are never read back from the
message, so a message reworded (or one that reads like another kind) keeps its code.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsl.diagnostic_codes import ALL_RULES, CODES, code_of, rule_of
from dsl.diagnostics import Diagnostic, Span
from dsl.project import compile_files, compile_folder, compile_text
from tests.dsl.test_checker import MODEL, TEMPLATES

HERE = Path(__file__).parent
CORPUS_FILES = sorted([*HERE.glob("test_checker*.py"), HERE / "test_parse_errors.py"])


def playbook_texts() -> Iterator[str]:
    """Every string constant of the corpus files that reads as a source file of the language."""
    for file in CORPUS_FILES:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value:
                text = textwrap.dedent(node.value)
                if text.lstrip().startswith(("playbook ", "account fields", "events", "score ", "metric ",
                                             "policies", "limits")):
                    yield text


def corpus_diagnostics() -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for text in playbook_texts():
        found.extend(compile_text(text, "test.play").diagnostics)
        found.extend(compile_files({"model.play": MODEL, "test.play": text}, dict(TEMPLATES)).diagnostics)
    return found


@pytest.fixture(scope="module")
def diagnostics() -> list[Diagnostic]:
    return corpus_diagnostics()


def test_the_corpus_is_the_checker_tests_playbooks(diagnostics: list[Diagnostic]) -> None:
    assert len(list(playbook_texts())) > 50
    assert len(diagnostics) > 100


def test_every_diagnostic_of_the_corpus_has_a_code_from_the_table(diagnostics: list[Diagnostic]) -> None:
    unknown = [(d.code, d.message) for d in diagnostics if d.code not in CODES]
    assert unknown == []
    assert all(code_of(d) == d.code for d in diagnostics)


def test_the_corpus_gives_the_kinds_of_the_language(diagnostics: list[Diagnostic]) -> None:
    seen = {d.code for d in diagnostics}
    kinds = {"syntax", "unknown-name", "duplicate", "wrong-type", "never-happens", "step-order", "out-of-range",
             "playbook-structure"}
    assert kinds <= seen, kinds - seen


def test_a_misspelt_name_carries_its_suggestion_as_data(diagnostics: list[Diagnostic]) -> None:
    suggested = [d for d in diagnostics if d.suggestion is not None]
    assert suggested
    for diagnostic in suggested:
        assert f"(did you mean '{diagnostic.suggestion}'?)" in diagnostic.message
        assert diagnostic.code in {"unknown-name", "wrong-type", "syntax"}


def test_the_code_is_the_one_given_not_one_read_from_the_message() -> None:
    place = Span("x.play", 1, 1)
    reads_as_unknown_name = "unknown field 'x' (did you mean 'y'?)"
    diagnostic = Diagnostic(place, reads_as_unknown_name, code="duplicate")
    assert code_of(diagnostic) == "duplicate"
    assert rule_of(diagnostic).code == "duplicate"
    assert diagnostic.suggestion is None
    assert code_of(Diagnostic(place, "unexpected ':': expected a statement")) == "other-error"
    assert code_of(Diagnostic(place, "a tab in the indentation", "warning")) == "other-warning"
    assert code_of(Diagnostic(place, "something", code="no-such-code")) == "other-error"


def test_rewording_a_message_keeps_its_code() -> None:
    first = compile_text("playbook p:\n    trigger: event signd\n    log \"x\"\n", "test.play").diagnostics
    codes = {d.message: d.code for d in first}
    assert "unknown-name" in codes.values()
    reworded = [Diagnostic(d.span, "a reworded message", d.severity, code=d.code) for d in first]
    assert [code_of(d) for d in reworded] == [code_of(d) for d in first]


def test_every_code_of_the_table_is_listed_once() -> None:
    assert len(CODES) == len(ALL_RULES)
    assert all(rule.description for rule in ALL_RULES)


def test_template_files_get_their_codes(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "bad.email.jinja").write_text("{% block subject %}{{ acount.name }}{% endblock %}",
                                               encoding="utf-8")
    (templates / "odd.jinja").write_text("hello", encoding="utf-8")
    (tmp_path / "model.play").write_text("account fields:\n    name: text\n", encoding="utf-8")
    codes = {d.message.split(":")[0].split(" (")[0]: d.code for d in compile_folder(tmp_path).diagnostics}
    assert codes["unknown variable 'acount'"] == "unknown-name"
    assert codes["email template 'bad' has no block 'text'; it needs blocks subject, text, html"] == "template"
    assert codes["template file 'odd.jinja' must be named NAME.email.jinja or NAME.in_app.jinja"] == "unreadable-file"


def test_a_template_written_inline_in_a_playbook_gets_the_template_code_too() -> None:
    play = textwrap.dedent("""\
        playbook onboarding "Onboarding":
            trigger: event signed

            create task "Call {% include 'welcome' %}" for csm
        """)
    found = compile_files({"model.play": MODEL, "test.play": play}, dict(TEMPLATES)).diagnostics
    inline = [d for d in found if d.span.path == "test.play"]
    assert inline, found
    assert {d.code for d in inline} == {"template"}
