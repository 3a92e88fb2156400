"""Checking the triggers on one account field or score: `X becomes V` and `X changes [from A] [to B]`.

`becomes` works on a score's bands (`health becomes red`), on a field that is one of a list of
values (`plan becomes enterprise`, or `"enterprise"`) and on a true/false field
(`churn_risk becomes true`). `changes` works on any account field; its `from` and `to` values
are typed against the field: a value of the list, `true`/`false`, a text in quotes, a number,
an amount or a percent. Owners, contacts, dates and durations take no value: `csm changes`.
"""

from __future__ import annotations

from dsl import ast, ir
from dsl.name_suggestions import with_nearest
from dsl.reporter import Reporter
from dsl.scope import Scope
from dsl.typing_rules import ExprTyper, Ty, describe

__all__ = ["FieldTriggerChecker"]

# What each type of field takes as a value, as a message says it.
_HINTS = {
    "boolean": "true or false",
    "text": 'a text in quotes ("...")',
    "number": "a number",
    "money": "an amount (25k or 25000)",
    "percent": "a percent (40%)",
}
_VALUE_WORDS = {
    ast.TextLit: "a text",
    ast.NumberLit: "a number",
    ast.MoneyLit: "an amount",
    ast.PercentLit: "a percent",
    ast.BoolLit: "true or false",
    ast.Name: "a name",
}
_FITS: dict[str, tuple[type, ...]] = {
    "boolean": (ast.BoolLit,),
    "text": (ast.TextLit,),
    "number": (ast.NumberLit,),
    "money": (ast.MoneyLit, ast.NumberLit),
    "percent": (ast.PercentLit,),
    "enum": (ast.Name, ast.TextLit),
}


def value_text(value: ast.TriggerValue) -> str:
    """The value as written."""
    if isinstance(value, ast.Name):
        return value.text
    if isinstance(value, ast.TextLit):
        return f'"{value.value}"'
    if isinstance(value, ast.BoolLit):
        return "true" if value.value else "false"
    return value.text


def _same(a: ast.TriggerValue, b: ast.TriggerValue) -> bool:
    def plain(value: ast.TriggerValue) -> object:
        if isinstance(value, ast.Name):
            return value.text
        return value.value

    return plain(a) == plain(b)


class FieldTriggerChecker:
    def __init__(self, scope: Scope, typer: ExprTyper, report: Reporter) -> None:
        self.scope = scope
        self.typer = typer
        self.report = report

    def becomes(self, trigger: ast.BecomesTrigger) -> None:
        name, value = trigger.subject.text, trigger.value
        if name in self.scope.scores:
            if isinstance(value, ast.Name):
                self.typer.band(name, value.text, value.pos)
            else:
                self.report.error(value.pos, f"'{name}' is a score: 'becomes' takes one of its bands "
                                             f"({', '.join(self.scope.bands(name))}), not {_VALUE_WORDS[type(value)]}",
                                  code="wrong-type")
            return
        declared = self.scope.fields.get(name)
        if declared is None:
            known = [*self.scope.scores, *self.scope.fields]
            message, near = with_nearest(f"unknown score or field '{name}'", name, known)
            self.report.error(trigger.subject.pos, message, code="unknown-name", suggestion=near)
            return
        if declared.type not in ("enum", "boolean"):
            self.report.error(
                trigger.subject.pos,
                f"'{name}' is {describe(Ty(declared.type))}: 'becomes' works on a score's bands, a choice of "
                f"values or true/false; write '{name} changes to ...' or a condition",
                code="wrong-type",
            )
            return
        self._value(name, declared, value, "becomes")

    def changes(self, trigger: ast.ChangeTrigger) -> None:
        name = trigger.field.text
        declared = self.scope.fields.get(name)
        if declared is None:
            if name in self.scope.scores:
                self.report.error(trigger.field.pos, f"'{name}' is a score, not an account field: "
                                                     f"write '{name} becomes BAND'", code="wrong-type")
            else:
                message, near = with_nearest(f"unknown field '{name}'", name, self.scope.fields)
                self.report.error(trigger.field.pos, message, code="unknown-name", suggestion=near)
            return
        ends = [(word, value) for word, value in (("from", trigger.before), ("to", trigger.after)) if value is not None]
        if ends and declared.type not in _FITS:
            self.report.error(ends[0][1].pos, f"'{name}' is {describe(Ty(declared.type))}: 'changes' takes no "
                                              f"'from' or 'to' for it; write '{name} changes'", code="wrong-type")
            return
        fine = all([self._value(name, declared, value, word) for word, value in ends])
        if fine and trigger.before is not None and trigger.after is not None and _same(trigger.before, trigger.after):
            self.report.error(trigger.after.pos, f"'{name} changes from {value_text(trigger.before)} to "
                                                 f"{value_text(trigger.after)}' never happens: a change is to "
                                                 "another value", code="never-happens")

    def _value(self, name: str, declared: ir.FieldType, value: ast.TriggerValue, word: str) -> bool:
        """Report a value that does not fit the field; True when it fits."""
        if not isinstance(value, _FITS[declared.type]):
            if declared.type == "enum":
                hint = f"one of its values ({', '.join(declared.values)})"
            elif declared.type == "text" and isinstance(value, ast.Name):
                hint = f'it in quotes: "{value.text}"'
            else:
                hint = _HINTS[declared.type]
            self.report.error(value.pos, f"'{word} {value_text(value)}': '{name}' is {describe(Ty(declared.type))}, "
                                         f"not {_VALUE_WORDS[type(value)]}; write {hint}", code="wrong-type")
            return False
        if declared.type == "enum":
            text = value.text if isinstance(value, ast.Name) else str(value.value)
            before = len(self.report.diagnostics)
            self.typer.enum_value(Ty("enum", declared.values, name), text, value.pos)
            return len(self.report.diagnostics) == before
        return True
