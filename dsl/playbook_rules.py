"""Checking a playbook: its id, header clauses, trigger and steps (statements: `statement_rules.py`).

Statements are checked in the order they run: those written directly under the playbook, then
the steps after entry by day, then the steps on date fields by offset.

Rules for steps: a step written twice (`day 7:` twice, or the same date step) is an error; a
step written after one that runs later is a warning (steps run by their time, whatever their
order in the file); statements written directly under the playbook run at entry, so they may not
sit beside a `day 0:` step. A playbook needs a trigger and at least one statement.
"""

from __future__ import annotations

from dsl import ast, ir
from dsl.bounds import MAX_DAYS, HeldBy, check_day, check_duration, earliest_days
from dsl.diagnostics import Span
from dsl.field_trigger_rules import FieldTriggerChecker
from dsl.name_suggestions import with_nearest
from dsl.plugin_catalog import PluginCatalog
from dsl.reporter import Reporter
from dsl.scope import Scope
from dsl.statement_rules import StatementChecker
from dsl.typing_rules import DATES, ExprTyper, Ty, check_time, describe
from dsl.wording import WEEKDAYS

__all__ = ["PlaybookChecker"]


_CLAUSE_WORDS = {
    ast.TriggerClause: "trigger",
    ast.AudienceClause: "audience",
    ast.ExitClause: "exit",
    ast.GoalClause: "goal",
    ast.ReentryClause: "reentry",
    ast.SendPolicyClause: "send policy",
    ast.PriorityClause: "priority",
}
_SEND_POLICIES = ("standard", "transactional")
_PRIORITIES = ("high", "normal", "low")


def step_name(step: ast.Step) -> str:
    at = f" at {step.at.value}" if step.at is not None else ""
    if isinstance(step, ast.DayStep):
        return f"day {step.day}{at}"
    unit = step.unit if step.amount != 1 else step.unit[:-1]
    return f"{step.amount} {unit} {step.direction} {step.field.text}{at}"


def _running_order(step: ast.Step) -> tuple[int, int]:
    """Steps after entry by their day, then steps on date fields by their offset."""
    if isinstance(step, ast.DayStep):
        return (0, step.day)
    return (1, step.days if step.direction == "after" else -step.days)


def _whole_day(days: float) -> int:
    return int(days) if float(days).is_integer() else int(days) + 1


def _day_text(days: float) -> str:
    """`day 14`, or `day 1 plus 12 hours` for a wait in hours."""
    if float(days).is_integer():
        return f"day {int(days)}"
    hours = round((days - int(days)) * 24, 2)
    return f"day {int(days)} plus {hours:g} hours"


def _header_span(pos: ast.Pos, text: str) -> Span:
    """The first line of a block, underlined as far as its header text goes."""
    return Span(pos.path, pos.line, pos.column, max(len(text), 1))


