"""From a syntax tree to the lines of its canonical layout: one per header, declaration and statement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dsl import ast
from dsl.formatter.expressions import duration_text, expr_text, text_literal

__all__ = ["Line", "Printer"]


@dataclass
class Line:
    """A line of the layout, at a depth of blocks, or a comment line."""

    depth: int
    text: str
    source_line: int  # where the node that starts this line was written
    opens_block: bool = False
    is_comment: bool = False
    trailing: str | None = None  # an end-of-line comment
    trailing_column: int = 0  # its column in the source (0-based)


class Printer:
    """Prints a parsed file as `Line`s, one per statement, header and declaration."""

    def __init__(self, source_lines: list[str]) -> None:
        self.source_lines = source_lines
        self.lines: list[Line] = []

    def emit(self, depth: int, text: str, pos: ast.Pos, opens_block: bool = False) -> None:
        self.lines.append(Line(depth, text, pos.line, opens_block))

    def text(self, literal: ast.TextLit) -> str:
        return text_literal(literal, self.source_lines)

    def expr(self, node: ast.Expr) -> str:
        return expr_text(node, self.source_lines)

    # ------------------------------------------------------------------ top-level items

    def file(self, tree: ast.File) -> None:
        for item in tree.items:
            self.item(item)

    def item(self, item: ast.FileItem) -> None:
        if isinstance(item, ast.AccountFields):
            self.emit(0, "account fields:", item.pos, opens_block=True)
            for decl in item.fields:
                self.emit(1, f"{decl.name.text}: {_type_text(decl.type)}", decl.pos)
        elif isinstance(item, ast.Events):
            self.emit(0, "events:", item.pos, opens_block=True)
            for event in item.events:
                payload = ", ".join(f"{key.name.text} {key.type.name.text}" for key in event.payload)
                self.emit(1, f"{event.name.text}: {payload}" if payload else event.name.text, event.pos)
        elif isinstance(item, ast.Metric):
            counted = f"{item.aggregate} {item.event.text} over {duration_text(item.window)}"
            self.emit(0, f"metric {item.name.text} = {counted}", item.pos)
        elif isinstance(item, ast.NamedAudience):
            self.emit(0, f"audience {item.name.text}: {self.expr(item.condition)}", item.pos)
        elif isinstance(item, ast.Score):
            self.score(item)
        elif isinstance(item, ast.Policy):
            self.emit(0, "policy:", item.pos, opens_block=True)
            for rule in item.items:
                self.emit(1, _policy_text(rule), rule.pos)
        elif isinstance(item, ast.TaskTypes):
            self.emit(0, f"task types: {', '.join(name.text for name in item.names)}", item.pos)
        elif isinstance(item, ast.TaskTemplate):
            self.task_template(item)
        elif isinstance(item, ast.Team):
            members = ", ".join(self.text(member) for member in item.members)
            self.emit(0, f"team {item.name.text}: {members}", item.pos)
        elif isinstance(item, ast.SuccessPlan):
            title = f" {self.text(item.title)}" if item.title is not None else ""
            self.emit(0, f"success plan {item.name.text}{title}:", item.pos, opens_block=True)
            for milestone in item.milestones:
                test = (self.event_alternative(milestone.event) if milestone.event is not None
                        else self.expr(milestone.condition) if milestone.condition is not None else "")
                self.emit(1, f"milestone {milestone.name.text} when {test} within {duration_text(milestone.within)}",
                          milestone.pos)
        else:
            self.playbook(item)

    def task_template(self, template: ast.TaskTemplate) -> None:
        self.emit(0, f"task template {template.name.text}:", template.pos, opens_block=True)
        lines: list[tuple[ast.Pos, str]] = []
        if template.title is not None:
            lines.append((template.title.pos, f"title {self.text(template.title)}"))
        lines += [(pos, text) for pos, text in self.task_options(template) if pos is not None]
        for step in template.steps:
            due = f", due {duration_text(step.due)}" if step.due is not None else ""
            lines.append((step.pos, f"step {self.text(step.title)}{due}"))
        for pos, text in sorted(lines, key=lambda line: (line[0].line, line[0].column)):
            self.emit(1, text, pos)

    def task_options(self, node: ast.CreateTask | ast.TaskTemplate) -> list[tuple[ast.Pos | None, str]]:
        """The `type`, `reason`, `due`, `priority`, `dedupe`, `escalate` and `description` written, in that order."""
        options: list[tuple[ast.Pos | None, str]] = []
        if node.task_type is not None:
            options.append((node.task_type.pos, f"type {node.task_type.text}"))
        if node.reason is not None:
            options.append((node.reason.pos, f"reason {node.reason.text}"))
        if node.due is not None:
            options.append((node.due.pos, f"due {duration_text(node.due)}"))
        if node.priority is not None:
            options.append((node.priority.pos, f"priority {node.priority.text}"))
        if node.dedupe is not None:
            options.append((node.dedupe, "dedupe by type and reason"))
        if node.escalation is not None:
            to, after = node.escalation.to.text, duration_text(node.escalation.after)
            options.append((node.escalation.pos, f"escalate to {to} after {after}"))
        if node.description is not None:
            options.append((node.description.pos, f"description {self.text(node.description)}"))
        return options

    def score(self, score: ast.Score) -> None:
        title = f" {self.text(score.title)}" if score.title is not None else ""
        self.emit(0, f"score {score.name.text}{title}:", score.pos, opens_block=True)
        parts: list[tuple[int, ast.Component | None]] = [(c.pos.line, c) for c in score.components]
        if score.bands or score.bands_pos is not None:
            bands_line = score.bands_pos.line if score.bands_pos else (score.bands[0].pos.line - 1)
            parts.append((bands_line, None))
        for _, part in sorted(parts, key=lambda pair: pair[0]):
            if part is None:
                where = score.bands_pos or score.bands[0].pos
                self.emit(1, "bands:", where, opens_block=True)
                for band in score.bands:
                    self.emit(2, f"{band.name.text}: {band.low.text} to {band.high.text}", band.pos)
                continue
            header = f"component {part.name.text} max {part.max_points.text}:"
            self.emit(1, header, part.pos, opens_block=True)
            for rule in part.rules:
                if rule.when is None:
                    self.emit(2, f"{rule.points.text} otherwise", rule.pos)
                else:
                    self.emit(2, f"{rule.points.text} if {self.expr(rule.when)}", rule.pos)

    def playbook(self, playbook: ast.Playbook) -> None:
        title = f" {self.text(playbook.title)}" if playbook.title is not None else ""
        self.emit(0, f"playbook {playbook.id.text}{title}:", playbook.pos, opens_block=True)
        for item in playbook.items:
            if isinstance(item, ast.TriggerClause):
                self.emit(1, f"trigger: {self.trigger(item.trigger)}", item.pos)
            elif isinstance(item, ast.AudienceClause):
                self.emit(1, f"audience: {self.expr(item.condition)}", item.pos)
            elif isinstance(item, ast.ExitClause | ast.GoalClause):
                keyword = "exit" if isinstance(item, ast.ExitClause) else "goal"
                self.emit(1, f"{keyword}: {self.alternatives(item.alternatives)}", item.pos)
            elif isinstance(item, ast.ReentryClause):
                after = f"after {duration_text(item.after)}" if item.after is not None else "never"
                self.emit(1, f"reentry: {after}", item.pos)
            elif isinstance(item, ast.SendPolicyClause):
                self.emit(1, f"send policy: {item.mode.text}", item.pos)
            elif isinstance(item, ast.PriorityClause):
                self.emit(1, f"priority: {item.level.text}", item.pos)
            elif isinstance(item, ast.DayStep):
                at = f" at {item.at.value}" if item.at is not None else ""
                self.emit(1, f"day {item.day}{at}:", item.pos, opens_block=True)
                self.block(item.body, 2)
            elif isinstance(item, ast.DateStep):
                self.emit(1, f"{_date_offset(item.amount, item.unit, item.direction, item.field, item.at)}:",
                          item.pos, opens_block=True)
                self.block(item.body, 2)
            else:
                self.statement(item, 1)

    def alternatives(self, alternatives: Iterable[ast.EventAlternative | ast.Expr]) -> str:
        return " or ".join(
            self.event_alternative(alt) if isinstance(alt, ast.EventAlternative) else self.expr(alt)
            for alt in alternatives
        )

    def event_alternative(self, alternative: ast.EventAlternative) -> str:
        since = " since entry" if alternative.since_entry else ""
        where = f" where {self.expr(alternative.where)}" if alternative.where is not None else ""
        return f"event {alternative.event.text}{since}{where}"

    def trigger(self, trigger: ast.Trigger) -> str:
        if isinstance(trigger, ast.EventTrigger):
            where = f" where {self.expr(trigger.where)}" if trigger.where is not None else ""
            return f"event {trigger.event.text}{where}"
        if isinstance(trigger, ast.BecomesTrigger):
            return f"{trigger.subject.text} becomes {self.trigger_value(trigger.value)}"
        if isinstance(trigger, ast.ChangeTrigger):
            text = f"{trigger.field.text} changes"
            if trigger.before is not None:
                text += f" from {self.trigger_value(trigger.before)}"
            if trigger.after is not None:
                text += f" to {self.trigger_value(trigger.after)}"
            return text
        if isinstance(trigger, ast.DateTrigger):
            return _date_offset(trigger.amount, trigger.unit, trigger.direction, trigger.field, trigger.at)
        if isinstance(trigger, ast.ScheduleTrigger):
            text = f"every {trigger.every}"
            if trigger.day is not None:
                text += f" on day {trigger.day}"
            elif trigger.weekday is not None:
                text += f" on {trigger.weekday.text}"
            if trigger.at is not None:
                text += f" at {trigger.at.value}"
            return text
        if isinstance(trigger, ast.TrendTrigger):
            weeks = "week" if trigger.weeks == 1 else "weeks"
            return (f"{trigger.metric.text} {trigger.direction} {trigger.percent.text} week over week "
                    f"for {trigger.weeks} {weeks}")
        return self.expr(trigger.condition)

    def trigger_value(self, value: ast.TriggerValue) -> str:
        return value.text if isinstance(value, ast.Name) else self.expr(value)

    # ------------------------------------------------------------------ statements

    def block(self, body: Iterable[ast.Statement], depth: int) -> None:
        for statement in body:
            self.statement(statement, depth)

    def statement(self, node: ast.Statement, depth: int) -> None:
        if isinstance(node, ast.If):
            keyword = "unless" if node.negated else "if"
            self.emit(depth, f"{keyword} {self.expr(node.condition)}:", node.pos, opens_block=True)
            self.block(node.then, depth + 1)
            if node.otherwise or node.else_pos is not None:
                where = node.else_pos or node.otherwise[0].pos
                self.emit(depth, "else:", where, opens_block=True)
                self.block(node.otherwise, depth + 1)
        elif isinstance(node, ast.Split):
            shares = " / ".join(share.text for share in node.shares)
            record = f" record arm as {node.record_as.text}" if node.record_as is not None else ""
            self.emit(depth, f"split {shares}{record}:", node.pos, opens_block=True)
            for arm in node.arms:
                self.emit(depth + 1, f"{arm.label.text}:", arm.pos, opens_block=True)
                self.block(arm.body, depth + 2)
        else:
            self.emit(depth, self.simple(node), node.pos)

    def simple(self, node: ast.Statement) -> str:
        if isinstance(node, ast.SendEmail):
            to = f" to {', '.join(path.text for path in (node.to, *node.also_to))}" if node.to is not None else ""
            to += f" from {node.sender.text}" if node.sender is not None else ""
            if node.review is not None:
                then = f" then {node.review.then.text}" if node.review.then is not None else ""
                to += f" review by {node.review.by.text} within {duration_text(node.review.within)}{then}"
            return f"send email {node.template.text}{to}"
        if isinstance(node, ast.SendInApp):
            return f"send in_app {node.template.text}"
        if isinstance(node, ast.StartPlan):
            return f"start plan {node.plan.text}"
        if isinstance(node, ast.CreateTask):
            title = self.text(node.title) if isinstance(node.title, ast.TextLit) else node.title.text
            options = "".join(f" {text}" for _pos, text in self.task_options(node))
            rule = f" by {node.assignment.text.replace('_', ' ')}" if node.assignment is not None else ""
            return f"create task {title} for {node.owner.text}{rule}{options}"
        if isinstance(node, ast.SetField):
            return f"set {node.field.text} = {self.expr(node.value)}"
        if isinstance(node, ast.UpdateScore):
            return f"update score {node.score.text}"
        if isinstance(node, ast.Do):
            params = "".join(f" {p.name.text}={self.expr(p.value)}" for p in node.params)
            attempts = "" if node.attempts is None else \
                f" at most {node.attempts} attempt{'' if node.attempts == 1 else 's'}"
            failed = "".join(f" else: {self.simple(statement)}" for statement in node.otherwise)
            return f"do {node.activity.text}{params}{attempts}{failed}"
        if isinstance(node, ast.Wait):
            return f"wait {duration_text(node.duration)}"
        if isinstance(node, ast.WaitUntil):
            alternatives = [self.event_alternative(event) for event in node.events]
            if node.task_done:
                alternatives.append("task done")
            alternatives.extend(self.expr(condition) for condition in node.conditions)
            alternatives.append(duration_text(node.timeout))
            return "wait until " + " or ".join(alternatives)
        raise TypeError(f"cannot print {type(node).__name__}")


def _type_text(type_ref: ast.TypeRef) -> str:
    if isinstance(type_ref, ast.EnumType):
        return "one of " + ", ".join(value.text for value in type_ref.values)
    return type_ref.name.text


def _policy_text(rule: ast.PolicyItem) -> str:
    if isinstance(rule, ast.QuietHours):
        return f"quiet hours {rule.start.value} to {rule.end.value} account time"
    if isinstance(rule, ast.SendWindow):
        days = "on weekdays" if rule.days == "weekdays" else "every day"
        return f"send {days} {rule.start.value} to {rule.end.value} account time"
    if isinstance(rule, ast.Holidays):
        return f"holidays from {rule.field.text}"
    if isinstance(rule, ast.OverCap):
        return f"over the cap: {rule.mode.text}"
    if rule.channel == "email":
        channel = "email" if rule.count == 1 else "emails"
    else:
        channel = "in_app messages"
    return f"at most {rule.count} {channel} per account per {duration_text(rule.per)}"


def _date_offset(amount: int, unit: str, direction: str, field: ast.Name, at: ast.TimeOfDay | None) -> str:
    singular = unit.removesuffix("s")
    unit_text = singular if amount == 1 else singular + "s"
    at_text = f" at {at.value}" if at is not None else ""
    return f"{amount} {unit_text} {direction} {field.text}{at_text}"
