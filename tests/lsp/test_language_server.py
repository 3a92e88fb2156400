"""`playbook lsp` over stdio, as an editor uses it: the checker's diagnostics as one types, hover,
completion, go-to-definition, formatting and the quick fix of a "did you mean"."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from dsl.project import compile_folder
from tests.lsp.conftest import EditorSession

pytestmark = pytest.mark.asyncio(loop_scope="session")

ONBOARDING = "playbooks/onboarding.play"


async def test_a_typo_typed_in_a_playbook_is_reported_at_its_range_with_the_checkers_message(
    editor: EditorSession, folder: Path
) -> None:
    editor.open(ONBOARDING)
    assert await editor.diagnostics(ONBOARDING, 1) == []
    place = editor.position(ONBOARDING, "feature_adoption < 20%")
    version = editor.replace(ONBOARDING, place.line, place.character + 12, place.character + 14, "it")

    diagnostics = await editor.diagnostics(ONBOARDING, version)

    (found,) = diagnostics
    assert found.message == "unknown field 'feature_adopiton' (did you mean 'feature_adoption'?)"
    assert found.range == types.Range(place, types.Position(place.line, place.character + len("feature_adoption")))
    assert found.severity == types.DiagnosticSeverity.Error
    assert found.code == "unknown-name"
    # the same problem, at the same place, as `playbook check` reports once the file is saved
    text = (folder / ONBOARDING).read_text(encoding="utf-8").replace("feature_adoption < 20%", "feature_adopiton < 20%")
    (folder / ONBOARDING).write_text(text, encoding="utf-8")
    (checked,) = compile_folder(folder / "playbooks").diagnostics
    assert (checked.message, checked.span.line - 1, checked.span.column - 1) == (
        found.message, found.range.start.line, found.range.start.character)


async def test_a_change_to_the_model_reports_the_playbooks_it_breaks(editor: EditorSession) -> None:
    editor.open("playbooks/model.play")
    await editor.diagnostics("playbooks/model.play", 1)
    place = editor.position("playbooks/model.play", "feature_adoption: percent")
    editor.replace("playbooks/model.play", place.line, place.character, place.character + len("feature_adoption"),
                   "adoption")

    diagnostics = await editor.diagnostics(ONBOARDING)

    assert any(d.message.startswith("unknown field 'feature_adoption'") for d in diagnostics)


async def test_a_syntax_error_is_reported_as_check_reports_it(editor: EditorSession) -> None:
    editor.open(ONBOARDING)
    await editor.diagnostics(ONBOARDING, 1)
    place = editor.position(ONBOARDING, "day 7:")
    version = editor.replace(ONBOARDING, place.line, place.character + 5, place.character + 6, "")

    (found,) = await editor.diagnostics(ONBOARDING, version)

    assert found.code == "syntax"
    assert found.range.start.line == place.line


async def test_hover_shows_a_fields_type_and_doc_comment(editor: EditorSession) -> None:
    uri = editor.open(ONBOARDING)
    await editor.diagnostics(ONBOARDING, 1)
    place = editor.position(ONBOARDING, "feature_adoption < 20%", 3)

    answer = await editor.client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), place))

    assert answer is not None and isinstance(answer.contents, types.MarkupContent)
    assert answer.contents.value == (
        "**field** `feature_adoption`: percent\n\nshare of core features in regular use")


async def test_hover_shows_an_events_payload_and_a_keywords_meaning(editor: EditorSession) -> None:
    uri = editor.open("playbooks/advocacy.play")
    await editor.diagnostics("playbooks/advocacy.play", 1)
    document = types.TextDocumentIdentifier(uri)
    event = editor.position("playbooks/advocacy.play", "event nps_response", len("event "))
    keyword = editor.position("playbooks/advocacy.play", "trigger:")

    on_event = await editor.client.text_document_hover_async(types.HoverParams(document, event))
    on_keyword = await editor.client.text_document_hover_async(types.HoverParams(document, keyword))

    assert on_event is not None and isinstance(on_event.contents, types.MarkupContent)
    assert on_event.contents.value == "**event** `nps_response`: payload: score number, comment text"
    assert on_keyword is not None and isinstance(on_keyword.contents, types.MarkupContent)
    assert on_keyword.contents.value.startswith("**keyword** `trigger`\n\nan event — `trigger: event signed`")


async def _labels(editor: EditorSession, uri: str, position: types.Position) -> list[str]:
    answer = await editor.client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), position))
    assert isinstance(answer, types.CompletionList)
    return [item.label for item in answer.items]


async def test_completion_offers_what_the_context_takes(editor: EditorSession) -> None:
    uri = editor.open(ONBOARDING)
    await editor.diagnostics(ONBOARDING, 1)
    after_send = editor.position(ONBOARDING, "send email welcome", len("send email "))
    after_to = editor.position(ONBOARDING, "to primary_contact", len("to "))
    after_for = editor.position(ONBOARDING, "for csm due", len("for "))
    after_priority = editor.position(ONBOARDING, "priority high", len("priority "))
    after_event = editor.position(ONBOARDING, "event churned", len("event "))

    templates = await _labels(editor, uri, after_send)
    contacts = await _labels(editor, uri, after_to)
    owners = await _labels(editor, uri, after_for)
    priorities = await _labels(editor, uri, after_priority)
    events = await _labels(editor, uri, after_event)

    assert "welcome" in templates and "core_workflows_tutorial" not in templates  # an in-app template
    assert contacts == ["primary_contact"]
    assert owners == ["csm", "csm.manager"]
    assert priorities == ["low", "normal", "high", "urgent"]
    assert {"signed", "churned", "nps_response", "task_completed"} <= set(events)


async def test_completion_on_a_half_written_line_offers_bands_and_plugin_parameters(editor: EditorSession) -> None:
    uri = editor.open(ONBOARDING)
    await editor.diagnostics(ONBOARDING, 1)
    last = len((editor.root / ONBOARDING).read_text(encoding="utf-8").splitlines())
    typed = '    day 31:\n        if health is \n        do hubspot.create_task subject="x" '
    version = editor.replace(ONBOARDING, last, 0, 0, typed)
    await editor.diagnostics(ONBOARDING, version)

    bands = await _labels(editor, uri, types.Position(last + 1, len("        if health is ")))
    params = await _labels(editor, uri, types.Position(last + 2, len('        do hubspot.create_task subject="x" ')))

    assert bands == ["green", "yellow", "red"]
    assert "subject=" not in params and "due_days=" in params


async def test_definition_goes_to_the_model_and_to_the_template_file(editor: EditorSession, folder: Path) -> None:
    uri = editor.open(ONBOARDING)
    await editor.diagnostics(ONBOARDING, 1)
    document = types.TextDocumentIdentifier(uri)
    field = editor.position(ONBOARDING, "feature_adoption < 20%", 2)
    template = editor.position(ONBOARDING, "send email welcome", len("send email w"))

    to_field = await editor.client.text_document_definition_async(types.DefinitionParams(document, field))
    to_template = await editor.client.text_document_definition_async(types.DefinitionParams(document, template))

    assert isinstance(to_field, types.Location) and isinstance(to_template, types.Location)
    model = editor.position("playbooks/model.play", "feature_adoption: percent")
    assert to_field.uri == (folder / "playbooks/model.play").resolve().as_uri()
    assert to_field.range.start == model
    assert to_template.uri == (folder / "playbooks/templates/welcome.email.jinja").resolve().as_uri()


async def test_formatting_returns_the_canonical_layout(editor: EditorSession) -> None:
    uri = editor.open(ONBOARDING)
    await editor.diagnostics(ONBOARDING, 1)
    place = editor.position(ONBOARDING, "exit: event churned")
    version = editor.replace(ONBOARDING, place.line, place.character + len("exit:"), place.character + len("exit: "),
                             "      ")
    await editor.diagnostics(ONBOARDING, version)

    edits = await editor.client.text_document_formatting_async(types.DocumentFormattingParams(
        types.TextDocumentIdentifier(uri), types.FormattingOptions(tab_size=4, insert_spaces=True)))

    assert edits is not None
    (edit,) = edits
    assert edit.new_text == (editor.root / ONBOARDING).read_text(encoding="utf-8")
    lines = edit.new_text.split("\n")  # the document typed has the same lines: the edit spans all of it
    assert edit.range == types.Range(types.Position(0, 0), types.Position(len(lines) - 1, len(lines[-1])))


async def test_the_quick_fix_of_a_did_you_mean_writes_the_name_proposed(editor: EditorSession) -> None:
    uri = editor.open(ONBOARDING)
    await editor.diagnostics(ONBOARDING, 1)
    place = editor.position(ONBOARDING, "event churned", len("event "))
    version = editor.replace(ONBOARDING, place.line, place.character, place.character + 7, "chruned")
    (diagnostic,) = await editor.diagnostics(ONBOARDING, version)

    actions = await editor.client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), diagnostic.range, types.CodeActionContext(diagnostics=[diagnostic])))

    assert actions is not None
    (action,) = actions
    assert isinstance(action, types.CodeAction) and action.edit is not None and action.edit.changes is not None
    assert action.title == "Change to 'churned'"
    assert list(action.edit.changes[uri]) == [types.TextEdit(diagnostic.range, "churned")]


async def test_a_template_typo_is_reported_in_the_template(editor: EditorSession) -> None:
    template = "playbooks/templates/welcome.email.jinja"
    editor.open(template)
    await editor.diagnostics(template, 1)
    place = editor.position(template, "account.name", len("account."))
    version = editor.replace(template, place.line, place.character, place.character + 4, "nmae")

    diagnostics = await editor.diagnostics(template, version)

    assert [d.message for d in diagnostics] == ["unknown field 'nmae' in account (did you mean 'name'?)"]
    assert diagnostics[0].range.start == place



async def test_definition_goes_from_a_score_and_its_band_to_the_score_model(
    editor: EditorSession, folder: Path
) -> None:
    bands = "playbooks/health_bands.play"
    uri = editor.open(bands)
    await editor.diagnostics(bands, 1)
    document = types.TextDocumentIdentifier(uri)
    score = editor.position(bands, "health becomes red", 1)
    band = editor.position(bands, "health becomes red", len("health becomes r"))

    to_score = await editor.client.text_document_definition_async(types.DefinitionParams(document, score))
    to_band = await editor.client.text_document_definition_async(types.DefinitionParams(document, band))

    model = (folder / "playbooks/health.play").resolve().as_uri()
    assert isinstance(to_score, types.Location) and isinstance(to_band, types.Location)
    assert (to_score.uri, to_score.range.start) == (model, editor.position("playbooks/health.play", "health \""))
    assert (to_band.uri, to_band.range.start) == (model, editor.position("playbooks/health.play", "red: 0 to 49"))


async def test_hover_on_a_template_name_names_its_file(editor: EditorSession, folder: Path) -> None:
    uri = editor.open(ONBOARDING)
    await editor.diagnostics(ONBOARDING, 1)
    place = editor.position(ONBOARDING, "send email welcome", len("send email "))

    answer = await editor.client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), place))

    assert answer is not None and isinstance(answer.contents, types.MarkupContent)
    path = folder / "playbooks/templates/welcome.email.jinja"
    assert answer.contents.value == f"**template** `welcome`: email template\n\n{path}"


async def test_completion_in_a_template_offers_the_account_fields(editor: EditorSession) -> None:
    template = "playbooks/templates/welcome.email.jinja"
    uri = editor.open(template)
    await editor.diagnostics(template, 1)
    place = editor.position(template, "account.name", len("account."))

    fields = await _labels(editor, uri, place)

    assert {"id", "name", "arr", "csm", "renewal_date"} <= set(fields)


async def test_a_document_too_long_to_check_as_one_types_says_so(editor: EditorSession) -> None:
    huge = "playbooks/huge.play"
    (editor.root / huge).write_text("# padding\n" * 210_000, encoding="utf-8")
    editor.open(huge)

    (found,) = await editor.diagnostics(huge)

    assert found.code == "too-long"
    assert found.message.startswith("this file is too long to check as you type (2,100,000 characters")
