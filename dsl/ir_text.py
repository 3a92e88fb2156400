"""The IR written back in the playbook language's words: expressions, conditions, triggers,
durations and statements, for messages, the decision log, the story and the statistics.

`describe(Compare("<", FieldRef("feature_adoption"), Literal_(percent, 20)))` is
`feature_adoption < 20%`. Parentheses appear only where precedence needs them. The text parses
back to the same IR (`tests/dsl/test_ir_text_round_trip.py`), with one exception: a money amount
is written as its number (`15k` is shown `15000`), which reads back as a plain number.

Only `dsl.ir` is needed: the engine prints with this module without loading the parser.
"""

from __future__ import annotations

import json

from dsl import ir
from dsl.wording import COUNT_WORDS, WEEKDAYS, duration_words, number_words

__all__ = ["describe", "describe_duration", "describe_event_match", "describe_number", "describe_policy",
           "describe_send_window", "describe_statement", "describe_step", "describe_trigger", "describe_value",
           "describe_wait_for"]

# Binding strength, loosest first: or, and, not, comparison, + -, * / and `of`, atoms
# (the grammar's precedence, `dsl/grammar.lark`).
_OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _ATOM = range(7)


def describe_number(value: float | int) -> str:
    """`20`, `4.2`: integral floats without their `.0`."""
    return number_words(value)


def describe_duration(duration: ir.Duration) -> str:
    """`30m`, `48h`, `1 day`, `2 days`, `3 weeks`, `2 business days`."""
    return duration_words(abs(duration.amount), duration.unit)


# --------------------------------------------------------------------------- expressions


def _literal(node: ir.Literal_) -> str:
    value = node.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if node.type == "percent" and isinstance(value, int | float):
        return f"{describe_number(value)}%"
    if isinstance(value, int | float):
        return describe_number(value)
    if value is None:
        return "null"
    if node.type in ("text", "enum"):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _strength(node: ir.Expr) -> int:
    if isinstance(node, ir.Logic):
        return _OR if node.op == "or" else _AND
    if isinstance(node, ir.Not):
        return _COMPARE if isinstance(node.arg, ir.BandIs) else _NOT
    if isinstance(node, ir.Compare | ir.BandIs):
        return _COMPARE
    if isinstance(node, ir.Arith):
        return _SUM if node.op in ("+", "-") else _PRODUCT
    if isinstance(node, ir.PercentOf):
        return _PRODUCT
    return _ATOM


def _wrap(node: ir.Expr, at_least: int) -> str:
    text = describe(node)
    return f"({text})" if _strength(node) < at_least else text


def _seen(node: ir.Seen) -> str:
    text = f"seen {node.event}"
    if node.within is not None:
        text += f" within {describe_duration(node.within)}"
    if node.older_than is not None:
        text += f" more than {describe_duration(node.older_than)} ago"
    if node.since_entry:
        text += " since entry"
    return text


def _percent_of(node: ir.PercentOf) -> str:
    percent = node.percent
    if isinstance(percent, ir.Literal_) and isinstance(percent.value, int | float):
        share = f"{describe_number(percent.value)}%"
    else:
        share = _wrap(percent, _ATOM)
    return f"{share} of {_wrap(node.of, _ATOM)}"


def describe(expr: ir.Expr) -> str:
    """`expr` in playbook syntax."""
    node = expr
    if isinstance(node, ir.Literal_):
        return _literal(node)
    if isinstance(node, ir.FieldRef):
        return ".".join(node.path)
    if isinstance(node, ir.EventField):
        return f"event.data.{node.name}" if node.prefixed else node.name
    if isinstance(node, ir.ScoreRef):
        return node.score if node.part == "value" else f"{node.score}.band"
    if isinstance(node, ir.MetricRef):
        return node.metric
    if isinstance(node, ir.AudienceRef):
        return node.name
    if isinstance(node, ir.TaskState):
        return f"task {node.state}"
    if isinstance(node, ir.BandIs):
        return f"{node.score} is {node.band}"
    if isinstance(node, ir.Seen):
        return _seen(node)
    if isinstance(node, ir.Compare):
        return f"{_wrap(node.left, _SUM)} {node.op} {_wrap(node.right, _SUM)}"
    if isinstance(node, ir.Arith):
        level = _strength(node)
        # left-associative: the right operand needs parentheses at the same level
        return f"{_wrap(node.left, level)} {node.op} {_wrap(node.right, level + 1)}"
    if isinstance(node, ir.PercentOf):
        return _percent_of(node)
    if isinstance(node, ir.Logic):
        level = _strength(node)
        return f" {node.op} ".join(_wrap(arg, level + 1) for arg in node.args)
    if isinstance(node, ir.Not):
        if isinstance(node.arg, ir.BandIs):
            return f"{node.arg.score} is not {node.arg.band}"
        return f"not {_wrap(node.arg, _NOT)}"
    if isinstance(node, ir.CountTrue):
        return f"{COUNT_WORDS[node.op]} {node.count} of ({', '.join(describe(arg) for arg in node.args)})"
    raise TypeError(f"not an expression: {node!r}")


