"""The editor's help without the protocol: keyword meanings from the reference, named audiences,
completion on lines that do not parse, UTF-16 positions."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from cli.commands.plugins import installed_catalog
from lsp.completion import complete
from lsp.folder_model import FolderModel
from lsp.hover import hover
from lsp.keyword_docs import keyword_doc
from lsp.text_places import to_character, to_column

MODEL = """\
account fields:
    segment: one of enterprise, smb   # the customer's size
    arr: money

audience big: arr > 100k   # the accounts worth a call
"""

PLAYBOOK = """\
playbook calls:
    trigger: event signed
    audience: big
    if segment is
"""


def _model(tmp_path: Path) -> tuple[FolderModel, Path]:
    (tmp_path / "model.play").write_text(MODEL, encoding="utf-8")
    path = tmp_path / "calls.play"
    path.write_text(PLAYBOOK, encoding="utf-8")
    model = FolderModel(tmp_path)
    model.recheck()
    return model, path


def test_each_clause_and_statement_keyword_has_its_meaning_from_the_reference() -> None:
    for keyword in ("trigger", "audience", "exit", "goal", "reentry", "send", "create", "set", "do", "wait",
                    "if", "split", "seen", "every", "becomes"):
        assert keyword_doc(keyword), keyword
    assert keyword_doc("wait") == "wait — `wait 3 days`"


def test_a_named_audience_is_hovered_with_its_condition_and_doc_comment(tmp_path: Path) -> None:
    model, path = _model(tmp_path)
    text = path.read_text(encoding="utf-8")

    answer = hover(text, types.Position(2, len("    audience: b")), model.declarations)

    assert answer is not None and isinstance(answer.contents, types.MarkupContent)
    assert answer.contents.value == "**audience** `big`: audience: arr > 100k\n\nthe accounts worth a call"


def test_a_line_that_does_not_parse_still_completes_an_enumerations_values(tmp_path: Path) -> None:
    model, path = _model(tmp_path)
    assert not model.compilation.ok  # `if segment is` has no value yet: a syntax error

    text = path.read_text(encoding="utf-8").replace("segment is\n", "segment is \n")
    items = complete(text, types.Position(3, len("    if segment is ")),
                     model.declarations, template=False)

    assert [item.label for item in items] == ["enterprise", "smb"]


def test_positions_count_utf16_units_as_editors_do() -> None:
    line = 'create task "🎉 {{ account.nmae }}"'
    column = line.index("nmae")
    assert to_character(line, column) == column + 1  # the emoji is two UTF-16 units
    assert to_column(line, column + 1) == column


def test_each_recipient_after_the_first_completes_with_the_contacts(tmp_path: Path) -> None:
    contacts = "account fields:\n    primary_contact: contact\n    billing_contact: contact\n    name: text\n"
    (tmp_path / "model.play").write_text(contacts, encoding="utf-8")
    model = FolderModel(tmp_path)
    model.recheck()
    line = "    send email welcome to primary_contact, "

    items = complete(line, types.Position(0, len(line)), model.declarations, template=False)

    assert [item.label for item in items] == ["primary_contact", "billing_contact"]


def test_a_clause_that_takes_one_of_a_few_words_completes_them(tmp_path: Path) -> None:
    model, _ = _model(tmp_path)

    for line, expected in (("    priority: ", ["high", "normal", "low"]),
                           ("    send policy: ", ["standard", "transactional"]),
                           ("    over the cap: ", ["defer", "drop"])):
        items = complete(line, types.Position(0, len(line)), model.declarations, template=False)
        assert [item.label for item in items] == expected, line


def test_a_plugin_activity_is_hovered_with_each_parameters_description(tmp_path: Path) -> None:
    (tmp_path / "model.play").write_text("account fields:\n    name: text\n", encoding="utf-8")
    model = FolderModel(tmp_path, installed_catalog())
    model.recheck()
    line = '    do slack.notify text="Red: {{ account.name }}"'

    answer = hover(line, types.Position(0, line.index("notify")), model.declarations)

    assert answer is not None and isinstance(answer.contents, types.MarkupContent)
    assert "- `text` text (required): The message; a template such as" in answer.contents.value
