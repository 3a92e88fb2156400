"""Checking the statements of a playbook: sends, tasks, `set`, `do`, waits, branches and splits.

Statements are checked in the order they run (entry statements, then the steps), so that
`wait until task done` and `task open` can ask whether a `create task` comes before them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dsl import ast, ir
from dsl.bounds import check_duration, millions_for_a_count
from dsl.diagnostics import Span
from dsl.name_suggestions import with_nearest
from dsl.plugin_catalog import PluginActivity, PluginCatalog, PluginParam
from dsl.reporter import Reporter
from dsl.scope import Scope
from dsl.templates import InlineTemplates
from dsl.typing_rules import NUMERIC, ExprTyper, Ty, describe
from dsl.work_item_rules import WorkItemChecker

__all__ = ["StatementChecker"]

_CHANNEL_WORDS = {"email": "an email", "in_app": "an in-app message"}
_SEND_WORDS = {"email": "send email", "in_app": "send in_app"}


class StatementChecker:
    def __init__(self, scope: Scope, typer: ExprTyper, report: Reporter, plugins: PluginCatalog | None) -> None:
        self.scope = scope
        self.typer = typer
        self.report = report
        self.plugins = plugins
        self.event_payload: Mapping[str, ir.FieldType] | None = None  # of the triggering event, if any
        self.inline = InlineTemplates(scope.fields, scope.scores, scope.metrics)
        self.work_items = WorkItemChecker(scope, report)

    def check_all(self, statements: tuple[ast.Statement, ...]) -> None:
        for statement in statements:
            self.check(statement)

    def check(self, statement: ast.Statement) -> None:
        if isinstance(statement, ast.SendEmail):
            self._template(statement.template, "email")
            self._recipient(statement)
        elif isinstance(statement, ast.SendInApp):
            self._template(statement.template, "in_app")
        elif isinstance(statement, ast.StartPlan):
            if statement.plan.text not in self.scope.plans:
                message, near = with_nearest(f"unknown success plan '{statement.plan.text}'", statement.plan.text,
                                             self.scope.plans)
                self.report.error(statement.plan.pos, message, code="unknown-name", suggestion=near)
        elif isinstance(statement, ast.CreateTask):
            self._task(statement)
        elif isinstance(statement, ast.SetField):
            self._set(statement)
        elif isinstance(statement, ast.UpdateScore):
            if statement.score.text not in self.scope.scores:
                message, near = with_nearest(
                    f"unknown score '{statement.score.text}'", statement.score.text, self.scope.scores
                )
                self.report.error(statement.score.pos, message, code="unknown-name", suggestion=near)
        elif isinstance(statement, ast.Do):
            self._do(statement)
            self.check_all(statement.otherwise)
        elif isinstance(statement, ast.Wait):
            if statement.duration.amount <= 0:
                self.report.error(statement.duration.pos, f"'wait {statement.duration.text}' waits for nothing",
                                  code="never-happens")
            check_duration(statement.duration, self.report, f"'wait {statement.duration.text}'")
        elif isinstance(statement, ast.WaitUntil):
            self._wait_until(statement)
        elif isinstance(statement, ast.If):
            self.typer.condition(statement.condition, "'unless'" if statement.negated else "'if'")
            self.check_all(statement.then)
            self.check_all(statement.otherwise)
        elif isinstance(statement, ast.Split):
            self._split(statement)

    # ------------------------------------------------------------------ messages

    def _template(self, name: ast.Name, channel: str) -> None:
        template = self.scope.templates.get(name.text)
        if template is None:
            known = [t.name for t in self.scope.templates.values() if t.channel == channel]
            message, near = with_nearest(
                f"unknown {channel.replace('_', '-')} template '{name.text}'", name.text, known
            )
            self.report.error(name.pos, message, code="unknown-name", suggestion=near)
        elif template.channel != channel:
            self.report.error(
                name.pos,
                f"'{name.text}' is {_CHANNEL_WORDS[template.channel]} template: "
                f"write '{_SEND_WORDS[template.channel]} {name.text}'",
                code="wrong-type",
            )

    def _sender(self, sender: ast.Path) -> None:
        ty = self._typed_path(sender, "owner")
        if ty.known and ty.kind != "owner":
            self.report.error(sender.pos, f"'{sender.text}' is {describe(ty)}, not an owner: an email goes out from "
                                          "an owner of the account, such as csm", code="wrong-type")

    def _review(self, review: ast.Review) -> None:
        """`review by csm within 1 business day then send`: an owner, a bounded time, a policy."""
        ty = self._typed_path(review.by, "owner")
        if ty.known and ty.kind != "owner":
            self.report.error(review.by.pos, f"'{review.by.text}' is {describe(ty)}, not an owner: a draft is "
                                             "reviewed by an owner of the account, such as csm", code="wrong-type")
        check_duration(review.within, self.report, f"'within {review.within.text}'")
        if review.within.amount <= 0:
            self.report.error(review.within.pos, f"'within {review.within.text}' is no time: give the reviewer a "
                                                 "positive time to answer", code="never-happens")
        if review.then is not None and review.then.text not in ("send", "drop"):
            self.report.error(review.then.pos, f"'then {review.then.text}': a draft left unanswered is either sent "
                                               "('then send') or dropped ('then drop')", code="wrong-type")

    def _recipient(self, statement: ast.SendEmail) -> None:
        if statement.sender is not None:
            self._sender(statement.sender)
        if statement.review is not None:
            self._review(statement.review)
        if statement.to is None:
            declared = self.scope.fields.get("primary_contact")
            if declared is None or declared.type != "contact":
                self.report.error(
                    statement.template.pos,
                    "no recipient: write 'to' and a contact field (there is no contact field 'primary_contact')",
                    code="playbook-structure",
                )
            return
        named: set[str] = set()
        for to in (statement.to, *statement.also_to):
            if to.text in named:
                self.report.error(to.pos, f"'{to.text}' is named twice: it would get the email twice", code="duplicate")
            named.add(to.text)
            ty = self._typed_path(to, "contact")
            if ty.known and ty.kind != "contact":
                self.report.error(
                    to.pos,
                    f"'{to.text}' is {describe(ty)}, not a contact: an email goes to a contact field",
                    code="wrong-type",
                )

    def _typed_path(self, path: ast.Path, kind: str) -> Ty:
        """The type of a field path whose first name should be a field of type `kind`."""
        head = path.parts[0]
        if head.text not in self.scope.fields:
            known = self.scope.fields_of_type(kind) or list(self.scope.fields)
            message, near = with_nearest(f"unknown {kind} '{head.text}'", head.text, known)
            self.report.error(head.pos, message, code="unknown-name", suggestion=near)
            return Ty("unknown")
        return self.typer.resolve(path)

    # ------------------------------------------------------------------ tasks and fields

    def _task(self, task: ast.CreateTask) -> None:
        if isinstance(task.title, ast.TextLit):
            self._inline_template(task.title)
        else:
            self.work_items.template_name(task.title)
        self.work_items.options(task.task_type, task.priority, task.due, task.description, self._inline_template)
        self.work_items.dedupe(task)
        self._escalation(task)
        if task.assignment is not None:
            self.work_items.team_name(task.owner, task.assignment)
            self.typer.task_created = True
            return
        ty = self._typed_path(task.owner, "owner")
        if ty.known and ty.kind != "owner":
            self.report.error(
                task.owner.pos,
                f"'{task.owner.text}' is {describe(ty)}, not an owner: a task is for an owner field or its manager",
                code="wrong-type",
            )
        self.typer.task_created = True

    def _escalation(self, task: ast.CreateTask) -> None:
        """`escalate to manager after 1 business day`: counted from a due time, to an owner field."""
        base = self.scope.task_templates.get(task.title.text) if isinstance(task.title, ast.Name) else None
        escalation = task.escalation or (base.escalation if base is not None else None)
        if escalation is None:
            return
        where = escalation.pos if task.escalation is not None else task.pos
        if task.due is None and (base is None or base.due is None):
            self.report.error(where, "'escalate' counts from the task's due time: give the task a 'due'",
                              code="playbook-structure")
        self.work_items.escalation_delay(escalation)
        to = escalation.to
        if to.names == ("manager",):
            if task.assignment is not None:
                self.report.error(to.pos, f"a task for team '{task.owner.text}' has no one manager: name an owner "
                                          "field to escalate to (e.g. 'escalate to csm.manager')", code="wrong-type")
                return
            to = ast.Path(to.pos, (*task.owner.parts, to.parts[0]))
        ty = self._typed_path(to, "owner")
        if ty.known and ty.kind != "owner":
            self.report.error(escalation.to.pos, f"'{to.text}' is {describe(ty)}, not an owner: an item escalates "
                                                 "to an owner field", code="wrong-type")

    def _inline_template(self, text: ast.TextLit) -> None:
        """Check a template written in the file; its text starts just after the opening quote."""
        pos = text.pos
        self.report.extend(self.inline.check(text.value, pos.path, pos.line, pos.column + 1, self.event_payload))

    def _set(self, statement: ast.SetField) -> None:
        name = statement.field.text
        self.typer.place = "'set'"
        try:
            value = self.typer.type_of(statement.value)
        finally:
            self.typer.place = ""
        declared = self.scope.fields.get(name)
        if declared is None:
            message, near = with_nearest(f"unknown field '{name}'", name, self.scope.fields)
            self.report.error(statement.field.pos, message, code="unknown-name", suggestion=near)
            return
        target = Ty(declared.type, declared.values, name)
        if not value.known:
            return
        if target.kind == "enum" and value.literal is not None:
            self.typer.enum_value(target, value.literal, statement.value.pos)
        elif not _assignable(target, value):
            self.report.error(statement.value.pos, f"cannot set {name} ({describe(target)}) to {describe(value)}",
                              code="wrong-type")

    # ------------------------------------------------------------------ plugins

    def _do(self, statement: ast.Do) -> None:
        for param in statement.params:
            if isinstance(param.value, ast.TextLit):
                self._inline_template(param.value)
        if self.plugins is None:
            return
        name = statement.activity.text
        activity = self.plugins.get(name)
        if activity is None:
            message, near = with_nearest(f"unknown activity '{name}'", name, self.plugins.names())
            self.report.error(statement.activity.pos, message, code="unknown-name", suggestion=near)
            return
        if statement.attempts is not None and statement.attempts_pos is not None and (
                statement.attempts < 1 or (activity.max_attempts is not None
                                           and statement.attempts > activity.max_attempts)):
            most = f" (it declares {activity.max_attempts})" if activity.max_attempts is not None else ""
            self.report.error(statement.attempts_pos, f"{name} takes at least 1 attempt and at most its own "
                              f"number{most}", code="parameter")
        given: set[str] = set()
        for param in statement.params:
            self._param(activity, param, given)
        for required in activity.params.values():
            if required.required and required.name not in given:
                self.report.error(statement.activity.pos, f"missing parameter '{required.name}' for {name}",
                                  code="parameter")

    def _param(self, activity: PluginActivity, param: ast.DoParam, given: set[str]) -> None:
        key = param.name.text
        if key in given:
            self.report.error(param.name.pos, f"parameter '{key}' is given twice", code="duplicate")
            return
        given.add(key)
        spec = activity.params.get(key)
        if spec is None:
            message, near = with_nearest(f"unknown parameter '{key}' for {activity.name}", key, activity.params)
            if near is None and activity.params:
                message += f"; it takes {', '.join(activity.params)}"
            self.report.error(param.name.pos, message, code="unknown-name", suggestion=near)
            return
        if (spec.pattern is not None and isinstance(param.value, ast.TextLit) and "{" not in param.value.value
                and re.search(spec.pattern, param.value.value) is None):
            self.report.error(param.value.pos, f"parameter '{key}' of {activity.name} must match {spec.pattern}, "
                                               f"not {param.value.value!r}", code="parameter")
            return
        value = self.typer.type_of(param.value)
        if not value.known:
            return
        if spec.type == "number" and isinstance(param.value, ast.MoneyLit):
            millions_for_a_count(param.value, self.report, f"for '{key}', a number")
        literal = _number_written(param.value)
        if literal is not None and spec.minimum is not None and literal < spec.minimum:
            self.report.error(param.value.pos, f"parameter '{key}' of {activity.name} takes at least "
                                               f"{spec.minimum:g}, not {literal:g}", code="parameter")
        if literal is not None and spec.maximum is not None and literal > spec.maximum:
            self.report.error(param.value.pos, f"parameter '{key}' of {activity.name} takes at most "
                                               f"{spec.maximum:g}, not {literal:g}", code="parameter")
        if spec.values:
            self._choice(activity, spec, param, value)
            return
        if not _param_fits(spec.type, value):
            wanted = describe(Ty(spec.type))
            shown = describe(value)
            if isinstance(param.value, ast.Ref):
                shown = f"{shown} field '{param.value.path.text}'"
            hint = ""
            if spec.type == "text" and isinstance(param.value, ast.Ref):
                hint = f": write {key}=\"{{{{ account.{param.value.path.text} }}}}\" to give it as text"
            self.report.error(param.value.pos,
                              f"parameter '{key}' of {activity.name} takes {wanted}, not {shown}{hint}",
                              code="parameter")

    def _choice(self, activity: PluginActivity, spec: PluginParam, param: ast.DoParam, value: Ty) -> None:
        """A parameter that takes one of a list of values: a literal among them, or an enum field
        whose values all are."""
        key, allowed = spec.name, ", ".join(spec.values)
        if isinstance(param.value, ast.TextLit) and "{" not in param.value.value:
            if param.value.value not in spec.values:
                message, near = with_nearest(
                    f"unknown value '{param.value.value}' for parameter '{key}' of {activity.name}",
                    param.value.value,
                    spec.values,
                )
                self.report.error(param.value.pos, f"{message}; it takes one of {allowed}",
                code="unknown-name",
                                  suggestion=near)
            return
        if isinstance(param.value, ast.TextLit):
            return  # a template: its value is known when it renders
        extra = [v for v in value.values if v not in spec.values] if value.kind == "enum" else []
        if value.kind != "enum" or extra:
            given = describe(value)
            if isinstance(param.value, ast.Ref):
                given = f"field '{param.value.path.text}'" if extra else f"{given} field '{param.value.path.text}'"
            beyond = f" (it may be {', '.join(extra)})" if extra else ""
            self.report.error(param.value.pos,
                              f"parameter '{key}' of {activity.name} takes one of {allowed}, not {given}{beyond}",
                              code="parameter")

    # ------------------------------------------------------------------ waits and splits

    def _wait_until(self, statement: ast.WaitUntil) -> None:
        self.typer.event_matches(statement.events, "'wait until'")
        for condition in statement.conditions:
            self.typer.condition(condition, "'wait until'")
        if statement.task_done and not self.typer.task_created:
            self.report.error(statement.pos, "'wait until task done' needs a 'create task' before it in the playbook",
                              code="wrong-type")
        if statement.timeout.amount <= 0:
            self.report.error(statement.timeout.pos, f"a time limit of {statement.timeout.text} waits for nothing",
                              code="never-happens")
        check_duration(statement.timeout, self.report, f"a time limit of {statement.timeout.text}")

    def _split(self, split: ast.Split) -> None:
        last = split.shares[-1].pos if split.shares else split.pos
        header = Span(split.pos.path, split.pos.line, split.pos.column, last.end_column - split.pos.column)
        total = sum(share.value for share in split.shares)
        for share in split.shares:
            if share.value <= 0:
                self.report.error(share.pos, f"a share of {share.text} sends nobody to its block", code="never-happens")
        if abs(total - 100) > 1e-9:
            shares = " / ".join(share.text for share in split.shares)
            self.report.error(header, f"split shares {shares} add up to {_percent(total)}, not 100%",
                              code="out-of-range")
        if len(split.arms) != len(split.shares):
            self.report.error(
                header,
                f"split has {_count(len(split.shares), 'share')} but {_count(len(split.arms), 'block')}: "
                "write one block per share",
                code="playbook-structure",
            )
        labels: set[str] = set()
        for arm in split.arms:
            if arm.label.text in labels:
                self.report.error(arm.label.pos, f"split block '{arm.label.text}' is written twice", code="duplicate")
            labels.add(arm.label.text)
            self.check_all(arm.body)
        if split.record_as is not None:
            self._record_arm(split.record_as, [arm.label.text for arm in split.arms])

    def _record_arm(self, field: ast.Name, labels: list[str]) -> None:
        """`record arm as FIELD`: a text field, or one of a list holding every label."""
        declared = self.scope.fields.get(field.text)
        if declared is None:
            message, near = with_nearest(f"unknown field '{field.text}'", field.text, self.scope.fields)
            self.report.error(field.pos, message, code="unknown-name", suggestion=near)
        elif declared.type == "enum" and (missing := [label for label in labels if label not in declared.values]):
            self.report.error(field.pos, f"field '{field.text}' is one of {', '.join(declared.values)}: it cannot hold "
                                         f"the arm {_listed(missing)}", code="wrong-type")
        elif declared.type not in ("text", "enum"):
            self.report.error(field.pos, f"field '{field.text}' is {describe(Ty(declared.type))}: an arm is recorded "
                                         "as its label, in a text field or a 'one of' holding every label",
                              code="wrong-type")


def _listed(labels: list[str]) -> str:
    quoted = [f"'{label}'" for label in labels]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _percent(value: float) -> str:
    return f"{int(value)}%" if float(value).is_integer() else f"{value}%"


def _assignable(target: Ty, value: Ty) -> bool:
    if target.kind in NUMERIC and value.kind in NUMERIC:
        return "number" in (target.kind, value.kind) or target.kind == value.kind
    if target.kind in ("text", "enum") and value.kind in ("text", "enum"):
        return target.kind == "text" or value.kind == "text" or set(value.values) <= set(target.values)
    if target.kind in ("date", "datetime") and value.kind in ("date", "datetime"):
        return True
    return target.kind == value.kind


def _number_written(value: ast.Expr) -> float | None:
    """The number a parameter is given as written (`3`, `-2`, `25k`), None for any other value."""
    if isinstance(value, ast.NumberLit | ast.MoneyLit | ast.PercentLit):
        return float(value.value)
    if isinstance(value, ast.Negate) and isinstance(value.arg, ast.NumberLit | ast.MoneyLit | ast.PercentLit):
        return -float(value.arg.value)
    return None


def _param_fits(wanted: str, value: Ty) -> bool:
    """Whether a value may be given for a parameter of type `wanted`: a text parameter takes text,
    a value of a list or a date (sent as written, `2026-03-01`), never a number or a boolean (a
    template converts those: `"{{ account.seats }}"`)."""
    if wanted == "text":
        return value.kind in ("text", "enum", "date", "datetime")
    if wanted in NUMERIC:
        return value.kind in NUMERIC
    if wanted in ("date", "datetime"):
        return value.kind in ("date", "datetime")
    return value.kind == wanted
