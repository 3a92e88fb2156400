"""Email and in-app templates: loading them from a folder, and checking what they read.

Files
    Templates live in `<folder>/templates/`, one Jinja2 file each: `NAME.email.jinja` is an
    email and `NAME.in_app.jinja` an in-app message; `NAME` is what a playbook writes after
    `send email` / `send in_app`. A file holds blocks:

        {% block subject %}Welcome to Acme, {{ contact.name }}{% endblock %}
        {% block text %}Hi {{ contact.name }}, ...{% endblock %}
        {% block html %}<p>Hi {{ contact.name }}, ...</p>{% endblock %}

    `subject` and `text` are required; `html` is required for an email and optional for an
    in-app message (an in-app `subject` is the message's title). Other top-level content
    (`{% set %}`, `{% macro %}`) is shared by the blocks. A template cannot load another one
    (`extends`, `include`, `import`).

How the engine renders a part
    Each `TemplateText` of an `ir.Template` (`subject`, `text`, `html`) holds the WHOLE file as
    `source`; the attribute it sits in names the block to render::

        env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)   # subject, text
        html_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)  # html
        template = env.from_string(part.source)
        body = "".join(template.blocks["subject"](template.new_context(context)))

    Strip the subject and reject it if it still holds a line break. A task title or a `do`
    parameter written as text in a `.play` file is a plain template source: render it with
    `env.from_string(text).render(context)`.

Context
    The variables are described in `dsl/template_context.py`: `account` (every model field plus
    `id`; owners with `name`, `email`, `manager`; contacts with `name`, `email`), `contact` (the
    recipient: `name`, `email`), one variable per score model (`score`, `band`, `components`: a
    list of objects with `name`, `points`, `max`), `metrics` (name to number), `playbook` (`id`,
    `title`), `unsubscribe_url`, `event` (`name`, `data`). Task titles and `do` parameters have
    the same variables except `contact` and `unsubscribe_url`.

Checks
    `load_templates` reports what a file shows by itself: a bad name, a syntax error (at the
    template's own `file:line:col`), a missing or unknown block. `check_template_references`
    (called by the checker, which knows the account model) reports every variable the context
    does not have: `unknown field 'nmae' in account (did you mean 'name'?)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from jinja2 import TemplateSyntaxError, nodes

from dsl import ir
from dsl.diagnostics import Diagnostic, Span
from dsl.name_suggestions import with_nearest
from dsl.template_context import Shape, template_context
from dsl.template_references import JinjaSource, parse_jinja

__all__ = ["InlineTemplates", "check_template_references", "check_template_text", "load_templates"]

Channel = Literal["email", "in_app"]

_SUFFIXES: dict[str, Channel] = {".email.jinja": "email", ".in_app.jinja": "in_app"}
_REQUIRED_BLOCKS: dict[Channel, tuple[str, ...]] = {
    "email": ("subject", "text", "html"),
    "in_app": ("subject", "text"),
}
_KNOWN_BLOCKS = ("subject", "text", "html")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def load_templates(
    folder: Path, texts: Mapping[str, str] | None = None
) -> tuple[dict[str, ir.Template], list[Diagnostic]]:
    """Every template under `folder/templates/`, with the problems each file shows by itself.

    A template with problems is still returned (so that a playbook naming it is not reported
    as naming an unknown template); the diagnostics stop it from being deployed. `texts` gives
    the text of some files by path (`str(file)`), read instead of the disk: an editor's unsaved text.
    """
    templates: dict[str, ir.Template] = {}
    files: dict[str, str] = {}
    diagnostics: list[Diagnostic] = []
    directory = folder / "templates"
    if not directory.is_dir():
        return templates, diagnostics
    for file in sorted(directory.iterdir()):
        if not file.is_file() or not file.name.endswith(".jinja"):
            continue
        path = str(file)
        name, channel = _split_name(file.name)
        if channel is None:
            message = f"template file '{file.name}' must be named NAME.email.jinja or NAME.in_app.jinja"
            diagnostics.append(Diagnostic(Span(path, 1, 1, 1), message, code="unreadable-file"))
            continue
        if not _NAME.match(name):
            message = f"template name '{name}' must be a name (letters, digits and _, not starting with a digit)"
            diagnostics.append(Diagnostic(Span(path, 1, 1, 1), message, code="wrong-type"))
            continue
        try:
            source = texts[path] if texts is not None and path in texts else file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            diagnostics.append(Diagnostic(Span(path, 1, 1, 1), f"cannot read template: {error}",
                                          code="unreadable-file"))
            continue
        if name in templates:
            message = f"template '{name}' is defined twice (also in {files[name]})"
            diagnostics.append(Diagnostic(Span(path, 1, 1, 1), message, code="duplicate"))
            continue
        template, problems = _load_one(name, channel, source, path)
        templates[name] = template
        files[name] = path
        diagnostics.extend(problems)
    return templates, diagnostics


def _split_name(file_name: str) -> tuple[str, Channel | None]:
    for suffix, channel in _SUFFIXES.items():
        if file_name.endswith(suffix):
            return file_name[: -len(suffix)], channel
    return file_name, None


def _load_one(name: str, channel: Channel, source: str, path: str) -> tuple[ir.Template, list[Diagnostic]]:
    text = ir.TemplateText(source=source, path=path)
    jinja = JinjaSource(source, path)
    diagnostics: list[Diagnostic] = []
    blocks: set[str] = set()
    try:
        tree = parse_jinja(source)
    except TemplateSyntaxError as error:
        diagnostics.append(jinja.syntax_error(error))
        blocks = set(_KNOWN_BLOCKS)  # unknown until the syntax is right: report nothing more
    else:
        for block in tree.find_all(nodes.Block):
            blocks.add(block.name)
            if block.name not in _KNOWN_BLOCKS:
                message, near = with_nearest(f"unknown block '{block.name}'", block.name, _KNOWN_BLOCKS)
                diagnostics.append(jinja.at_name(block.lineno, block.name, message + _blocks_hint(channel),
                                                 code="unknown-name", suggestion=near))
        for required in _REQUIRED_BLOCKS[channel]:
            if required not in blocks:
                kind = "email" if channel == "email" else "in-app"
                message = f"{kind} template '{name}' has no block '{required}'{_blocks_hint(channel)}"
                diagnostics.append(jinja.diagnostic(1, 1, 1, message, code=jinja.template_code))
    html = text if channel == "email" or "html" in blocks else None
    return ir.Template(name=name, channel=channel, subject=text, text=text, html=html), diagnostics


def _blocks_hint(channel: Channel) -> str:
    names = ", ".join(_REQUIRED_BLOCKS[channel])
    optional = "" if channel == "email" else " (and optionally html)"
    return f"; it needs blocks {names}{optional}"


def check_template_references(
    templates: Mapping[str, ir.Template],
    model_fields: Mapping[str, ir.FieldType],
    scores: Iterable[str],
    metrics: Iterable[str],
) -> list[Diagnostic]:
    """Every variable a template file reads that the template context does not have.

    A template whose syntax is wrong is skipped: `load_templates` has reported it. The answer
    for the same templates and the same model is kept (the last few), so that checking a folder
    again after a playbook changed, as the language server does on each keystroke, does not
    parse every template again.
    """
    scores, metrics = list(scores), list(metrics)
    parts = tuple(
        (template.name, part.path, part.source)
        for template in templates.values()
        for part in (template.subject, template.text, template.html)
        if part is not None
    )
    key = (parts, tuple(model_fields.items()), tuple(scores), tuple(metrics))
    kept = _REFERENCES_KEPT.get(key)
    if kept is None:
        kept = tuple(_template_references(templates, model_fields, scores, metrics))
        _REFERENCES_KEPT[key] = kept
        while len(_REFERENCES_KEPT) > _REFERENCES_KEPT_MAX:
            del _REFERENCES_KEPT[next(iter(_REFERENCES_KEPT))]
    return list(kept)


_REFERENCES_KEPT: dict[tuple[object, ...], tuple[Diagnostic, ...]] = {}
_REFERENCES_KEPT_MAX = 4


def _template_references(
    templates: Mapping[str, ir.Template],
    model_fields: Mapping[str, ir.FieldType],
    scores: list[str],
    metrics: list[str],
) -> list[Diagnostic]:
    context = template_context(model_fields, scores, metrics)
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for template in templates.values():
        for part in (template.subject, template.text, template.html):
            if part is None or (part.path, part.source) in seen:
                continue
            seen.add((part.path, part.source))
            jinja = JinjaSource(part.source, part.path or f"templates/{template.name}")
            try:
                tree = parse_jinja(part.source)
            except TemplateSyntaxError:
                continue
            diagnostics.extend(jinja.check_tree(tree, context))
    return diagnostics


class InlineTemplates:
    """Checks templates written in `.play` files against one model, building each context once."""

    def __init__(self, model_fields: Mapping[str, ir.FieldType], scores: Iterable[str], metrics: Iterable[str]) -> None:
        self.model_fields = model_fields
        self.scores = list(scores)
        self.metrics = list(metrics)
        self._contexts: dict[tuple[str, ...] | None, dict[str, Shape]] = {}

    def check(
        self,
        source: str,
        path: str,
        line: int,
        column: int,
        event_payload: Mapping[str, ir.FieldType] | None = None,
    ) -> list[Diagnostic]:
        """See `check_template_text`."""
        if "{" not in source:
            return []
        key = None if event_payload is None else tuple(event_payload)
        context = self._contexts.get(key)
        if context is None:
            context = template_context(
                self.model_fields, self.scores, self.metrics, message=False, event_payload=event_payload
            )
            self._contexts[key] = context
        return JinjaSource(source, path, line, column).check(context)


def check_template_text(
    source: str,
    path: str,
    line: int,
    column: int,
    model_fields: Mapping[str, ir.FieldType],
    scores: Iterable[str],
    metrics: Iterable[str],
    event_payload: Mapping[str, ir.FieldType] | None = None,
) -> list[Diagnostic]:
    """Check a template written inside a `.play` file (a task title, a `do` parameter).

    `line` and `column` are where the text's first character is in that file (inside the
    quotes); `event_payload`, when the playbook is triggered by an event, checks `event.data`.
    """
    return InlineTemplates(model_fields, scores, metrics).check(source, path, line, column, event_payload)
