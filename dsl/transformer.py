"""From Lark's parse tree to the typed syntax tree of `dsl/ast.py`.

One method per grammar rule, each given the rule's position and its meaningful children. The
methods run inside the LALR parser, as it reduces each rule (Lark's `transformer=` option): no
parse tree is built and nothing recurses, so the tree of a file costs one pass. Small
rules that only carry a keyword (`direction`, `period`, …) return plain values; `block` returns
a tuple of statements. A problem found here (a fraction where a whole number is needed, a `wait
until` without a time limit) is raised as a `DiagnosticError` naming its place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Literal, NoReturn

from lark import Token

from dsl import ast
from dsl.diagnostics import Diagnostic, DiagnosticError, Span

__all__ = ["ToAst"]

_ESCAPE = re.compile(r'\\(["\\])')
_UNITS: dict[str, ast.DurationUnit] = {
    "minute": "minutes", "minutes": "minutes", "m": "minutes",
    "hour": "hours", "hours": "hours", "h": "hours",
    "day": "days", "days": "days", "d": "days",
    "week": "weeks", "weeks": "weeks", "w": "weeks",
    "business day": "business_days", "business days": "business_days",
}
_SCALE = {"k": 1_000, "m": 1_000_000}


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


class _Word(str):
    """A keyword as written, with its place."""

    pos: ast.Pos

    @classmethod
    def at(cls, pos: ast.Pos, text: str) -> _Word:
        word = cls(text)
        word.pos = pos
        return word


class _Marker:
    """An intermediate value passed from a small rule to its parent."""

    def __init__(self, kind: str, pos: ast.Pos, value: Any = None) -> None:
        self.kind = kind
        self.pos = pos
        self.value = value


class ToAst:
    """Builds `ast` nodes for one file, rule by rule, while the LALR parser reduces.

    Lark calls one attribute per rule with the rule's children, every token kept (the parser is
    built with `keep_all_tokens`); `callbacks()` gives those attributes, each computing the rule's
    position from its first and last child and passing on only the children that carry meaning.
    `source_path` goes into every position: set it before each parse.
    """

    def __init__(self, path: str = "<string>") -> None:
        self.source_path = path
        for name, method in _handlers().items():
            setattr(self, f"{name}", _Callback(self, method, keep_keywords=name in _KEYWORD_RULES))

    # ------------------------------------------------------------------ places and errors

    def span_of(self, children: list[Any]) -> ast.Pos:
        """From the start of the first child that takes space to the end of the last one."""
        line = column = end_line = end_column = 0
        for child in children:
            if isinstance(child, Token):
                if child.type not in _LAYOUT:
                    line, column = child.line or 1, child.column or 1
                    break
            else:
                place = _place(child, 0)
                if place is not None:
                    line, column = place.line, place.column
                    break
        for child in reversed(children):
            if isinstance(child, Token):
                if child.type not in _LAYOUT:
                    end_line, end_column = child.end_line or line, child.end_column or column
                    break
            else:
                place = _place(child, -1)
                if place is not None:
                    end_line, end_column = place.end_line, place.end_column
                    break
        if not line:
            return ast.Pos(self.source_path, 1, 1, 1, 1)
        return ast.Pos(self.source_path, line, column, end_line, end_column)

    def name_of(self, token: Token) -> ast.Name:
        return ast.Name(self._tpos(token), str(token.value))

    def _tpos(self, token: Token) -> ast.Pos:
        line, column = token.line or 1, token.column or 1
        return ast.Pos(self.source_path, line, column, token.end_line or line, token.end_column or column)

    def _fail(self, pos: ast.Pos, message: str) -> NoReturn:
        raise DiagnosticError(Diagnostic(Span(pos.path, pos.line, pos.column, pos.span().length), message))

    def _whole(self, token: Token, what: str) -> int:
        if "." in token.value:
            self._fail(self._tpos(token), f"expected a whole number of {what}, not {token.value}")
        return int(token.value)

    # ------------------------------------------------------------------ file

    def start(self, pos: ast.Pos, items: list[ast.FileItem]) -> ast.File:
        whole = ast.Pos(self.source_path, 1, 1, pos.end_line, pos.end_column)
        return ast.File(pos=whole, path=self.source_path, items=tuple(items))

    # ------------------------------------------------------------------ names and literals

    def path(self, pos: ast.Pos, names: list[ast.Name]) -> ast.Path:
        return ast.Path(pos, tuple(names))

    def ref(self, pos: ast.Pos, names: list[ast.Name]) -> ast.Ref:
        return ast.Ref(pos, ast.Path(pos, tuple(names)))

    param_ref = ref

    def number(self, pos: ast.Pos, children: list[Token]) -> ast.NumberLit:
        text = str(children[0].value)
        return ast.NumberLit(pos, _number(text), text)

    def money(self, pos: ast.Pos, children: list[Token]) -> ast.MoneyLit:
        text = str(children[0].value)
        amount = _number(text[:-1]) * _SCALE[text[-1]]
        value = int(amount) if float(amount).is_integer() else amount
        return ast.MoneyLit(pos, value, text)

    def percent(self, pos: ast.Pos, children: list[Token]) -> ast.PercentLit:
        return self._percent(children[0])

    def _percent(self, token: Token) -> ast.PercentLit:
        text = str(token.value)
        return ast.PercentLit(self._tpos(token), _number(text[:-1]), text)

    def text(self, pos: ast.Pos, children: list[Token]) -> ast.TextLit:
        raw = str(children[0].value)
        return ast.TextLit(pos, _ESCAPE.sub(r"\1", raw[1:-1]))

    def boolean(self, pos: ast.Pos, children: list[Token]) -> ast.BoolLit:
        return ast.BoolLit(pos, children[0].value == "true")

    def date(self, pos: ast.Pos, children: list[Token]) -> ast.DateLit:
        return ast.DateLit(pos, str(children[0].value))

    def time(self, pos: ast.Pos, children: list[Token]) -> ast.TimeOfDay:
        token = children[0]
        hours, minutes = (int(part) for part in str(token.value).split(":"))
        if hours > 23 or minutes > 59:
            self._fail(self._tpos(token), f"'{token.value}' is not a time of day (expected 00:00 to 23:59)")
        return ast.TimeOfDay(self._tpos(token), f"{hours:02d}:{minutes:02d}")

    def duration(self, pos: ast.Pos, children: list[Any]) -> ast.Duration:
        pos = pos
        first: Token = children[0]
        if first.type == "SHORT_DURATION":
            text = str(first.value)
            return ast.Duration(pos, int(text[:-1]), _UNITS[text[-1]], text)
        unit = str(children[1])
        amount = self._whole(first, unit.replace("business ", ""))
        return ast.Duration(pos, amount, _UNITS[unit], f"{first.value} {unit}")

    def duration_unit(self, pos: ast.Pos, children: list[Token]) -> _Word:
        return _Word.at(pos, " ".join(str(token.value) for token in children))

    def _keyword(self, pos: ast.Pos, children: list[Token]) -> _Word:
        return _Word.at(pos, str(children[0].value))

    date_unit = direction = period = trend_direction = _keyword

    def channel(self, pos: ast.Pos, children: list[Token]) -> _Word:
        return _Word.at(pos, "email" if children[0].value.startswith("email") else "in_app")

    def count_op(self, pos: ast.Pos, children: list[Token]) -> _Word:
        return _Word.at(pos, "_".join(str(token.value) for token in children))

    # ------------------------------------------------------------------ expressions

    def expr(self, pos: ast.Pos, args: list[ast.Expr]) -> ast.Logic:
        return ast.Logic(pos, "or", tuple(args))

    def and_expr(self, pos: ast.Pos, args: list[ast.Expr]) -> ast.Logic:
        return ast.Logic(pos, "and", tuple(args))

    def not_(self, pos: ast.Pos, children: list[ast.Expr]) -> ast.Not:
        return ast.Not(pos, children[0])

    def compare(self, pos: ast.Pos, children: list[Any]) -> ast.Compare:
        left, op, right = children
        return ast.Compare(pos, str(op.value), left, right)  # type: ignore[arg-type]

    def is_(self, pos: ast.Pos, children: list[Any]) -> ast.Is:
        return ast.Is(pos, children[0], children[1], negated=False)

    def is_not(self, pos: ast.Pos, children: list[Any]) -> ast.Is:
        return ast.Is(pos, children[0], children[1], negated=True)

    def _fold(self, children: list[Any]) -> ast.Expr:
        result: ast.Expr = children[0]
        for index in range(1, len(children), 2):
            op: Token = children[index]
            right: ast.Expr = children[index + 1]
            start, end = result.pos, right.pos
            pos = ast.Pos(self.source_path, start.line, start.column, end.end_line, end.end_column)
            result = ast.Arith(pos, str(op.value), result, right)  # type: ignore[arg-type]
        return result

    def sum(self, pos: ast.Pos, children: list[Any]) -> ast.Expr:
        return self._fold(children)

    def product(self, pos: ast.Pos, children: list[Any]) -> ast.Expr:
        return self._fold(children)

    def negate(self, pos: ast.Pos, children: list[ast.Expr]) -> ast.Negate:
        return ast.Negate(pos, children[0])

    negative_number = negate

    def percent_of(self, pos: ast.Pos, children: list[Any]) -> ast.PercentOf:
        return ast.PercentOf(pos, self._percent(children[0]), children[1])

    def group(self, pos: ast.Pos, children: list[ast.Expr]) -> ast.Group:
        return ast.Group(pos, children[0])

    def seen(self, pos: ast.Pos, children: list[Any]) -> ast.Seen:
        event: ast.Name = children[0]
        window: _Marker | None = children[1] if len(children) > 1 else None
        if window is None:
            return ast.Seen(pos, event)
        if window.kind == "within":
            return ast.Seen(pos, event, within=window.value)
        return ast.Seen(pos, event, older_than=window.value)

    def within(self, pos: ast.Pos, children: list[ast.Duration]) -> _Marker:
        return _Marker("within", pos, children[0])

    def older_than(self, pos: ast.Pos, children: list[ast.Duration]) -> _Marker:
        return _Marker("older_than", pos, children[0])

    def count_of(self, pos: ast.Pos, children: list[Any]) -> ast.CountOf:
        op = str(children[0])
        count = self._whole(children[1], "conditions")
        return ast.CountOf(pos, op, count, tuple(children[2:]))  # type: ignore[arg-type]

    def task_open(self, pos: ast.Pos, children: list[Any]) -> ast.TaskIs:
        return ast.TaskIs(pos, "open")

    def task_done(self, pos: ast.Pos, children: list[Any]) -> ast.TaskIs:
        return ast.TaskIs(pos, "done")

    # ------------------------------------------------------------------ the account model

    def account_fields(self, pos: ast.Pos, fields: list[ast.FieldDecl]) -> ast.AccountFields:
        return ast.AccountFields(pos, tuple(fields))

    def field_decl(self, pos: ast.Pos, children: list[Any]) -> ast.FieldDecl:
        return ast.FieldDecl(pos, children[0], children[1])

    def named_type(self, pos: ast.Pos, children: list[ast.Name]) -> ast.NamedType:
        return ast.NamedType(pos, children[0])

    def enum_type(self, pos: ast.Pos, values: list[ast.Name]) -> ast.EnumType:
        return ast.EnumType(pos, tuple(values))

    def events(self, pos: ast.Pos, events: list[ast.EventDecl]) -> ast.Events:
        return ast.Events(pos, tuple(events))

    def event_decl(self, pos: ast.Pos, children: list[Any]) -> ast.EventDecl:
        return ast.EventDecl(pos, children[0], tuple(children[1:]))

    def payload_key(self, pos: ast.Pos, children: list[Any]) -> ast.PayloadKey:
        return ast.PayloadKey(pos, children[0], children[1])

    def metric(self, pos: ast.Pos, children: list[Any]) -> ast.Metric:
        return ast.Metric(pos, children[0], children[1], children[2])

    # ------------------------------------------------------------------ score models

    def score(self, pos: ast.Pos, children: list[Any]) -> ast.Score:
        name: ast.Name = children[0]
        rest = children[1:]
        title = rest.pop(0) if rest and isinstance(rest[0], ast.TextLit) else None
        components = tuple(item for item in rest if isinstance(item, ast.Component))
        bands = [item for item in rest if isinstance(item, _Marker)]
        if len(bands) > 1:
            self._fail(bands[1].pos, f"score '{name.text}' already has a 'bands:' block")
        return ast.Score(
            pos,
            name,
            title,
            components,
            bands[0].value if bands else (),
            bands_pos=bands[0].pos if bands else None,
        )

    def component(self, pos: ast.Pos, children: list[Any]) -> ast.Component:
        return ast.Component(pos, children[0], children[1], tuple(children[2:]))

    def rule_if(self, pos: ast.Pos, children: list[Any]) -> ast.PointRule:
        return ast.PointRule(pos, children[0], children[1])

    def rule_otherwise(self, pos: ast.Pos, children: list[Any]) -> ast.PointRule:
        return ast.PointRule(pos, children[0], None)

    def bands(self, pos: ast.Pos, bands: list[ast.Band]) -> _Marker:
        pos = pos
        head = ast.Pos(self.source_path, pos.line, pos.column, pos.line, pos.column + len("bands:"))
        return _Marker("bands", head, tuple(bands))

    def band(self, pos: ast.Pos, children: list[Any]) -> ast.Band:
        low, high = (ast.NumberLit(self._tpos(t), _number(t.value), str(t.value)) for t in children[1:])
        return ast.Band(pos, children[0], low, high)

    # ------------------------------------------------------------------ send policies

    def policy(self, pos: ast.Pos, items: list[ast.PolicyItem]) -> ast.Policy:
        return ast.Policy(pos, tuple(items))

    def quiet_hours(self, pos: ast.Pos, children: list[ast.TimeOfDay]) -> ast.QuietHours:
        return ast.QuietHours(pos, children[0], children[1])

    def frequency_cap(self, pos: ast.Pos, children: list[Any]) -> ast.FrequencyCap:
        count = self._whole(children[0], "messages")
        return ast.FrequencyCap(pos, count, str(children[1]), children[2])  # type: ignore[arg-type]

    # ------------------------------------------------------------------ playbooks

    def playbook(self, pos: ast.Pos, children: list[Any]) -> ast.Playbook:
        name: ast.Name = children[0]
        rest = children[1:]
        title = rest.pop(0) if rest and isinstance(rest[0], ast.TextLit) else None
        return ast.Playbook(pos, name, title, tuple(rest))

    def trigger_clause(self, pos: ast.Pos, children: list[ast.Trigger]) -> ast.TriggerClause:
        return ast.TriggerClause(pos, children[0])

    def audience_clause(self, pos: ast.Pos, children: list[ast.Expr]) -> ast.AudienceClause:
        return ast.AudienceClause(pos, children[0])

    def exit_clause(self, pos: ast.Pos, children: list[Any]) -> ast.ExitClause:
        return ast.ExitClause(pos, tuple(children))

    def goal_clause(self, pos: ast.Pos, children: list[Any]) -> ast.GoalClause:
        return ast.GoalClause(pos, tuple(children))

    def event_alternative(self, pos: ast.Pos, children: list[ast.Name]) -> ast.EventAlternative:
        return ast.EventAlternative(pos, children[0])

    def reentry_never(self, pos: ast.Pos, children: list[Any]) -> ast.ReentryClause:
        return ast.ReentryClause(pos, "never")

    def reentry_after(self, pos: ast.Pos, children: list[ast.Duration]) -> ast.ReentryClause:
        return ast.ReentryClause(pos, "after", children[0])

    # ------------------------------------------------------------------ triggers

    def event_trigger(self, pos: ast.Pos, children: list[Any]) -> ast.EventTrigger:
        where = children[1] if len(children) > 1 else None
        return ast.EventTrigger(pos, children[0], where)

    def becomes_trigger(self, pos: ast.Pos, children: list[ast.Name]) -> ast.BecomesTrigger:
        return ast.BecomesTrigger(pos, children[0], children[1])

    def condition_trigger(self, pos: ast.Pos, children: list[ast.Expr]) -> ast.ConditionTrigger:
        return ast.ConditionTrigger(pos, children[0])

    def date_trigger(self, pos: ast.Pos, children: list[Any]) -> ast.DateTrigger:
        amount, unit, direction, field, *at = children
        return ast.DateTrigger(
            pos, self._whole(amount, unit), _plural(unit), _before_after(direction), field, at[0] if at else None
        )

    def schedule_trigger(self, pos: ast.Pos, children: list[Any]) -> ast.ScheduleTrigger:
        every: str = children[0]
        day: int | None = None
        weekday: ast.Name | None = None
        at: ast.TimeOfDay | None = None
        for child in children[1:]:
            if isinstance(child, ast.TimeOfDay):
                at = child
            elif isinstance(child, ast.Name):
                weekday = child
            else:
                day = child.value
        return ast.ScheduleTrigger(pos, str(every), day, weekday, at)  # type: ignore[arg-type]

    def month_day(self, pos: ast.Pos, children: list[Token]) -> _Marker:
        return _Marker("day", pos, self._whole(children[0], "days"))

    def weekday(self, pos: ast.Pos, children: list[ast.Name]) -> ast.Name:
        return children[0]

    def trend_trigger(self, pos: ast.Pos, children: list[Any]) -> ast.TrendTrigger:
        metric, direction, percent, weeks = children
        return ast.TrendTrigger(
            pos, metric, "down" if direction == "down" else "up", self._percent(percent), self._whole(weeks, "weeks")
        )

    # ------------------------------------------------------------------ steps and blocks

    def day_step(self, pos: ast.Pos, children: list[Any]) -> ast.DayStep:
        return ast.DayStep(pos, self._whole(children[0], "days"), children[1])

    def date_step(self, pos: ast.Pos, children: list[Any]) -> ast.DateStep:
        amount, unit, direction, field, *rest = children
        at = rest[0] if len(rest) == 2 else None
        return ast.DateStep(
            pos, self._whole(amount, unit), _plural(unit), _before_after(direction), field, at, rest[-1]
        )

    def block(self, pos: ast.Pos, statements: list[ast.Statement]) -> tuple[ast.Statement, ...]:
        return tuple(statements)

    # ------------------------------------------------------------------ statements

    def send_email(self, pos: ast.Pos, children: list[Any]) -> ast.SendEmail:
        return ast.SendEmail(pos, children[0], children[1] if len(children) > 1 else None)

    def send_in_app(self, pos: ast.Pos, children: list[ast.Name]) -> ast.SendInApp:
        return ast.SendInApp(pos, children[0])

    def create_task(self, pos: ast.Pos, children: list[Any]) -> ast.CreateTask:
        title, owner, *options = children
        found: dict[str, _Marker] = {}
        for option in options:
            if option.kind in found:
                self._fail(option.pos, f"'{option.kind}' is given twice in this task")
            found[option.kind] = option
        due = found["due"].value if "due" in found else None
        priority = found["priority"].value if "priority" in found else None
        return ast.CreateTask(pos, title, owner, due, priority)

    def due(self, pos: ast.Pos, children: list[ast.Duration]) -> _Marker:
        return _Marker("due", pos, children[0])

    def priority(self, pos: ast.Pos, children: list[ast.Name]) -> _Marker:
        return _Marker("priority", pos, children[0])

    def set_field(self, pos: ast.Pos, children: list[Any]) -> ast.SetField:
        return ast.SetField(pos, children[0], children[1])

    def update_score(self, pos: ast.Pos, children: list[ast.Name]) -> ast.UpdateScore:
        return ast.UpdateScore(pos, children[0])

    def do_statement(self, pos: ast.Pos, children: list[Any]) -> ast.Do:
        return ast.Do(pos, children[0], tuple(children[1:]))

    def do_param(self, pos: ast.Pos, children: list[Any]) -> ast.DoParam:
        return ast.DoParam(pos, children[0], children[1])

    def wait(self, pos: ast.Pos, children: list[ast.Duration]) -> ast.Wait:
        return ast.Wait(pos, children[0])

    def wait_until(self, pos: ast.Pos, children: list[Any]) -> ast.WaitUntil:
        pos = pos
        *alternatives, last = children
        if not isinstance(last, ast.Duration):
            self._fail(last.pos, "expected a time limit at the end, such as 'or 7 days'")
        events: list[ast.Name] = []
        task_done = False
        for alternative in alternatives:
            if isinstance(alternative, ast.Duration):
                self._fail(alternative.pos, "only the last alternative of 'wait until' may be a time limit")
            if alternative.kind == "event":
                events.append(alternative.value)
            else:
                task_done = True
        if not alternatives:
            self._fail(pos, "expected what to wait for before the time limit, such as 'event signed'")
        return ast.WaitUntil(pos, tuple(events), task_done, last)

    def wait_event(self, pos: ast.Pos, children: list[ast.Name]) -> _Marker:
        return _Marker("event", pos, children[0])

    def wait_task(self, pos: ast.Pos, children: list[Any]) -> _Marker:
        return _Marker("task", pos)

    def if_statement(self, pos: ast.Pos, children: list[Any]) -> ast.If:
        return self._if(pos, children, negated=False)

    def unless_statement(self, pos: ast.Pos, children: list[Any]) -> ast.If:
        return self._if(pos, children, negated=True)

    def _if(self, pos: ast.Pos, children: list[Any], negated: bool) -> ast.If:
        condition, then, *rest = children
        otherwise: tuple[ast.Statement, ...] = rest[0].value if rest else ()
        else_pos = rest[0].pos if rest else None
        return ast.If(pos, condition, then, otherwise, negated, else_pos)

    def else_block(self, pos: ast.Pos, children: list[Any]) -> _Marker:
        pos = pos
        head = ast.Pos(self.source_path, pos.line, pos.column, pos.line, pos.column + len("else"))
        return _Marker("else", head, children[0])

    def split_statement(self, pos: ast.Pos, children: list[Any]) -> ast.Split:
        shares = tuple(self._percent(child) for child in children if isinstance(child, Token))
        arms = tuple(child for child in children if isinstance(child, ast.SplitArm))
        return ast.Split(pos, shares, arms)

    def split_arm(self, pos: ast.Pos, children: list[Any]) -> ast.SplitArm:
        return ast.SplitArm(pos, children[0], children[1])


_LAYOUT = frozenset({"_NEWLINE", "_INDENT", "_DEDENT"})
# Terminals whose text matters; every other token is a keyword or punctuation.
_MEANINGFUL = frozenset({"NAME", "NUMBER", "MONEY", "PERCENT", "STRING", "DATE", "TIME_OF_DAY",
                         "SHORT_DURATION", "COMPARE_OP", "ADD_OP", "MUL_OP"})
# Rules whose value is the keyword written (`!rule` in the grammar).
_KEYWORD_RULES = frozenset({"boolean", "channel", "count_op", "date_unit", "direction", "duration_unit",
                            "period", "trend_direction"})
_NOT_RULES = frozenset({"span_of", "name_of"})


class _Callback:
    """One rule's callback: its position and its meaningful children, passed to the method."""

    __slots__ = ("builder", "keep_keywords", "method")

    def __init__(self, builder: ToAst, method: Callable[..., Any], keep_keywords: bool) -> None:
        self.builder = builder
        self.method = method
        self.keep_keywords = keep_keywords

    def __call__(self, children: list[Any]) -> Any:
        pos = self.builder.span_of(children)
        if self.keep_keywords:
            values = [c for c in children if not (isinstance(c, Token) and c.type in _LAYOUT)]
        else:
            values = [
                c if not isinstance(c, Token) else self.builder.name_of(c) if c.type == "NAME" else c
                for c in children
                if not isinstance(c, Token) or c.type in _MEANINGFUL
            ]
        return self.method(self.builder, pos, values)


@lru_cache(maxsize=1)
def _handlers() -> dict[str, Callable[..., Any]]:
    """The method for each rule of the grammar, by rule name."""
    return {
        name: getattr(ToAst, name)
        for name in dir(ToAst)
        if not name.startswith("_") and name not in _NOT_RULES and callable(getattr(ToAst, name))
    }


def _place(child: Any, end: int) -> ast.Pos | None:
    """The position of a rule's value: a node's own, or a block's first or last statement's."""
    if isinstance(child, tuple):
        return _place(child[end], end) if child else None
    place: ast.Pos | None = getattr(child, "pos", None)
    return place


def _before_after(word: str) -> Literal["before", "after"]:
    return "before" if word == "before" else "after"


def _plural(unit: str) -> Literal["days", "weeks"]:
    return "weeks" if unit.startswith("week") else "days"
