"""What every rule method stands on: the place of a rule's value, names, errors, small values.

`RuleBase` holds the source path that goes into every position, works out a rule's position
from its children (`span_of`) and reports a problem at a place (`_fail`). `Word` and `Marker`
are the values small rules hand to their parents.
"""

from __future__ import annotations

from typing import Any, NoReturn

from lark import Token

from dsl import ast
from dsl.diagnostics import Diagnostic, DiagnosticError, Span

__all__ = ["LAYOUT", "MEANINGFUL", "Marker", "RuleBase", "Word", "number_value", "place"]

LAYOUT = frozenset({"_NEWLINE", "_INDENT", "_DEDENT"})
# Terminals whose text matters; every other token is a keyword or punctuation.
MEANINGFUL = frozenset({"NAME", "NUMBER", "MONEY", "PERCENT", "STRING", "DATE", "TIME_OF_DAY",
                        "SHORT_DURATION", "COMPARE_OP", "ADD_OP", "MUL_OP"})


def number_value(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def place(child: Any, end: int) -> ast.Pos | None:
    """The position of a rule's value: a node's own, or a block's first or last statement's."""
    if isinstance(child, tuple):
        return place(child[end], end) if child else None
    found: ast.Pos | None = getattr(child, "pos", None)
    return found


class Word(str):
    """A keyword as written, with its place."""

    pos: ast.Pos

    @classmethod
    def at(cls, pos: ast.Pos, text: str) -> Word:
        word = cls(text)
        word.pos = pos
        return word


class Marker:
    """An intermediate value passed from a small rule to its parent."""

    def __init__(self, kind: str, pos: ast.Pos, value: Any = None) -> None:
        self.kind = kind
        self.pos = pos
        self.value = value


class RuleBase:
    """The state and helpers shared by the rule methods of `ToAst`.

    `source_path` goes into every position: set it before each parse. Methods whose names
    start with `_`, and `span_of` and `name_of`, are helpers, not rules.
    """

    def __init__(self, path: str = "<string>") -> None:
        self.source_path = path

    # ------------------------------------------------------------------ places and errors

    def span_of(self, children: list[Any]) -> ast.Pos:
        """From the start of the first child that takes space to the end of the last one."""
        line = column = end_line = end_column = 0
        for child in children:
            if isinstance(child, Token):
                if child.type not in LAYOUT:
                    line, column = child.line or 1, child.column or 1
                    break
            else:
                found = place(child, 0)
                if found is not None:
                    line, column = found.line, found.column
                    break
        for child in reversed(children):
            if isinstance(child, Token):
                if child.type not in LAYOUT:
                    end_line, end_column = child.end_line or line, child.end_column or column
                    break
            else:
                found = place(child, -1)
                if found is not None:
                    end_line, end_column = found.end_line, found.end_column
                    break
        if not line:
            return ast.Pos(self.source_path, 1, 1, 1, 1)
        return ast.Pos(self.source_path, line, column, end_line, end_column)

    def name_of(self, token: Token) -> ast.Name:
        return ast.Name(self._tpos(token), str(token.value))

    def _tpos(self, token: Token) -> ast.Pos:
        line, column = token.line or 1, token.column or 1
        return ast.Pos(self.source_path, line, column, token.end_line or line, token.end_column or column)

    def _fail(self, pos: ast.Pos, message: str, *, code: str) -> NoReturn:
        span = Span(pos.path, pos.line, pos.column, pos.span().length)
        raise DiagnosticError(Diagnostic(span, message, code=code))

    def _whole(self, token: Token, what: str) -> int:
        if "." in token.value:
            self._fail(self._tpos(token), f"expected a whole number of {what}, not {token.value}", code="syntax")
        return int(token.value)

    def _percent(self, token: Token) -> ast.PercentLit:
        text = str(token.value)
        return ast.PercentLit(self._tpos(token), number_value(text[:-1]), text)
