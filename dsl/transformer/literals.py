"""The rules of names and literals: paths, numbers, amounts, percentages, texts, times, durations."""

from __future__ import annotations

import re
from typing import Any

from lark import Token

from dsl import ast
from dsl.transformer.places import RuleBase, Word, number_value

__all__ = ["LiteralRules"]

_ESCAPE = re.compile(r'\\(["\\])')
_UNITS: dict[str, ast.DurationUnit] = {
    "minute": "minutes", "minutes": "minutes", "m": "minutes",
    "hour": "hours", "hours": "hours", "h": "hours",
    "day": "days", "days": "days", "d": "days",
    "week": "weeks", "weeks": "weeks", "w": "weeks",
    "business day": "business_days", "business days": "business_days",
}
_SCALE = {"k": 1_000, "m": 1_000_000}


class LiteralRules(RuleBase):
    """Names, literals and the keyword rules (`direction`, `period`, …) that carry a word."""

    # ------------------------------------------------------------------ names and literals

    def path(self, pos: ast.Pos, names: list[ast.Name]) -> ast.Path:
        return ast.Path(pos, tuple(names))

    def ref(self, pos: ast.Pos, names: list[ast.Name]) -> ast.Ref:
        return ast.Ref(pos, ast.Path(pos, tuple(names)))

    param_ref = ref

    def number(self, pos: ast.Pos, children: list[Token]) -> ast.NumberLit:
        text = str(children[0].value)
        return ast.NumberLit(pos, number_value(text), text)

    def money(self, pos: ast.Pos, children: list[Token]) -> ast.MoneyLit:
        text = str(children[0].value)
        amount = number_value(text[:-1]) * _SCALE[text[-1]]
        value = int(amount) if float(amount).is_integer() else amount
        return ast.MoneyLit(pos, value, text)

    def percent(self, pos: ast.Pos, children: list[Token]) -> ast.PercentLit:
        return self._percent(children[0])


    def text(self, pos: ast.Pos, children: list[Token]) -> ast.TextLit:
        raw = str(children[0].value)
        return ast.TextLit(pos, _ESCAPE.sub(r"\1", raw[1:-1]))

    def boolean(self, pos: ast.Pos, children: list[Token]) -> ast.BoolLit:
        return ast.BoolLit(pos, children[0].value == "true")

    # the values of a field trigger (`plan changes from "pro" to "enterprise"`): the same literals
    value_text = text
    value_number = number
    value_money = money
    value_percent = percent
    value_boolean = boolean

    def date(self, pos: ast.Pos, children: list[Token]) -> ast.DateLit:
        return ast.DateLit(pos, str(children[0].value))

    def time(self, pos: ast.Pos, children: list[Token]) -> ast.TimeOfDay:
        token = children[0]
        hours, minutes = (int(part) for part in str(token.value).split(":"))
        if hours > 23 or minutes > 59:
            self._fail(self._tpos(token), f"'{token.value}' is not a time of day (expected 00:00 to 23:59)",
                       code="wrong-type")
        return ast.TimeOfDay(self._tpos(token), f"{hours:02d}:{minutes:02d}")

    def duration(self, pos: ast.Pos, children: list[Any]) -> ast.Duration:
        first: Token = children[0]
        if first.type == "SHORT_DURATION":
            text = str(first.value)
            return ast.Duration(pos, int(text[:-1]), _UNITS[text[-1]], text)
        unit = str(children[1])
        amount = self._whole(first, unit.replace("business ", ""))
        return ast.Duration(pos, amount, _UNITS[unit], f"{first.value} {unit}")

    def duration_unit(self, pos: ast.Pos, children: list[Token]) -> Word:
        return Word.at(pos, " ".join(str(token.value) for token in children))

    def _keyword(self, pos: ast.Pos, children: list[Token]) -> Word:
        return Word.at(pos, str(children[0].value))

    date_unit = direction = period = trend_direction = _keyword

    def channel(self, pos: ast.Pos, children: list[Token]) -> Word:
        return Word.at(pos, "email" if children[0].value.startswith("email") else "in_app")

    def count_op(self, pos: ast.Pos, children: list[Token]) -> Word:
        return Word.at(pos, "_".join(str(children[0].value).split()))
