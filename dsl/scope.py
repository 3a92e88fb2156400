"""The names a folder declares: account fields, events, metrics, score models and templates.

The checker first gathers every declaration of every file into one `Scope` (reporting names
declared twice, unknown types and built-in events declared again), then checks each
expression and statement against it. Built-in events are always known:

| event | payload |
| --- | --- |
| `task_completed` | `task` text, `playbook` text, `outcome` text, `type` text, `reason` text |
| `unsubscribed` | `email` text |
| `bounced` | `email` text |
| `email_opened` | `template` text, `key` text (the message) |
| `email_clicked` | `template` text, `url` text, `key` text (the message) |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import get_args

from dsl import ast, ir
from dsl.name_suggestions import with_nearest
from dsl.reporter import Reporter

__all__ = ["RESERVED_EVENTS", "Scope", "build_scope"]

RESERVED_EVENTS: dict[str, dict[str, ir.FieldType]] = {
    name: dict(event.payload) for name, event in ir.BUILT_IN_EVENTS.items()}

# The types a declaration may name (an enumeration is written `one of a, b, c`).
TYPE_NAMES: tuple[str, ...] = tuple(name for name in get_args(ir.ValueType) if name not in ("enum", "duration"))


def _where(pos: ast.Pos) -> str:
    return f"{pos.path}:{pos.line}"


@dataclass
class Scope:
    fields: dict[str, ir.FieldType] = field(default_factory=dict)
    field_pos: dict[str, ast.Pos] = field(default_factory=dict)
    events: dict[str, dict[str, ir.FieldType]] = field(default_factory=lambda: dict(RESERVED_EVENTS))
    metrics: dict[str, ast.Metric] = field(default_factory=dict)
    scores: dict[str, ast.Score] = field(default_factory=dict)
    audiences: dict[str, ast.NamedAudience] = field(default_factory=dict)
    templates: dict[str, ir.Template] = field(default_factory=dict)
    task_types: dict[str, ast.Pos] = field(default_factory=dict)
    task_templates: dict[str, ast.TaskTemplate] = field(default_factory=dict)
    plans: dict[str, ast.SuccessPlan] = field(default_factory=dict)
    teams: dict[str, ast.Team] = field(default_factory=dict)

    def bands(self, score: str) -> list[str]:
        return [band.name.text for band in self.scores[score].bands]

    def fields_of_type(self, *types: str) -> list[str]:
        return [name for name, declared in self.fields.items() if declared.type in types]


def build_scope(files: list[ast.File], templates: dict[str, ir.Template], report: Reporter) -> Scope:
    """Gather the declarations of every file, reporting duplicates and bad types."""
    scope = Scope(templates=dict(templates))
    first: dict[tuple[str, str], ast.Pos] = {}

    def declare(kind: str, name: ast.Name) -> bool:
        key = (kind, name.text)
        if key in first:
            report.error(name.pos, f"{kind} '{name.text}' is declared twice (first at {_where(first[key])})",
                         code="duplicate")
            return False
        first[key] = name.pos
        return True

    for file in files:
        for item in file.items:
            if isinstance(item, ast.AccountFields):
                for decl in item.fields:
                    declared = field_type(decl.type, report)
                    if declare("field", decl.name) and declared is not None:
                        scope.fields[decl.name.text] = declared
                        scope.field_pos[decl.name.text] = decl.name.pos
            elif isinstance(item, ast.Events):
                for event in item.events:
                    _declare_event(scope, event, report, declare)
            elif isinstance(item, ast.Metric):
                if declare("metric", item.name):
                    scope.metrics[item.name.text] = item
            elif isinstance(item, ast.Score) and declare("score", item.name):
                scope.scores[item.name.text] = item
            elif isinstance(item, ast.TaskTypes):
                scope.task_types.update((name.text, name.pos) for name in item.names if declare("task type", name))
            elif isinstance(item, ast.TaskTemplate) and declare("task template", item.name):
                scope.task_templates[item.name.text] = item
            elif isinstance(item, ast.SuccessPlan) and declare("success plan", item.name):
                scope.plans[item.name.text] = item
            elif isinstance(item, ast.Team) and declare("team", item.name):
                scope.teams[item.name.text] = item
            elif isinstance(item, ast.NamedAudience) and declare("audience", item.name):
                scope.audiences[item.name.text] = item
    _report_shared_names(scope, report)
    return scope


def _declare_event(
    scope: Scope, event: ast.EventDecl, report: Reporter, declare: Callable[[str, ast.Name], bool]
) -> None:
    name = event.name.text
    if name in RESERVED_EVENTS:
        report.error(event.name.pos, f"event '{name}' is built in and cannot be declared", code="playbook-structure")
        return
    if not declare("event", event.name):
        return
    payload: dict[str, ir.FieldType] = {}
    keys: set[str] = set()
    for key in event.payload:
        if key.name.text in keys:
            report.error(key.name.pos, f"payload key '{key.name.text}' of event '{name}' is declared twice",
                         code="duplicate")
            continue
        keys.add(key.name.text)
        declared = field_type(key.type, report)
        if declared is not None:
            payload[key.name.text] = declared
    scope.events[name] = payload


def field_type(written: ast.TypeRef, report: Reporter) -> ir.FieldType | None:
    """The declared type, or None (reported) when its name is unknown."""
    if isinstance(written, ast.EnumType):
        values: list[str] = []
        for value in written.values:
            if value.text in values:
                report.error(value.pos, f"value '{value.text}' is listed twice", code="duplicate")
            else:
                values.append(value.text)
        return ir.FieldType(type="enum", values=tuple(values))
    name = written.name.text
    if name not in TYPE_NAMES:
        message, near = with_nearest(f"unknown type '{name}'", name, TYPE_NAMES)
        if near is None:
            message += f"; types are {', '.join(TYPE_NAMES)} and 'one of a, b, c'"
        report.error(written.name.pos, message, code="unknown-name", suggestion=near)
        return None
    return ir.FieldType.model_validate({"type": name})


def _report_shared_names(scope: Scope, report: Reporter) -> None:
    """A bare name in an expression must mean one thing: a field, a score or a metric."""
    for name, score in scope.scores.items():
        if name in scope.fields:
            report.error(score.name.pos, f"score '{name}' has the name of an account field", code="playbook-structure")
        if name in scope.metrics:
            report.error(score.name.pos, f"score '{name}' has the name of a metric", code="playbook-structure")
    for name, audience in scope.audiences.items():
        for kind, names in (("an account field", scope.fields), ("a score", scope.scores), ("a metric", scope.metrics)):
            if name in names:
                report.error(audience.name.pos, f"audience '{name}' has the name of {kind}", code="playbook-structure")
    for name, metric in scope.metrics.items():
        if name in scope.fields:
            report.error(metric.name.pos, f"metric '{name}' has the name of an account field",
                         code="playbook-structure")