class PlaybookChecker:
    def __init__(self, scope: Scope, typer: ExprTyper, report: Reporter, plugins: PluginCatalog | None) -> None:
        self.scope = scope
        self.typer = typer
        self.report = report
        self.statements = StatementChecker(scope, typer, report, plugins)
        self.field_triggers = FieldTriggerChecker(scope, typer, report)
        self._ids: dict[str, ast.Pos] = {}

    def note_name(self, playbook: ast.Playbook) -> None:
        """Know this playbook's name without checking it (a file `check(only=...)` leaves out)."""
        self._ids.setdefault(playbook.id.text, playbook.id.pos)

    def check(self, playbook: ast.Playbook) -> None:
        pid = playbook.id
        if pid.text in self._ids:
            first = self._ids[pid.text]
            self.report.error(pid.pos, f"playbook '{pid.text}' is declared twice (first at {first.path}:{first.line})",
                              code="duplicate")
        self._ids.setdefault(pid.text, pid.pos)
        self.typer.task_created = False
        self.statements.event_payload = None
        self.typer.trigger_payload, self.typer.trigger_event = self._trigger_payload(playbook)
        self._clauses(playbook)
        if not playbook.steps and not playbook.statements:
            self.report.error(pid.pos, f"playbook '{pid.text}' has no steps: write what it does",
                              code="playbook-structure")
        self.typer.task_created = False
        self.statements.check_all(playbook.statements)
        self._steps(playbook)
        self.typer.task_created = False
        self.typer.trigger_payload, self.typer.trigger_event = None, ""

    # ------------------------------------------------------------------ header

    def _clauses(self, playbook: ast.Playbook) -> None:
        seen: set[str] = set()
        for clause in playbook.clauses:
            word = _CLAUSE_WORDS[type(clause)]
            if word in seen:
                self.report.error(
                    _header_span(clause.pos, word),
                    f"'{word}' is written twice in playbook '{playbook.id.text}'",
                    code="duplicate",
                )
            seen.add(word)
            if isinstance(clause, ast.TriggerClause):
                self._trigger(clause.trigger)
            elif isinstance(clause, ast.AudienceClause):
                self.typer.condition(clause.condition, "'audience'")
            elif isinstance(clause, ast.ExitClause | ast.GoalClause):
                events = [alt for alt in clause.alternatives if isinstance(alt, ast.EventAlternative)]
                self.typer.event_matches(events, f"'{word}'")
                for alternative in clause.alternatives:
                    if not isinstance(alternative, ast.EventAlternative):
                        self.typer.condition(alternative, f"'{word}'")
            elif isinstance(clause, ast.SendPolicyClause):
                self._word(clause.mode, "send policy", _SEND_POLICIES)
            elif isinstance(clause, ast.PriorityClause):
                self._word(clause.level, "priority", _PRIORITIES)
            elif clause.after is not None and clause.after.amount <= 0:
                self.report.error(
                    clause.after.pos,
                    f"'reentry: after {clause.after.text}' is no time: use a positive duration",
                    code="never-happens",
                )
            elif clause.after is not None:
                check_duration(clause.after, self.report, f"'reentry: after {clause.after.text}'")
        if "trigger" not in seen:
            self.report.error(playbook.id.pos, f"playbook '{playbook.id.text}' has no trigger",
                              code="playbook-structure")

    def _word(self, name: ast.Name, clause: str, allowed: tuple[str, ...]) -> None:
        """`send policy: transactional`, `priority: high`: one of a few words."""
        if name.text not in allowed:
            choices = ", ".join(f"'{word}'" for word in allowed)
            message, near = with_nearest(f"{clause}: '{name.text}' is not one of {choices}", name.text, allowed)
            self.report.error(name.pos, message, code="unknown-name", suggestion=near)

    def _trigger_payload(self, playbook: ast.Playbook) -> tuple[dict[str, ir.FieldType], str]:
        """The payload keys `event.data.KEY` reads in this playbook: its triggering event's (none
        when no event starts it, or when that event is unknown: one message says so)."""
        clause = playbook.trigger
        trigger = clause.trigger if clause is not None else None
        if isinstance(trigger, ast.EventTrigger):
            return dict(self.scope.events.get(trigger.event.text, {})), trigger.event.text
        return {}, ""

    def _trigger(self, trigger: ast.Trigger) -> None:
        if isinstance(trigger, ast.EventTrigger):
            known = self.typer.event_name(trigger.event)
            payload = self.scope.events.get(trigger.event.text, {}) if known else None
            self.statements.event_payload = payload
            if trigger.where is not None and payload is not None:
                self.typer.payload, self.typer.event = payload, trigger.event.text
                try:
                    self.typer.condition(trigger.where, "'where'")
                finally:
                    self.typer.payload, self.typer.event = None, ""
            return
        self.statements.event_payload = {}  # no event starts the journey: `event.data` is empty
        if isinstance(trigger, ast.BecomesTrigger):
            self.field_triggers.becomes(trigger)
        elif isinstance(trigger, ast.ChangeTrigger):
            self.field_triggers.changes(trigger)
        elif isinstance(trigger, ast.ConditionTrigger):
            self.typer.condition(trigger.condition, "a condition trigger")
        elif isinstance(trigger, ast.DateTrigger):
            self._date_field(trigger.field, f"'{trigger.direction}'")
            if trigger.at is not None:
                check_time(trigger.at, self.report)
        elif isinstance(trigger, ast.ScheduleTrigger):
            self._schedule(trigger)
        else:
            self._trend(trigger)

    def _date_field(self, name: ast.Name, what: str) -> None:
        declared = self.scope.fields.get(name.text)
        if declared is None:
            known = self.scope.fields_of_type(*DATES) or list(self.scope.fields)
            message, near = with_nearest(f"unknown date field '{name.text}'", name.text, known)
            self.report.error(name.pos, message, code="unknown-name", suggestion=near)
        elif declared.type not in DATES:
            ty = Ty(declared.type)
            self.report.error(name.pos, f"'{name.text}' is {describe(ty)}, not a date: {what} needs a date field",
                              code="wrong-type")

    def _schedule(self, trigger: ast.ScheduleTrigger) -> None:
        if trigger.every == "week":
            if trigger.day is not None:
                self.report.error(trigger.pos, "'every week' takes a weekday: write 'on monday'", code="wrong-type")
            if trigger.weekday is not None and trigger.weekday.text not in WEEKDAYS:
                weekday = trigger.weekday.text
                message, near = with_nearest(f"unknown weekday '{weekday}'", weekday, WEEKDAYS)
                self.report.error(trigger.weekday.pos, message, code="unknown-name", suggestion=near)
        else:
            if trigger.weekday is not None:
                self.report.error(
                    trigger.weekday.pos,
                    f"'every {trigger.every}' takes a day of the month: write 'on day 15'",
                    code="wrong-type",
                )
            if trigger.day is not None and not 1 <= trigger.day <= 28:
                self.report.error(trigger.pos, f"day {trigger.day} is not in every month: use a day from 1 to 28",
                                  code="out-of-range")
        if trigger.at is not None:
            check_time(trigger.at, self.report)

    def _trend(self, trigger: ast.TrendTrigger) -> None:
        name = trigger.metric.text
        if name not in self.scope.metrics:
            if name in self.scope.fields:
                head, code = f"'{name}' is an account field, not a metric: a trend needs a metric", "wrong-type"
            else:
                head, code = f"unknown metric '{name}'", "unknown-name"
            message, near = with_nearest(head, name, self.scope.metrics)
            self.report.error(trigger.metric.pos, message, code=code, suggestion=near)
        if not 0 < trigger.percent.value <= (100 if trigger.direction == "down" else 10_000):
            self.report.error(
                trigger.percent.pos,
                f"a trend {trigger.direction} {trigger.percent.text} can never be seen",
                code="never-happens",
            )
        if trigger.weeks < 1:
            self.report.error(trigger.pos, "a trend needs at least 1 week", code="other-error")

    # ------------------------------------------------------------------ steps

    def _steps(self, playbook: ast.Playbook) -> None:
        written: dict[tuple[object, ...], ast.Step] = {}
        latest: dict[str, tuple[int, ast.Step]] = {}  # anchor -> the latest step so far
        has_entry_statements = bool(playbook.statements)
        for step in playbook.steps:
            name = step_name(step)
            span = _header_span(step.pos, name)
            if isinstance(step, ast.DayStep):
                check_day(step.day, span, self.report)
                if step.at is not None:
                    check_time(step.at, self.report)
                key: tuple[object, ...] = ("day", step.day)
                anchor, when = "entry", step.day
                if step.day == 0 and step.at is None and has_entry_statements:
                    self.report.error(
                        span,
                        "'day 0:' runs at entry, as do the statements written directly "
                        "under the playbook: put them in this step",
                        code="playbook-structure",
                    )
            else:
                self._date_field(step.field, "a date step")
                if step.days > MAX_DAYS:
                    self.report.error(span, f"'{name}' is more than 5 years from {step.field.text}: "
                                            f"a step runs at most {MAX_DAYS} days from its date", code="out-of-range")
                if step.at is not None:
                    check_time(step.at, self.report)
                offset = step.days if step.direction == "after" else -step.days
                key = ("date", step.field.text, offset, step.at.value if step.at else "09:00")
                anchor, when = step.field.text, offset
            if key in written:
                first = written[key].pos
                self.report.error(span, f"step '{name}' is written twice (first at line {first.line})",
                                  code="duplicate")
            else:
                written[key] = step
                before = latest.get(anchor)
                if before is not None and when < before[0]:
                    self.report.warning(
                        span,
                        f"step '{name}' is written after '{step_name(before[1])}' but runs "
                        "before it: steps run by their time, not their order in the file",
                        code="step-order",
                    )
                if before is None or when >= before[0]:
                    latest[anchor] = (when, step)
        self._late_steps(playbook)
        for step in sorted(playbook.steps, key=_running_order):
            self.statements.check_all(step.body)

    def _late_steps(self, playbook: ast.Playbook) -> None:
        """Warn about a day step that a wait before it holds past its day (it runs later than written)."""
        held: HeldBy = earliest_days(playbook.statements)
        cursor, cause = held
        firsts: dict[int, ast.DayStep] = {}  # a step written twice is an error of its own
        for written in playbook.steps:
            if isinstance(written, ast.DayStep) and not (written.day == 0 and playbook.statements):
                firsts.setdefault(written.day, written)
        for step in sorted(firsts.values(), key=lambda s: s.day):
            if cursor > step.day and cause is not None:
                name = step_name(step)
                self.report.warning(
                    _header_span(step.pos, name),
                    f"{name} can only run on {_day_text(cursor)} or later, after 'wait {cause.text}' on line "
                    f"{cause.pos.line}: move the wait or the step, or write 'day {_whole_day(cursor)}:'",
                    code="step-order",
                )
            days, wait = earliest_days(step.body)
            cursor = max(cursor, float(step.day)) + days
            if days > 0:
                cause = wait
