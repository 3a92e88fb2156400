"""Lowering `create task`: the task as written, over the task template it names, if any.

What the statement writes wins over the template; the template gives the rest, its checklist
included. The IR holds the whole task, so the engine never sees a template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsl import ast, ir
from dsl.lowering_expressions import lower_duration

__all__ = ["lower_task", "task_templates"]


def task_templates(files: list[ast.File]) -> dict[str, ast.TaskTemplate]:
    return {item.name.text: item for file in files for item in file.items if isinstance(item, ast.TaskTemplate)}


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def lower_task(node: ast.CreateTask, templates: Mapping[str, ast.TaskTemplate]) -> ir.CreateTask:
    base = templates.get(node.title.text) if isinstance(node.title, ast.Name) else None
    title = node.title.value if isinstance(node.title, ast.TextLit) else base.title.value if base and base.title else ""
    due = _first(node.due, base.due if base else None)
    priority = _first(node.priority, base.priority if base else None)
    task_type = _first(node.task_type, base.task_type if base else None)
    reason = _first(node.reason, base.reason if base else None)
    description = _first(node.description, base.description if base else None)
    steps = base.steps if base else ()
    escalation = _first(node.escalation, base.escalation if base else None)
    return ir.CreateTask(
        title=title,
        owner=node.owner.names,
        due=lower_duration(due) if due else None,
        priority=priority.text if priority else "normal",
        task_type=task_type.text if task_type else None,
        reason=reason.text if reason else None,
        description=description.value if description else None,
        checklist=tuple(ir.ChecklistStep(title=step.title.value, due=lower_duration(step.due) if step.due else None)
                        for step in steps),
        template=base.name.text if base else None,
        dedupe=node.dedupe is not None or (base is not None and base.dedupe is not None),
        assign=node.assignment.text if node.assignment is not None else None,
        escalation=_escalation(escalation, node.owner.names) if escalation is not None else None,
    )


def _escalation(node: ast.Escalation, owner: tuple[str, ...]) -> ir.Escalation:
    """`escalate to manager`: the manager of the task's owner; any other path as written."""
    to = (*owner, "manager") if node.to.names == ("manager",) else node.to.names
    return ir.Escalation(to=to, after=lower_duration(node.after))
