"""Templates: loading `templates/*.jinja`, and the messages for what is wrong in them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from dsl import ir
from dsl.diagnostics import Diagnostic, render_all
from dsl.templates import check_template_references, check_template_text, load_templates

FIELDS = {
    "name": ir.FieldType(type="text"),
    "segment": ir.FieldType(type="enum", values=("smb", "enterprise")),
    "csm": ir.FieldType(type="owner"),
    "primary_contact": ir.FieldType(type="contact"),
}

GOOD_EMAIL = """\
{% block subject %}Welcome, {{ contact.name }}{% endblock %}
{% block text %}Hi {{ contact.name }} of {{ account.name }}. Unsubscribe: {{ unsubscribe_url }}{% endblock %}
{% block html %}<p>Hi {{ contact.name }}</p>{% endblock %}
"""


def write(folder: Path, name: str, source: str) -> Path:
    directory = folder / "templates"
    directory.mkdir(exist_ok=True)
    file = directory / name
    file.write_text(textwrap.dedent(source), encoding="utf-8")
    return file


def rendered(diagnostics: list[Diagnostic], folder: Path) -> str:
    return render_all(diagnostics).replace(str(folder) + "/", "")


def references(folder: Path) -> list[Diagnostic]:
    templates, problems = load_templates(folder)
    assert problems == []
    return check_template_references(templates, FIELDS, ["health"], ["weekly_logins"])


def test_email_template_loads_with_every_part_holding_the_whole_file(tmp_path: Path) -> None:
    file = write(tmp_path, "welcome.email.jinja", GOOD_EMAIL)
    templates, problems = load_templates(tmp_path)
    assert problems == []
    welcome = templates["welcome"]
    assert welcome.channel == "email"
    assert welcome.subject == welcome.text == welcome.html == ir.TemplateText(source=GOOD_EMAIL, path=str(file))


def test_in_app_template_without_html_has_no_html_part(tmp_path: Path) -> None:
    write(tmp_path, "tour.in_app.jinja", "{% block subject %}Tour{% endblock %}{% block text %}Go{% endblock %}")
    templates, problems = load_templates(tmp_path)
    assert problems == []
    assert templates["tour"].channel == "in_app"
    assert templates["tour"].html is None


def test_documented_rendering_recipe_renders_each_block(tmp_path: Path) -> None:
    write(tmp_path, "welcome.email.jinja", GOOD_EMAIL)
    welcome = load_templates(tmp_path)[0]["welcome"]
    context = {"contact": {"name": "Ana"}, "account": {"name": "TechCorp"}, "unsubscribe_url": "u"}
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    template = env.from_string(welcome.subject.source)
    assert "".join(template.blocks["subject"](template.new_context(context))) == "Welcome, Ana"
    assert "".join(template.blocks["text"](template.new_context(context))) == "Hi Ana of TechCorp. Unsubscribe: u"


def test_unknown_account_field_suggests_nearest_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        "welcome.email.jinja",
        """\
        {% block subject %}Welcome{% endblock %}
        {% block text %}
        Hi {{ account.nmae }},
        {% endblock %}
        {% block html %}<p>Hi</p>{% endblock %}
        """,
    )
    assert rendered(references(tmp_path), tmp_path) == textwrap.dedent(
        """\
        templates/welcome.email.jinja:3:15: unknown field 'nmae' in account (did you mean 'name'?)
            Hi {{ account.nmae }},
                          ^^^^"""
    )


def test_owner_paths_and_unknown_variables_are_reported_each_at_its_place(tmp_path: Path) -> None:
    write(
        tmp_path,
        "note.in_app.jinja",
        """\
        {% block subject %}{{ acount.name }} {{ account.csm.mangaer.email }}{% endblock %}
        {% block text %}{{ metrics.weekly_login }} {{ health.scor }} {{ account.nmae }} {{ account.nmae }}
        {% endblock %}
        """,
    )
    assert rendered(references(tmp_path), tmp_path) == textwrap.dedent(
        """\
        templates/note.in_app.jinja:1:23: unknown variable 'acount' (did you mean 'account'?)
            {% block subject %}{{ acount.name }} {{ account.csm.mangaer.email }}{% endblock %}
                                  ^^^^^^
        templates/note.in_app.jinja:1:53: unknown field 'mangaer' in account.csm (did you mean 'manager'?)
            {% block subject %}{{ acount.name }} {{ account.csm.mangaer.email }}{% endblock %}
                                                                ^^^^^^^
        templates/note.in_app.jinja:2:28: unknown metric 'weekly_login' (did you mean 'weekly_logins'?)
            {% block text %}{{ metrics.weekly_login }} {{ health.scor }} {{ account.nmae }} {{ account.nmae }}
                                       ^^^^^^^^^^^^
        templates/note.in_app.jinja:2:54: unknown field 'scor' in health (did you mean 'score'?)
            {% block text %}{{ metrics.weekly_login }} {{ health.scor }} {{ account.nmae }} {{ account.nmae }}
                                                                 ^^^^
        templates/note.in_app.jinja:2:73: unknown field 'nmae' in account (did you mean 'name'?)
            {% block text %}{{ metrics.weekly_login }} {{ health.scor }} {{ account.nmae }} {{ account.nmae }}
                                                                                    ^^^^
        templates/note.in_app.jinja:2:92: unknown field 'nmae' in account (did you mean 'name'?)
            {% block text %}{{ metrics.weekly_login }} {{ health.scor }} {{ account.nmae }} {{ account.nmae }}
                                                                                                       ^^^^"""
    )


def test_loop_variables_set_names_macro_arguments_and_context_paths_are_accepted(tmp_path: Path) -> None:
    write(
        tmp_path,
        "review.email.jinja",
        """\
        {% macro line(label, value) %}{{ label }}: {{ value }}{% endmacro %}
        {% set greeting = "Hi" %}
        {% block subject %}{{ greeting }} {{ contact.name | default("there", true) }}{% endblock %}
        {% block text %}
        {% for c in health.components %}{{ line(c.name, c.points) }}/{{ c.max }} {{ loop.index }}{% endfor %}
        {{ account.csm.manager.manager.email }} {{ account.primary_contact.email }} {{ account["segment"] }}
        {{ metrics.weekly_logins }} {{ health.band }} {{ playbook.title }} {{ event.name }} {{ event.data.x }}
        {{ account.id }} {{ account.name.upper() }} {% if health.score is defined %}{{ health.score }}{% endif %}
        {% endblock %}
        {% block html %}<p>{{ unsubscribe_url }}</p>{% endblock %}
        """,
    )
    assert references(tmp_path) == []


def test_syntax_error_is_reported_at_the_template_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tour.in_app.jinja",
        """\
        {% block subject %}Hi{% endblock %}
        {% block text %}{% if x %}Hi{% endblok %}
        """,
    )
    templates, problems = load_templates(tmp_path)
    assert "tour" in templates
    assert rendered(problems, tmp_path) == textwrap.dedent(
        """\
        templates/tour.in_app.jinja:2:32: template syntax error: Encountered unknown tag 'endblok'. \
Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. \
The innermost block that needs to be closed is 'if'
            {% block text %}{% if x %}Hi{% endblok %}
                                           ^^^^^^^"""
    )


def test_missing_and_misspelled_blocks_are_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        "welcome.email.jinja",
        """\
        {% block subject %}Hi{% endblock %}
        {% block text %}Hi{% endblock %}
        {% block htm %}<p>Hi</p>{% endblock %}
        """,
    )
    assert rendered(load_templates(tmp_path)[1], tmp_path) == textwrap.dedent(
        """\
        templates/welcome.email.jinja:1:1: email template 'welcome' has no block 'html'; \