# --------------------------------------------------------------------------- triggers


def _offset(days: int, field: str) -> str:
    if days == 0:
        return f"on {field}"
    unit = "day" if abs(days) == 1 else "days"
    return f"{abs(days)} {unit} {'before' if days < 0 else 'after'} {field}"


def _schedule(trigger: ir.ScheduleTrigger) -> str:
    if trigger.every == "week":
        text = f"every week on {WEEKDAYS[min(max(trigger.day, 1), 7) - 1]}"
        return text if trigger.at == "10:00" else f"{text} at {trigger.at}"
    text = f"every {trigger.every}"
    if trigger.day != 1:
        text += f" on day {trigger.day}"
    return text if trigger.at == "10:00" else f"{text} at {trigger.at}"


def describe_value(value: ir.Literal_) -> str:
    """A field trigger's value as written: a value of a list bare (`enterprise`), others as literals."""
    if value.type == "enum" and isinstance(value.value, str) and value.value.isidentifier():
        return value.value
    return _literal(value)


def describe_step(step: ir.Step) -> str:
    """A step's head as written, without its colon: `day 7`, `day 3 at 10:00`, `60 days before renewal_date`."""
    if step.anchor == "entry":
        return step.name if step.day_at is None else f"{step.name} at {step.day_at}"
    return step.name if step.at == "09:00" else f"{step.name} at {step.at}"


def describe_trigger(trigger: ir.Trigger) -> str:
    """The trigger as written: `event signed`, `health becomes red`, `90 days before renewal_date`."""
    if isinstance(trigger, ir.EventTrigger):
        where = f" where {describe(trigger.where)}" if trigger.where is not None else ""
        return f"event {trigger.event}{where}"
    if isinstance(trigger, ir.ConditionTrigger):
        condition = trigger.condition
        if isinstance(condition, ir.BandIs):
            return f"{condition.score} becomes {condition.band}"
        if trigger.becomes and isinstance(condition, ir.Compare) and isinstance(condition.left, ir.FieldRef) \
                and isinstance(condition.right, ir.Literal_):
            return f"{'.'.join(condition.left.path)} becomes {describe_value(condition.right)}"
        return describe(condition)
    if isinstance(trigger, ir.ChangeTrigger):
        text = f"{trigger.field} changes"
        if trigger.before is not None:
            text += f" from {describe_value(trigger.before)}"
        return text if trigger.after is None else f"{text} to {describe_value(trigger.after)}"
    if isinstance(trigger, ir.DateTrigger):
        at = "" if trigger.at == "09:00" else f" at {trigger.at}"
        return _offset(trigger.offset_days, trigger.field) + at
    if isinstance(trigger, ir.ScheduleTrigger):
        return _schedule(trigger)
    percent = describe_number(trigger.percent)
    return f"{trigger.metric} {trigger.direction} {percent}% week over week for {trigger.weeks} weeks"


# --------------------------------------------------------------------------- statements


def _create_task(statement: ir.CreateTask) -> str:
    written = statement.template or f'"{statement.title}"'
    text = f'create task {written} for {".".join(statement.owner)}'
    if statement.assign is not None:
        text += f" by {statement.assign.replace('_', ' ')}"
    if statement.task_type is not None:
        text += f" type {statement.task_type}"
    if statement.reason is not None:
        text += f" reason {statement.reason}"
    if statement.due is not None:
        text += f" due {describe_duration(statement.due)}"
    if statement.escalation is not None:
        escalation = statement.escalation
        text += f" escalate to {'.'.join(escalation.to)} after {describe_duration(escalation.after)}"
    return text if statement.priority == "normal" else f"{text} priority {statement.priority}"


