"""From Lark's parse tree to the typed syntax tree of `dsl/ast.py`.

One method per grammar rule, each given the rule's position (`meta`) and its children, called
bottom-up by `ToAst.transform`, which walks the tree with its own stack (no recursion, so deep
nesting cannot overflow Python's stack, and no per-call wrapper as with `v_args`). Small
rules that only carry a keyword (`direction`, `period`, …) return plain values; `block` returns
a tuple of statements. A problem found here (a fraction where a whole number is needed, a `wait
until` without a time limit) is raised as a `DiagnosticError` naming its place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Literal, NoReturn

from lark import Token, Tree
from lark.tree import Meta

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


class _Marker:
    """An intermediate value passed from a small rule to its parent."""

    def __init__(self, kind: str, pos: ast.Pos, value: Any = None) -> None:
        self.kind = kind
        self.pos = pos
        self.value = value


class ToAst:
    """Builds `ast` nodes for one file; `path` goes into every position."""

    def __init__(self, path: str) -> None:
        self.source_path = path

    def transform(self, root: Tree[Token]) -> Any:
        """The value of the root rule, computing every rule's value after its children's."""
        handlers = _handlers()
        stack: list[tuple[Tree[Token], Iterator[Any], list[Any]]] = [(root, iter(root.children), [])]
        while True:
            node, children, values = stack[-1]
            for child in children:
                if isinstance(child, Tree):
                    stack.append((child, iter(child.children), []))
                    break
                values.append(child)
            else:
                stack.pop()
                result = handlers[node.data](self, node.meta, values)
                if not stack:
                    return result
                stack[-1][2].append(result)

    # ------------------------------------------------------------------ places and errors

    def _pos(self, meta: Meta) -> ast.Pos:
        return ast.Pos(self.source_path, meta.line, meta.column, meta.end_line, meta.end_column)

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

    def start(self, meta: Meta, items: list[ast.FileItem]) -> ast.File:
        pos = ast.Pos(self.source_path, 1, 1, meta.end_line if not meta.empty else 1, 1)
        return ast.File(pos=pos, path=self.source_path, items=tuple(items))

    # ------------------------------------------------------------------ names and literals

    def name(self, meta: Meta, children: list[Token]) -> ast.Name:
        token = children[0]
        return ast.Name(self._tpos(token), str(token.value))

    def path(self, meta: Meta, names: list[ast.Name]) -> ast.Path:
        return ast.Path(self._pos(meta), tuple(names))

    def ref(self, meta: Meta, children: list[ast.Path]) -> ast.Ref:
        return ast.Ref(self._pos(meta), children[0])

    def number(self, meta: Meta, children: list[Token]) -> ast.NumberLit:
        text = str(children[0].value)
        return ast.NumberLit(self._pos(meta), _number(text), text)

    def money(self, meta: Meta, children: list[Token]) -> ast.MoneyLit:
        text = str(children[0].value)
        amount = _number(text[:-1]) * _SCALE[text[-1]]
        value = int(amount) if float(amount).is_integer() else amount
        return ast.MoneyLit(self._pos(meta), value, text)

    def percent(self, meta: Meta, children: list[Token]) -> ast.PercentLit:
        return self._percent(children[0])

    def _percent(self, token: Token) -> ast.PercentLit:
        text = str(token.value)
        return ast.PercentLit(self._tpos(token), _number(text[:-1]), text)

    def text(self, meta: Meta, children: list[Token]) -> ast.TextLit:
        raw = str(children[0].value)
        return ast.TextLit(self._pos(meta), _ESCAPE.sub(r"\1", raw[1:-1]))

    def boolean(self, meta: Meta, children: list[Token]) -> ast.BoolLit:
        return ast.BoolLit(self._pos(meta), children[0].value == "true")

    def date(self, meta: Meta, children: list[Token]) -> ast.DateLit:
        return ast.DateLit(self._pos(meta), str(children[0].value))

    def time(self, meta: Meta, children: list[Token]) -> ast.TimeOfDay:
        token = children[0]
        hours, minutes = (int(part) for part in str(token.value).split(":"))
        if hours > 23 or minutes > 59:
            self._fail(self._tpos(token), f"'{token.value}' is not a time of day (expected 00:00 to 23:59)")
        return ast.TimeOfDay(self._tpos(token), f"{hours:02d}:{minutes:02d}")

    def duration(self, meta: Meta, children: list[Any]) -> ast.Duration:
        pos = self._pos(meta)
        first: Token = children[0]
        if first.type == "SHORT_DURATION":
            text = str(first.value)
            return ast.Duration(pos, int(text[:-1]), _UNITS[text[-1]], text)
        unit: str = children[1]
        amount = self._whole(first, unit.replace("business ", ""))
        return ast.Duration(pos, amount, _UNITS[unit], f"{first.value} {unit}")

    def duration_unit(self, meta: Meta, children: list[Token]) -> str:
        return " ".join(str(token.value) for token in children)

    def _keyword(self, meta: Meta, children: list[Token]) -> str:
        return str(children[0].value)

    date_unit = direction = period = trend_direction = _keyword

    def channel(self, meta: Meta, children: list[Token]) -> str:
        return "email" if children[0].value.startswith("email") else "in_app"

    def count_op(self, meta: Meta, children: list[Token]) -> str:
        return "_".join(str(token.value) for token in children)

    # ------------------------------------------------------------------ expressions

    def or_expr(self, meta: Meta, args: list[ast.Expr]) -> ast.Logic:
        return ast.Logic(self._pos(meta), "or", tuple(args))

    def and_expr(self, meta: Meta, args: list[ast.Expr]) -> ast.Logic:
        return ast.Logic(self._pos(meta), "and", tuple(args))

    def not_(self, meta: Meta, children: list[ast.Expr]) -> ast.Not:
        return ast.Not(self._pos(meta), children[0])

    def compare(self, meta: Meta, children: list[Any]) -> ast.Compare:
        left, op, right = children
        return ast.Compare(self._pos(meta), str(op.value), left, right)  # type: ignore[arg-type]

    def is_(self, meta: Meta, children: list[Any]) -> ast.Is:
        return ast.Is(self._pos(meta), children[0], children[1], negated=False)

    def is_not(self, meta: Meta, children: list[Any]) -> ast.Is:
        return ast.Is(self._pos(meta), children[0], children[1], negated=True)

    def _fold(self, children: list[Any]) -> ast.Expr:
        result: ast.Expr = children[0]
        for index in range(1, len(children), 2):
            op: Token = children[index]
            right: ast.Expr = children[index + 1]
            start, end = result.pos, right.pos
            pos = ast.Pos(self.source_path, start.line, start.column, end.end_line, end.end_column)
            result = ast.Arith(pos, str(op.value), result, right)  # type: ignore[arg-type]
        return result

    def sum(self, meta: Meta, children: list[Any]) -> ast.Expr:
        return self._fold(children)

    def product(self, meta: Meta, children: list[Any]) -> ast.Expr:
        return self._fold(children)

    def negate(self, meta: Meta, children: list[ast.Expr]) -> ast.Negate:
        return ast.Negate(self._pos(meta), children[0])

    negative_number = negate

    def percent_of(self, meta: Meta, children: list[Any]) -> ast.PercentOf:
        return ast.PercentOf(self._pos(meta), self._percent(children[0]), children[1])

    def group(self, meta: Meta, children: list[ast.Expr]) -> ast.Group:
        return ast.Group(self._pos(meta), children[0])

    def seen(self, meta: Meta, children: list[Any]) -> ast.Seen:
        event: ast.Name = children[0]
        window: _Marker | None = children[1] if len(children) > 1 else None
        if window is None:
            return ast.Seen(self._pos(meta), event)
        if window.kind == "within":
            return ast.Seen(self._pos(meta), event, within=window.value)
        return ast.Seen(self._pos(meta), event, older_than=window.value)

    def within(self, meta: Meta, children: list[ast.Duration]) -> _Marker:
        return _Marker("within", self._pos(meta), children[0])

    def older_than(self, meta: Meta, children: list[ast.Duration]) -> _Marker:
        return _Marker("older_than", self._pos(meta), children[0])

    def count_of(self, meta: Meta, children: list[Any]) -> ast.CountOf:
        op: str = children[0]
        count = self._whole(children[1], "conditions")
        return ast.CountOf(self._pos(meta), op, count, tuple(children[2:]))  # type: ignore[arg-type]

    def task_open(self, meta: Meta, children: list[Any]) -> ast.TaskIs:
        return ast.TaskIs(self._pos(meta), "open")

    def task_done(self, meta: Meta, children: list[Any]) -> ast.TaskIs:
        return ast.TaskIs(self._pos(meta), "done")

    # ------------------------------------------------------------------ the account model

    def account_fields(self, meta: Meta, fields: list[ast.FieldDecl]) -> ast.AccountFields:
        return ast.AccountFields(self._pos(meta), tuple(fields))

    def field_decl(self, meta: Meta, children: list[Any]) -> ast.FieldDecl:
        return ast.FieldDecl(self._pos(meta), children[0], children[1])

    def named_type(self, meta: Meta, children: list[ast.Name]) -> ast.NamedType:
        return ast.NamedType(self._pos(meta), children[0])

    def enum_type(self, meta: Meta, values: list[ast.Name]) -> ast.EnumType:
        return ast.EnumType(self._pos(meta), tuple(values))

    def events(self, meta: Meta, events: list[ast.EventDecl]) -> ast.Events:
        return ast.Events(self._pos(meta), tuple(events))

    def event_decl(self, meta: Meta, children: list[Any]) -> ast.EventDecl:
        return ast.EventDecl(self._pos(meta), children[0], tuple(children[1:]))

    def payload_key(self, meta: Meta, children: list[Any]) -> ast.PayloadKey:
        return ast.PayloadKey(self._pos(meta), children[0], children[1])

    def metric(self, meta: Meta, children: list[Any]) -> ast.Metric:
        return ast.Metric(self._pos(meta), children[0], children[1], children[2])

    # ------------------------------------------------------------------ score models

    def score(self, meta: Meta, children: list[Any]) -> ast.Score:
        name: ast.Name = children[0]
        rest = children[1:]
        title = rest.pop(0) if rest and isinstance(rest[0], ast.TextLit) else None
        components = tuple(item for item in rest if isinstance(item, ast.Component))
        bands = [item for item in rest if isinstance(item, _Marker)]
        if len(bands) > 1:
            self._fail(bands[1].pos, f"score '{name.text}' already has a 'bands:' block")
        return ast.Score(
            self._pos(meta),
            name,
            title,
            components,
            bands[0].value if bands else (),
            bands_pos=bands[0].pos if bands else None,
        )

    def component(self, meta: Meta, children: list[Any]) -> ast.Component:
        return ast.Component(self._pos(meta), children[0], children[1], tuple(children[2:]))

    def rule_if(self, meta: Meta, children: list[Any]) -> ast.PointRule:
        return ast.PointRule(self._pos(meta), children[0], children[1])

    def rule_otherwise(self, meta: Meta, children: list[Any]) -> ast.PointRule:
        return ast.PointRule(self._pos(meta), children[0], None)

    def bands(self, meta: Meta, bands: list[ast.Band]) -> _Marker:
        pos = self._pos(meta)
        head = ast.Pos(self.source_path, pos.line, pos.column, pos.line, pos.column + len("bands:"))
        return _Marker("bands", head, tuple(bands))

    def band(self, meta: Meta, children: list[Any]) -> ast.Band:
        return ast.Band(self._pos(meta), children[0], children[1], children[2])

    # ------------------------------------------------------------------ send policies

    def policy(self, meta: Meta, items: list[ast.PolicyItem]) -> ast.Policy:
        return ast.Policy(self._pos(meta), tuple(items))

    def quiet_hours(self, meta: Meta, children: list[ast.TimeOfDay]) -> ast.QuietHours:
        return ast.QuietHours(self._pos(meta), children[0], children[1])

    def frequency_cap(self, meta: Meta, children: list[Any]) -> ast.FrequencyCap:
        count = self._whole(children[0], "messages")
        return ast.FrequencyCap(self._pos(meta), count, children[1], children[2])

    # ------------------------------------------------------------------ playbooks

    def playbook(self, meta: Meta, children: list[Any]) -> ast.Playbook:
        name: ast.Name = children[0]
        rest = children[1:]
        title = rest.pop(0) if rest and isinstance(rest[0], ast.TextLit) else None
        return ast.Playbook(self._pos(meta), name, title, tuple(rest))

    def trigger_clause(self, meta: Meta, children: list[ast.Trigger]) -> ast.TriggerClause:
        return ast.TriggerClause(self._pos(meta), children[0])

    def audience_clause(self, meta: Meta, children: list[ast.Expr]) -> ast.AudienceClause:
        return ast.AudienceClause(self._pos(meta), children[0])

    def exit_clause(self, meta: Meta, children: list[Any]) -> ast.ExitClause:
        return ast.ExitClause(self._pos(meta), tuple(children))

    def goal_clause(self, meta: Meta, children: list[Any]) -> ast.GoalClause:
        return ast.GoalClause(self._pos(meta), tuple(children))

    def event_alternative(self, meta: Meta, children: list[ast.Name]) -> ast.EventAlternative:
        return ast.EventAlternative(self._pos(meta), children[0])

    def reentry_never(self, meta: Meta, children: list[Any]) -> ast.ReentryClause:
        return ast.ReentryClause(self._pos(meta), "never")

    def reentry_after(self, meta: Meta, children: list[ast.Duration]) -> ast.ReentryClause:
        return ast.ReentryClause(self._pos(meta), "after", children[0])

    # ------------------------------------------------------------------ triggers

    def event_trigger(self, meta: Meta, children: list[Any]) -> ast.EventTrigger:
        where = children[1] if len(children) > 1 else None
        return ast.EventTrigger(self._pos(meta), children[0], where)

    def becomes_trigger(self, meta: Meta, children: list[ast.Name]) -> ast.BecomesTrigger:
        return ast.BecomesTrigger(self._pos(meta), children[0], children[1])

    def condition_trigger(self, meta: Meta, children: list[ast.Expr]) -> ast.ConditionTrigger:
        return ast.ConditionTrigger(self._pos(meta), children[0])

    def date_trigger(self, meta: Meta, children: list[Any]) -> ast.DateTrigger:
        amount, unit, direction, field, *at = children
        return ast.DateTrigger(
            self._pos(meta), self._whole(amount, unit), _plural(unit), direction, field, at[0] if at else None
        )

    def schedule_trigger(self, meta: Meta, children: list[Any]) -> ast.ScheduleTrigger:
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
                day = child
        return ast.ScheduleTrigger(self._pos(meta), every, day, weekday, at)  # type: ignore[arg-type]

    def month_day(self, meta: Meta, children: list[Token]) -> int:
        return self._whole(children[0], "days")

    def weekday(self, meta: Meta, children: list[ast.Name]) -> ast.Name:
        return children[0]

    def trend_trigger(self, meta: Meta, children: list[Any]) -> ast.TrendTrigger:
        metric, direction, percent, weeks = children
        return ast.TrendTrigger(
            self._pos(meta), metric, direction, self._percent(percent), self._whole(weeks, "weeks")
        )

    # ------------------------------------------------------------------ steps and blocks

    def day_step(self, meta: Meta, children: list[Any]) -> ast.DayStep:
        return ast.DayStep(self._pos(meta), self._whole(children[0], "days"), children[1])

    def date_step(self, meta: Meta, children: list[Any]) -> ast.DateStep:
        amount, unit, direction, field, *rest = children
        at = rest[0] if len(rest) == 2 else None
        return ast.DateStep(
            self._pos(meta), self._whole(amount, unit), _plural(unit), direction, field, at, rest[-1]
        )

    def block(self, meta: Meta, statements: list[ast.Statement]) -> tuple[ast.Statement, ...]:
        return tuple(statements)

    # ------------------------------------------------------------------ statements

    def send_email(self, meta: Meta, children: list[Any]) -> ast.SendEmail:
        return ast.SendEmail(self._pos(meta), children[0], children[1] if len(children) > 1 else None)

    def send_in_app(self, meta: Meta, children: list[ast.Name]) -> ast.SendInApp:
        return ast.SendInApp(self._pos(meta), children[0])

    def create_task(self, meta: Meta, children: list[Any]) -> ast.CreateTask:
        title, owner, *options = children
        found: dict[str, _Marker] = {}
        for option in options:
            if option.kind in found:
                self._fail(option.pos, f"'{option.kind}' is given twice in this task")
            found[option.kind] = option
        due = found["due"].value if "due" in found else None
        priority = found["priority"].value if "priority" in found else None
        return ast.CreateTask(self._pos(meta), title, owner, due, priority)

    def due(self, meta: Meta, children: list[ast.Duration]) -> _Marker:
        return _Marker("due", self._pos(meta), children[0])

    def priority(self, meta: Meta, children: list[ast.Name]) -> _Marker:
        return _Marker("priority", self._pos(meta), children[0])

    def set_field(self, meta: Meta, children: list[Any]) -> ast.SetField:
        return ast.SetField(self._pos(meta), children[0], children[1])

    def update_score(self, meta: Meta, children: list[ast.Name]) -> ast.UpdateScore:
        return ast.UpdateScore(self._pos(meta), children[0])

    def do_statement(self, meta: Meta, children: list[Any]) -> ast.Do:
        return ast.Do(self._pos(meta), children[0], tuple(children[1:]))

    def do_param(self, meta: Meta, children: list[Any]) -> ast.DoParam:
        return ast.DoParam(self._pos(meta), children[0], children[1])

    def wait(self, meta: Meta, children: list[ast.Duration]) -> ast.Wait:
        return ast.Wait(self._pos(meta), children[0])

    def wait_until(self, meta: Meta, children: list[Any]) -> ast.WaitUntil:
        pos = self._pos(meta)
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

    def wait_event(self, meta: Meta, children: list[ast.Name]) -> _Marker:
        return _Marker("event", self._pos(meta), children[0])

    def wait_task(self, meta: Meta, children: list[Any]) -> _Marker:
        return _Marker("task", self._pos(meta))

    def if_statement(self, meta: Meta, children: list[Any]) -> ast.If:
        return self._if(meta, children, negated=False)

    def unless_statement(self, meta: Meta, children: list[Any]) -> ast.If:
        return self._if(meta, children, negated=True)

    def _if(self, meta: Meta, children: list[Any], negated: bool) -> ast.If:
        condition, then, *rest = children
        otherwise: tuple[ast.Statement, ...] = rest[0].value if rest else ()
        else_pos = rest[0].pos if rest else None
        return ast.If(self._pos(meta), condition, then, otherwise, negated, else_pos)

    def else_block(self, meta: Meta, children: list[Any]) -> _Marker:
        pos = self._pos(meta)
        head = ast.Pos(self.source_path, pos.line, pos.column, pos.line, pos.column + len("else"))
        return _Marker("else", head, children[0])

    def split_statement(self, meta: Meta, children: list[Any]) -> ast.Split:
        shares = tuple(self._percent(child) for child in children if isinstance(child, Token))
        arms = tuple(child for child in children if isinstance(child, ast.SplitArm))
        return ast.Split(self._pos(meta), shares, arms)

    def split_arm(self, meta: Meta, children: list[Any]) -> ast.SplitArm:
        return ast.SplitArm(self._pos(meta), children[0], children[1])


@lru_cache(maxsize=1)
def _handlers() -> dict[str, Callable[..., Any]]:
    """The method for each rule of the grammar, by rule name."""
    return {name: getattr(ToAst, name) for name in dir(ToAst) if not name.startswith("_")}


def _plural(unit: str) -> Literal["days", "weeks"]:
    return "weeks" if unit.startswith("week") else "days"
