"""The rules of work items: `task types:`, `task template NAME:` and a task's own options."""

from __future__ import annotations

from typing import Any

from dsl import ast
from dsl.transformer.places import Marker, RuleBase

__all__ = ["WorkItemRules"]

# The lines of a task template, by the marker each gives, and the field of `ast.TaskTemplate` it fills.
_TEMPLATE_FIELDS = {"title": "title", "type": "task_type", "reason": "reason", "description": "description",
                    "due": "due", "priority": "priority", "dedupe": "dedupe", "escalate": "escalation"}


class WorkItemRules(RuleBase):
    """Task types, task templates, and the `type`, `reason` and `description` of a task."""

    def task_types(self, pos: ast.Pos, names: list[ast.Name]) -> ast.TaskTypes:
        return ast.TaskTypes(pos, tuple(names))

    def team(self, pos: ast.Pos, children: list[Any]) -> ast.Team:
        return ast.Team(pos, children[0], tuple(children[1:]))

    def round_robin(self, pos: ast.Pos, children: list[Any]) -> ast.Name:
        return ast.Name(pos, "round_robin")

    def least_loaded(self, pos: ast.Pos, children: list[Any]) -> ast.Name:
        return ast.Name(pos, "least_loaded")

    def task_template(self, pos: ast.Pos, children: list[Any]) -> ast.TaskTemplate:
        name, *lines = children
        found: dict[str, Any] = {}
        steps: list[ast.ChecklistStep] = []
        for line in lines:
            if isinstance(line, ast.ChecklistStep):
                steps.append(line)
                continue
            if line.kind in found:
                self._fail(line.pos, f"'{line.kind}' is given twice in task template '{name.text}'",
                           code="duplicate")
            found[line.kind] = line.value
        values = {_TEMPLATE_FIELDS[kind]: value for kind, value in found.items()}
        return ast.TaskTemplate(pos, name, steps=tuple(steps), **values)

    def template_title(self, pos: ast.Pos, children: list[ast.TextLit]) -> Marker:
        return Marker("title", pos, children[0])

    def task_type(self, pos: ast.Pos, children: list[ast.Name]) -> Marker:
        return Marker("type", pos, children[0])

    def task_reason(self, pos: ast.Pos, children: list[ast.Name]) -> Marker:
        return Marker("reason", pos, children[0])

    def task_description(self, pos: ast.Pos, children: list[ast.TextLit]) -> Marker:
        return Marker("description", pos, children[0])

    def task_dedupe(self, pos: ast.Pos, children: list[Any]) -> Marker:
        return Marker("dedupe", pos, pos)

    def task_escalate(self, pos: ast.Pos, children: list[Any]) -> Marker:
        return Marker("escalate", pos, ast.Escalation(pos, children[0], children[1]))

    def checklist_step(self, pos: ast.Pos, children: list[Any]) -> ast.ChecklistStep:
        return ast.ChecklistStep(pos, children[0], children[1] if len(children) > 1 else None)