def describe_event_match(event: str, where: ir.Expr | None = None, since_entry: bool = False) -> str:
    """An event as an exit, a goal or a wait names it: `event nps_response where score >= 7`."""
    since = " since entry" if since_entry else ""
    return f"event {event}{since}" + (f" where {_alternative(where)}" if where is not None else "")


def _alternative(expr: ir.Expr) -> str:
    """A condition written as one alternative among others joined by `or`: grouped when it is an `or`."""
    text = describe(expr)
    return f"({text})" if isinstance(expr, ir.Logic) and expr.op == "or" else text


def describe_wait_for(statement: ir.WaitUntil) -> str:
    """What a `wait until` waits for, without its time limit."""
    alternatives = [describe_event_match(event, statement.where.get(event), event in statement.since_entry)
                    for event in statement.events]
    if statement.task_done:
        alternatives.append("task done")
    if isinstance(statement.condition, ir.Logic) and statement.condition.op == "or":
        alternatives.extend(_alternative(arg) for arg in statement.condition.args)
    elif statement.condition is not None:
        alternatives.append(describe(statement.condition))
    return " or ".join(alternatives)


def _wait_until(statement: ir.WaitUntil) -> str:
    return f"wait until {describe_wait_for(statement)} or {describe_duration(statement.timeout)}"


def describe_statement(statement: ir.Statement) -> str:
    """The statement as written in the playbook (its first line for an `if` or a `split`; the
    activity without its parameters for a `do`)."""
    if isinstance(statement, ir.SendEmail):
        recipients = ", ".join(".".join(path) for path in (statement.to, *statement.also_to))
        sender = f" from {'.'.join(statement.sender)}" if statement.sender else ""
        if statement.review is not None:
            review = statement.review
            sender += f" review by {'.'.join(review.by)} within {describe_duration(review.within)} then {review.then}"
        return f"send email {statement.template} to {recipients}{sender}"
    if isinstance(statement, ir.SendInApp):
        return f"send in_app {statement.template}"
    if isinstance(statement, ir.StartPlan):
        return f"start plan {statement.plan.name}"
    if isinstance(statement, ir.CreateTask):
        return _create_task(statement)
    if isinstance(statement, ir.SetField):
        return f"set {statement.field} = {describe(statement.value)}"
    if isinstance(statement, ir.UpdateScore):
        return f"update score {statement.score}"
    if isinstance(statement, ir.Do):
        failed = "".join(f" else: {describe_statement(fallback)}" for fallback in statement.otherwise)
        attempts = "" if statement.attempts is None else f" at most {statement.attempts} attempts"
        return f"do {statement.activity}{attempts}{failed}"
    if isinstance(statement, ir.Wait):
        return f"wait {describe_duration(statement.duration)}"
    if isinstance(statement, ir.WaitUntil):
        return _wait_until(statement)
    if isinstance(statement, ir.If):
        if statement.negated and isinstance(statement.condition, ir.Not):
            return f"unless {describe(statement.condition.arg)}"
        return f"if {describe(statement.condition)}"
    record = f" record arm as {statement.record_as}" if statement.record_as is not None else ""
    return "split " + " / ".join(f"{arm.percent:g}%" for arm in statement.arms) + record


# --------------------------------------------------------------------------- send policies


def describe_send_window(window: ir.SendWindow) -> str:
    """`send on weekdays 09:00 to 17:00 account time`."""
    days = "on weekdays" if window.days == "weekdays" else "every day"
    return f"send {days} {window.start} to {window.end} account time"


def _cap(cap: ir.FrequencyCap) -> str:
    channel = ("email" if cap.count == 1 else "emails") if cap.channel == "email" else "in_app messages"
    return f"at most {cap.count} {channel} per account per {describe_duration(cap.per)}"


def describe_policy(policy: ir.Policy) -> list[str]:
    """The rules of a folder's policy, one line each, as a `policy:` block writes them."""
    lines: list[str] = []
    if policy.quiet_hours is not None:
        lines.append(f"quiet hours {policy.quiet_hours.start} to {policy.quiet_hours.end} account time")
    if policy.window is not None:
        lines.append(describe_send_window(policy.window))
        if policy.window.holidays is not None:
            lines.append(f"holidays from {policy.window.holidays}")
    lines.extend(_cap(cap) for cap in policy.caps)
    if policy.over_cap != "drop":
        lines.append(f"over the cap: {policy.over_cap}")
    return lines