it needs blocks subject, text, html
            {% block subject %}Hi{% endblock %}
            ^
        templates/welcome.email.jinja:3:10: unknown block 'htm' (did you mean 'html'?); \
it needs blocks subject, text, html
            {% block htm %}<p>Hi</p>{% endblock %}
                     ^^^"""
    )


def test_in_app_template_without_text_block_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "tour.in_app.jinja", "{% block subject %}Tour{% endblock %}\n")
    assert [d.headline() for d in load_templates(tmp_path)[1]] == [
        f"{tmp_path}/templates/tour.in_app.jinja:1:1: in-app template 'tour' has no block 'text'; "
        "it needs blocks subject, text (and optionally html)"
    ]


def test_badly_named_and_duplicate_template_files_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "welcome.sms.jinja", "x")
    write(tmp_path, "welcome.email.jinja", GOOD_EMAIL)
    write(tmp_path, "welcome.in_app.jinja", GOOD_EMAIL)
    write(tmp_path, "2fast.email.jinja", GOOD_EMAIL)
    write(tmp_path, "notes.txt", "not a template")
    templates, problems = load_templates(tmp_path)
    assert list(templates) == ["welcome"]
    assert [d.headline().replace(f"{tmp_path}/", "") for d in problems] == [
        "templates/2fast.email.jinja:1:1: template name '2fast' must be a name "
        "(letters, digits and _, not starting with a digit)",
        "templates/welcome.in_app.jinja:1:1: template 'welcome' is defined twice "
        "(also in templates/welcome.email.jinja)",
        "templates/welcome.sms.jinja:1:1: template file 'welcome.sms.jinja' must be named "
        "NAME.email.jinja or NAME.in_app.jinja",
    ]


def test_template_cannot_include_another_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tour.in_app.jinja",
        """\
        {% block subject %}Tour{% endblock %}
        {% block text %}{% include "footer.jinja" %}{% endblock %}
        """,
    )
    assert rendered(references(tmp_path), tmp_path) == textwrap.dedent(
        """\
        templates/tour.in_app.jinja:2:20: a template cannot load other templates ('include' is not supported)
            {% block text %}{% include "footer.jinja" %}{% endblock %}
                               ^^^^^^^"""
    )


def test_folder_without_templates_directory_has_no_templates(tmp_path: Path) -> None:
    assert load_templates(tmp_path) == ({}, [])


def test_inline_text_error_is_placed_in_the_play_file() -> None:
    play_line = '        create task "Outreach: {{ account.nmae }}" for csm'
    column = play_line.index('"') + 2
    problems = check_template_text(
        "Outreach: {{ account.nmae }}", "playbooks/red.play", 12, column, FIELDS, ["health"], []
    )
    assert [d.headline() for d in problems] == [
        "playbooks/red.play:12:43: unknown field 'nmae' in account (did you mean 'name'?)"
    ]
    assert problems[0].render("\n" * 11 + play_line).splitlines()[-1] == " " * 46 + "^^^^"


def test_inline_text_has_no_recipient_but_knows_the_event_payload() -> None:
    payload = {"score": ir.FieldType(type="number")}
    problems = check_template_text(
        "{{ contact.name }} {{ event.data.scroe }} {{ event.data.score }}",
        "a.play",
        1,
        1,
        FIELDS,
        [],
        [],
        event_payload=payload,
    )
    assert [d.headline() for d in problems] == [
        "a.play:1:4: unknown variable 'contact'",
        "a.play:1:34: unknown field 'scroe' in event.data (did you mean 'score'?)",
    ]


def test_inline_syntax_error_is_placed_in_the_play_file() -> None:
    problems = check_template_text("Hi {{ account.name", "a.play", 3, 20, FIELDS, [], [])
    assert len(problems) == 1
    assert problems[0].span.line == 3
    assert problems[0].message.startswith("template syntax error: unexpected end of template")


@pytest.mark.parametrize("text", ["plain title", "Outreach: {{ account.name }}", "{{ account.csm.email }}"])
def test_inline_text_without_mistakes_reports_nothing(text: str) -> None:
    assert check_template_text(text, "a.play", 1, 1, FIELDS, ["health"], []) == []


def test_standard_templates_check_clean_against_a_full_model() -> None:
    folder = Path(__file__).resolve().parents[2] / "playbooks"
    if not (folder / "templates").is_dir():
        pytest.skip("no standard templates")
    templates, problems = load_templates(folder)
    assert problems == []
    fields = dict(FIELDS) | {"arr": ir.FieldType(type="money"), "renewal_date": ir.FieldType(type="date")}
    # Standard templates read only names a full model has; a name this small model lacks is fine here.
    unknown = [
        d
        for d in check_template_references(templates, fields, ["health"], ["weekly_logins"])
        if "unknown variable" in d.message
    ]
    assert unknown == []


def test_a_text_given_for_a_template_file_is_read_instead_of_the_disk(tmp_path: Path) -> None:
    path = write(tmp_path, "welcome.email.jinja", GOOD_EMAIL)
    unsaved = GOOD_EMAIL.replace("{% block text %}", "{% block txet %}")

    templates, problems = load_templates(tmp_path, {str(path): unsaved})

    assert templates["welcome"].text.source == unsaved
    assert [d.message.split(";")[0] for d in problems] == [
        "unknown block 'txet' (did you mean 'text'?)", "email template 'welcome' has no block 'text'"]
