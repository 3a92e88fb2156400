"""Checking work items: task templates, and the type, priority and template a task names.

A task type must be one of the folder's `task types:`; a task made from a template
(`create task renewal_call for csm`) must name a declared `task template`, which has a title.
The texts of a template (title, description, the steps of its checklist) are templates like a
task's title, checked against the account model without an event (a template serves any playbook).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dsl import ast
from dsl.bounds import check_duration
from dsl.name_suggestions import with_nearest
from dsl.reporter import Reporter
from dsl.scope import Scope

__all__ = ["PRIORITIES", "WorkItemChecker"]

PRIORITIES = ("low", "normal", "high", "urgent")
_EMAIL = re.compile(r"[^@\s\"]+@[^@\s\"]+\.[^@\s\"]+")

InlineCheck = Callable[[ast.TextLit], None]


def _quoted(text: str) -> str:
    return f"'{text}'"


class WorkItemChecker:
    def __init__(self, scope: Scope, report: Reporter) -> None:
        self.scope = scope
        self.report = report

    def template(self, template: ast.TaskTemplate, inline: InlineCheck) -> None:
        """The lines of `task template NAME:`."""
        if template.title is None:
            self.report.error(template.name.pos, f"task template '{template.name.text}' has no title: "
                                                 "write a line 'title \"...\"' in it", code="playbook-structure")
        else:
            inline(template.title)
        self.options(template.task_type, template.priority, template.due, template.description, inline)
        for step in template.steps:
            inline(step.title)
            if step.due is not None:
                check_duration(step.due, self.report, f"'due {step.due.text}'")
                if step.due.amount <= 0:
                    self.report.error(step.due.pos, f"step due '{step.due.text}' is no time: use a positive duration",
                                      code="never-happens")

    def options(self, task_type: ast.Name | None, priority: ast.Name | None, due: ast.Duration | None,
                description: ast.TextLit | None, inline: InlineCheck) -> None:
        """The options a task and a task template share (the reason is any name)."""
        if task_type is not None:
            self.task_type(task_type)
        if priority is not None:
            self.priority(priority)
        if due is not None:
            check_duration(due, self.report, f"'due {due.text}'")
        if description is not None:
            inline(description)

    def dedupe(self, task: ast.CreateTask) -> None:
        """`dedupe by type and reason` needs both, written on the task or in its template."""
        base = self.scope.task_templates.get(task.title.text) if isinstance(task.title, ast.Name) else None
        where = task.dedupe or (base.dedupe if base is not None else None)
        if where is None:
            return
        missing = [word for word, own, inherited in (("type", task.task_type, base and base.task_type),
                                                     ("reason", task.reason, base and base.reason))
                   if own is None and inherited is None]
        if missing:
            written = " and ".join(_quoted(word + " NAME") for word in missing)
            self.report.error(where if task.dedupe else task.pos,
                              f"'dedupe by type and reason' needs {written} on the task or in its template",
                              code="playbook-structure")

    def escalation_delay(self, escalation: ast.Escalation) -> None:
        """The time an overdue item waits before it escalates: a bounded, positive duration."""
        after = escalation.after
        check_duration(after, self.report, f"'after {after.text}'")
        if after.amount <= 0:
            self.report.error(after.pos, f"'after {after.text}' is no time: an item escalates a positive time "
                                         "after it became overdue", code="never-happens")

    def team(self, team: ast.Team) -> None:
        """`team NAME: "a@x", "b@x"`: each member an email address, once."""
        seen: set[str] = set()
        for member in team.members:
            address = member.value.strip().lower()
            if not _EMAIL.fullmatch(address):
                self.report.error(member.pos, f"team member '{member.value}' is not an email address",
                                  code="wrong-type")
            elif address in seen:
                self.report.error(member.pos, f"'{member.value}' is listed twice in team '{team.name.text}'",
                                  code="duplicate")
            seen.add(address)

    def team_name(self, owner: ast.Path, rule: ast.Name) -> None:
        """`for smb_csms by round robin`: the owner is a declared team."""
        words = rule.text.replace("_", " ")
        if len(owner.parts) > 1:
            self.report.error(owner.pos, f"'by {words}' assigns among a team: '{owner.text}' is a field path, "
                                         "not a team name", code="wrong-type")
            return
        if owner.text in self.scope.teams:
            return
        message, near = with_nearest(f"unknown team '{owner.text}'", owner.text, self.scope.teams)
        if near is None:
            message += f"; 'by {words}' assigns among a team declared with 'team {owner.text}: \"a@…\", \"b@…\"'"
        self.report.error(owner.pos, message, code="unknown-name", suggestion=near)

    def task_type(self, name: ast.Name) -> None:
        types = self.scope.task_types
        if name.text in types:
            return
        if not types:
            self.report.error(name.pos, f"unknown task type '{name.text}': no task types are declared; "
                                        f"declare them once, e.g. 'task types: {name.text}, renewal'",
                              code="unknown-name")
            return
        message, near = with_nearest(f"unknown task type '{name.text}'", name.text, types)
        if near is None:
            message += f"; task types are {', '.join(types)}"
        self.report.error(name.pos, message, code="unknown-name", suggestion=near)

    def priority(self, name: ast.Name) -> None:
        if name.text in PRIORITIES:
            return
        message, near = with_nearest(f"unknown priority '{name.text}'", name.text, PRIORITIES)
        if near is None:
            message += f"; priorities are {', '.join(PRIORITIES)}"
        self.report.error(name.pos, message, code="unknown-name", suggestion=near)

    def template_name(self, name: ast.Name) -> bool:
        """Whether `create task NAME` names a declared task template (reported when not)."""
        templates = self.scope.task_templates
        if name.text in templates:
            return True
        message, near = with_nearest(f"unknown task template '{name.text}'", name.text, templates)
        if near is None and not templates:
            message += "; a task's title is a text in quotes, or the name of a 'task template'"
        self.report.error(name.pos, message, code="unknown-name", suggestion=near)
        return False
