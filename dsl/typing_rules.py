"""The types of expressions, and the rules that say which combinations make sense.

Every expression has one of the language's value types (`dsl.ir.ValueType`). Numbers come in
three kinds: `number` goes with any of them (`arr > 15000`, `dau_pct >= 70`), while `money`
and `percent` do not mix with each other. Dates compare with dates. `text` and enumerations
(`one of a, b`) compare for equality; a text literal compared with an enumeration must be one
of its values. `and`, `or`, `not`, `if`, `audience`, `exit`, `goal` and condition triggers
need conditions (booleans). A bare score name is its value (a number) and `health.band` is an
enumeration of its bands; `health is red` asks for the band.

An expression whose type cannot be known because of a problem already reported has the type
`unknown`, which fits everywhere, so that one mistake gives one message.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dsl import ast, ir
from dsl.bounds import check_duration, millions_for_a_count
from dsl.name_suggestions import with_nearest
from dsl.reporter import Reporter
from dsl.scope import Scope

__all__ = ["ExprTyper", "Ty", "check_time", "describe"]

NUMERIC = frozenset({"number", "money", "percent"})
DATES = frozenset({"date", "datetime"})
_TEXTS = frozenset({"text", "enum"})

_OWNER_MEMBERS = {"name": "text", "email": "text", "manager": "owner"}
_CONTACT_MEMBERS = {"name": "text", "email": "text"}
_ARTICLES = {
    "text": "text",
    "money": "money",
    "number": "a number",
    "percent": "a percent",
    "boolean": "a condition",
    "date": "a date",
    "datetime": "a date and time",
    "duration": "a duration",
    "owner": "an owner",
    "contact": "a contact",
    "enum": "a choice of values",
    "unknown": "unknown",
}


@dataclass(frozen=True)
class Ty:
    """A type: `kind` is a value type or `unknown`; `origin` names the field for messages."""

    kind: str
    values: tuple[str, ...] = ()  # an enumeration's values
    origin: str = ""  # the field or score it was read from
    score: str | None = None  # set on a score's bare value: `health`
    literal: str | None = None  # set on a text literal

    @property
    def known(self) -> bool:
        return self.kind != "unknown"


UNKNOWN = Ty("unknown")
BOOLEAN = Ty("boolean")


def describe(ty: Ty) -> str:
    """`a number`, `text`, `a date`: how a message names a type."""
    return _ARTICLES.get(ty.kind, ty.kind)


def _of(declared: ir.FieldType, origin: str) -> Ty:
    return Ty(declared.type, declared.values, origin)


# Where an expression is evaluated inside a journey, so `seen EVENT since entry` has an entry to count from.
JOURNEY_PLACES = frozenset({"'if'", "'unless'", "'set'", "'goal'", "'exit'", "'wait until'"})


class ExprTyper:
    """Types expressions against a scope, reporting every problem it meets."""

    def __init__(self, scope: Scope, report: Reporter) -> None:
        self.scope = scope
        self.report = report
        self.payload: Mapping[str, ir.FieldType] | None = None  # inside a `where`: that event's keys
        self.event = ""
        # `event.data.KEY` elsewhere in a playbook: the keys of the event that starts it (None
        # outside a playbook; empty when no event starts it)
        self.trigger_payload: Mapping[str, ir.FieldType] | None = None
        self.trigger_event = ""
        self.task_created = False  # whether a `create task` comes before, for `task open`
        self.place = ""  # where the expression is written, as messages name it: "'if'", "'audience'"
        self._rules: dict[type, Callable[[Any], Ty]] = {
            ast.NumberLit: lambda e: Ty("number"),
            ast.MoneyLit: lambda e: Ty("money"),
            ast.PercentLit: lambda e: Ty("percent"),
            ast.TextLit: lambda e: Ty("text", literal=e.value),
            ast.BoolLit: lambda e: BOOLEAN,
            ast.DateLit: self._date,
            ast.Ref: lambda e: self.resolve(e.path),
            ast.Group: lambda e: self.type_of(e.expr),
            ast.Compare: self._compare,
            ast.Logic: self._logic,
            ast.Not: self._not,
            ast.Negate: self._negate,
            ast.Arith: self._arith,
            ast.PercentOf: self._percent_of,
            ast.Is: self._is,
            ast.Seen: self._seen,
            ast.CountOf: self._count_of,
            ast.TaskIs: self._task_is,
        }

    # ------------------------------------------------------------------ entry points

    def type_of(self, expr: ast.Expr) -> Ty:
        rule = self._rules.get(type(expr))
        return rule(expr) if rule is not None else UNKNOWN

    def condition(self, expr: ast.Expr, what: str) -> None:
        """Check an expression that must be a condition: `what` names the place, e.g. "'audience'"."""
        self.place = what
        try:
            self._need_condition(expr, what)
        finally:
            self.place = ""

    def event_matches(self, alternatives: Sequence[ast.EventAlternative], what: str) -> None:
        """`event NAME [since entry] [where …]` alternatives of an exit, a goal or a wait: each event
        known, named once, its `where` a condition on its payload keys (then account fields)."""
        first: dict[str, ast.EventAlternative] = {}
        for alternative in alternatives:
            name = alternative.event
            known = self.event_name(name)
            if name.text in first:
                self.report.error(name.pos, f"event '{name.text}' is named twice in this {what}: join its conditions "
                                            f"in one 'where (… or …)'", code="duplicate")
            first.setdefault(name.text, alternative)
            if alternative.where is None or not known:
                continue
            saved = self.payload, self.event, self.place
            self.payload, self.event, self.place = self.scope.events.get(name.text, {}), name.text, what
            try:
                self._need_condition(alternative.where, f"the 'where' of event '{name.text}'")
            finally:
                self.payload, self.event, self.place = saved

    def _need_condition(self, expr: ast.Expr, what: str) -> None:
        ty = self.type_of(expr)
        if ty.known and ty.kind != "boolean":
            self.report.error(expr.pos, f"{what} needs a condition, not {describe(ty)}", code="wrong-type")

    # ------------------------------------------------------------------ names

    def resolve(self, path: ast.Path) -> Ty:
        """The type a name or dotted path reads: a payload key, a field, a score or a metric."""
        head, rest = path.parts[0], path.parts[1:]
        name = head.text
        if name == "event" and rest and rest[0].text == "data" and name not in self.scope.fields:
            return self._event_data(path)
        if self.payload is not None and name in self.payload:
            return self._members(_of(self.payload[name], name), rest)
        if name in self.scope.fields:
            return self._members(_of(self.scope.fields[name], name), rest)
        if name in self.scope.scores:
            return self._score_part(name, rest)
        if name in self.scope.metrics:
            return self._members(Ty("number", origin=name), rest)
        if name in self.scope.audiences:
            return self._members(Ty("boolean", origin=f"audience {name}"), rest)
        known = [*self.scope.fields, *self.scope.scores, *self.scope.metrics, *self.scope.audiences]
        if self.payload is not None:
            known = [*self.payload, *self.scope.fields]
            message, near = with_nearest(
                f"'{name}' is neither a payload key of event '{self.event}' nor an account field", name, known
            )
        else:
            message, near = with_nearest(f"unknown field '{name}'", name, known)
        self.report.error(head.pos, message, code="unknown-name", suggestion=near)
        return UNKNOWN

    def _event_data(self, path: ast.Path) -> Ty:
        """`event.data.KEY`: a payload key of the event in scope (a `where`'s own event, else the
        event that starts the playbook), typed as that event declares it."""
        payload, event = (self.payload, self.event) if self.payload is not None else (
            self.trigger_payload, self.trigger_event)
        if len(path.parts) < 3:
            self.report.error(path.pos, "'event.data' needs a payload key: 'event.data.score'", code="unknown-name")
            return UNKNOWN
        key = path.parts[2]
        if payload is None or not event:
            why = ("there is none here" if payload is None
                   else "this playbook's trigger is no event: read an account field instead")
            self.report.error(path.pos, f"'{path.text}' reads the event that starts the journey, and {why}",
                              code="unknown-name")
            return UNKNOWN
        if key.text not in payload:
            message, near = with_nearest(f"'{key.text}' is no payload key of event '{event}'", key.text, payload)
            self.report.error(key.pos, message, code="unknown-name", suggestion=near)
            return UNKNOWN
        if len(path.parts) > 3:
            self.report.error(path.parts[3].pos, f"'event.data.{key.text}' is a value of its own, with no parts",
                              code="wrong-type")
            return UNKNOWN
        return _of(payload[key.text], path.text)

    def _members(self, ty: Ty, rest: tuple[ast.Name, ...]) -> Ty:
        origin = ty.origin
        for part in rest:
            members = _OWNER_MEMBERS if ty.kind == "owner" else _CONTACT_MEMBERS if ty.kind == "contact" else None
            if members is None:
                self.report.error(part.pos, f"'{origin}' is {describe(ty)} and has no field '{part.text}'",
                                  code="wrong-type")
                return UNKNOWN
            if part.text not in members:
                message, near = with_nearest(f"unknown field '{part.text}' in {origin}", part.text, members)
                self.report.error(part.pos, message, code="unknown-name", suggestion=near)
                return UNKNOWN
            origin = f"{origin}.{part.text}"
            ty = Ty(members[part.text], origin=origin)
        return ty

    def _score_part(self, score: str, rest: tuple[ast.Name, ...]) -> Ty:
        if not rest:
            return Ty("number", origin=score, score=score)
        part = rest[0]
        if part.text == "score":
            ty = Ty("number", origin=f"{score}.score")
        elif part.text == "band":
            ty = Ty("enum", tuple(self.scope.bands(score)), f"{score}.band")
        else:
            message, near = with_nearest(f"unknown field '{part.text}' of score {score}", part.text, ("score", "band"))
            self.report.error(part.pos, message + "; a score has 'score' and 'band'",
            code="unknown-name",
                              suggestion=near)
            return UNKNOWN
        return self._members(ty, rest[1:])

    # ------------------------------------------------------------------ literals

    def _date(self, expr: ast.DateLit) -> Ty:
        try:
            datetime.date.fromisoformat(expr.value)
        except ValueError:
            self.report.error(expr.pos, f"invalid date '{expr.value}'", code="wrong-type")
        return Ty("date")

    # ------------------------------------------------------------------ operators

    def _compare(self, expr: ast.Compare) -> Ty:
        left, right = self.type_of(expr.left), self.type_of(expr.right)
        if not (left.known and right.known):
            return BOOLEAN
        if left.kind == "enum" and right.literal is not None:
            self.enum_value(left, right.literal, expr.right.pos)
        elif right.kind == "enum" and left.literal is not None:
            self.enum_value(right, left.literal, expr.left.pos)
        for side, other in ((expr.left, right), (expr.right, left)):
            if isinstance(side, ast.MoneyLit) and other.kind == "number":
                what = f"field '{other.origin}'" if other.origin else describe(other)
                millions_for_a_count(side, self.report, f"compared with the number {what}")
        orderable = NUMERIC | DATES
        if expr.op not in ("==", "!=") and not (left.kind in orderable and right.kind in orderable):
            odd = left if left.kind not in orderable else right
            self.report.error(expr.pos, f"'{expr.op}' compares numbers or dates, not {describe(odd)}",
                              code="wrong-type")
        elif not _comparable(left, right):
            self.report.error(expr.pos, f"cannot compare {describe(left)} with {describe(right)}", code="wrong-type")
        return BOOLEAN

    def enum_value(self, ty: Ty, value: str, pos: ast.Pos) -> None:
        """Report `value` if it is not one of the enumeration's values."""
        if value in ty.values:
            return
        message, near = with_nearest(f"unknown value '{value}' for {ty.origin}", value, ty.values)
        if near is None:
            message += f"; its values are {', '.join(ty.values)}"
        self.report.error(pos, message, code="unknown-name", suggestion=near)

    def _not(self, expr: ast.Not) -> Ty:
        self._need_condition(expr.arg, "'not'")
        return BOOLEAN

    def _logic(self, expr: ast.Logic) -> Ty:
        for arg in expr.args:
            self._need_condition(arg, f"'{expr.op}'")
        return BOOLEAN

    def _number(self, expr: ast.Expr, what: str) -> Ty:
        ty = self.type_of(expr)
        if ty.known and ty.kind not in NUMERIC:
            self.report.error(expr.pos, f"{what} needs a number, not {describe(ty)}", code="wrong-type")
            return UNKNOWN
        return Ty(ty.kind) if ty.known else UNKNOWN

    def _negate(self, expr: ast.Negate) -> Ty:
        return self._number(expr.arg, "'-'")

    def _arith(self, expr: ast.Arith) -> Ty:
        left = self._number(expr.left, f"'{expr.op}'")
        right = self._number(expr.right, f"'{expr.op}'")
        if not (left.known and right.known):
            return UNKNOWN
        if {left.kind, right.kind} == {"money", "percent"} and expr.op in ("+", "-"):
            self.report.error(expr.pos, f"cannot {_VERBS[expr.op]} money and a percent", code="other-error")
            return UNKNOWN
        if left.kind == right.kind:
            return left
        return right if left.kind == "number" else left

    def _percent_of(self, expr: ast.PercentOf) -> Ty:
        return self._number(expr.of, "'% of'")

    def _is(self, expr: ast.Is) -> Ty:
        subject = self.type_of(expr.subject)
        value = expr.value.text if isinstance(expr.value, ast.Name) else expr.value.value
        if not subject.known:
            return BOOLEAN
        if subject.score is not None:
            self.band(subject.score, value, expr.value.pos)
        elif subject.kind == "enum":
            self.enum_value(subject, value, expr.value.pos)
        elif not (subject.kind == "text" and isinstance(expr.value, ast.TextLit)):
            self.report.error(
                expr.pos,
                f"'is' needs a score or a field that is one of a list of values, not {describe(subject)}",
                code="wrong-type",
            )
        return BOOLEAN

    def band(self, score: str, band: str, pos: ast.Pos) -> None:
        """Report `band` if the score has no band of that name."""
        bands = self.scope.bands(score)
        if not bands:
            self.report.error(pos, f"score {score} has no bands", code="playbook-structure")
        elif band not in bands:
            message, near = with_nearest(f"unknown band '{band}' of score {score}", band, bands)
            if near is None:
                message += f"; its bands are {', '.join(bands)}"
            self.report.error(pos, message, code="unknown-name", suggestion=near)

    def event_name(self, name: ast.Name) -> bool:
        """Report an undeclared event; True when it is known."""
        if name.text in self.scope.events:
            return True
        message, near = with_nearest(f"unknown event '{name.text}'", name.text, self.scope.events)
        self.report.error(name.pos, message, code="unknown-name", suggestion=near)
        return False

    def _seen(self, expr: ast.Seen) -> Ty:
        self.event_name(expr.event)
        if expr.since_entry and self.place not in JOURNEY_PLACES:
            where = self.place or "this place"
            self.report.error(expr.pos, f"'seen {expr.event.text} since entry' counts from the journey's entry, "
                                        f"and {where} is read outside a journey: write it in a step's 'if' or "
                                        "'unless', a 'set', a 'goal' or an 'exit'", code="playbook-structure")
        for duration in (expr.within, expr.older_than):
            if duration is not None and duration.amount <= 0:
                self.report.error(duration.pos, f"'{duration.text}' is no time: use a positive duration",
                                  code="never-happens")
            elif duration is not None:
                check_duration(duration, self.report, f"'{duration.text}'")
        return BOOLEAN

    def _count_of(self, expr: ast.CountOf) -> Ty:
        for arg in expr.args:
            self._need_condition(arg, "'of (...)'")
        if expr.count > len(expr.args):
            words = expr.op.replace("_", " ")
            self.report.error(expr.pos, f"'{words} {expr.count} of' {len(expr.args)} conditions can never hold",
                              code="never-happens")
        return BOOLEAN

    def _task_is(self, expr: ast.TaskIs) -> Ty:
        if not self.task_created:
            self.report.error(expr.pos, f"'task {expr.state}' needs a 'create task' before it in the playbook",
                              code="wrong-type")
        return BOOLEAN


_VERBS = {"+": "add", "-": "subtract"}


def _numeric_pair(left: Ty, right: Ty) -> bool:
    return left.kind in NUMERIC and right.kind in NUMERIC


def _date_pair(left: Ty, right: Ty) -> bool:
    return left.kind in DATES and right.kind in DATES


def _comparable(left: Ty, right: Ty) -> bool:
    """Whether two known types may be compared for equality or order."""
    if _numeric_pair(left, right):
        return "number" in (left.kind, right.kind) or left.kind == right.kind
    if _date_pair(left, right):
        return True
    if left.kind in _TEXTS and right.kind in _TEXTS:
        return True
    return left.kind == right.kind


def check_time(time: ast.TimeOfDay, report: Reporter) -> None:
    """Report a time of day that is not a time: `25:00`, `12:60`."""
    hours, _, minutes = time.value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        report.error(time.pos, f"invalid time '{time.value}': use 00:00 to 23:59", code="wrong-type")
