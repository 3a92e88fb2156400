"""The rules of expressions: `and`/`or`/`not`, comparisons, `is`, arithmetic, `seen`, `N of (…)`."""

from __future__ import annotations

from typing import Any

from lark import Token

from dsl import ast
from dsl.transformer.places import Marker, RuleBase

__all__ = ["ExpressionRules"]


class ExpressionRules(RuleBase):
    """Expressions, from `or` down to `task done`."""

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
        window: Marker | None = children[1] if len(children) > 1 else None
        if window is None:
            return ast.Seen(pos, event)
        if window.kind == "within":
            return ast.Seen(pos, event, within=window.value)
        if window.kind == "since_entry":
            return ast.Seen(pos, event, since_entry=True)
        return ast.Seen(pos, event, older_than=window.value)

    def within(self, pos: ast.Pos, children: list[ast.Duration]) -> Marker:
        return Marker("within", pos, children[0])

    def older_than(self, pos: ast.Pos, children: list[ast.Duration]) -> Marker:
        return Marker("older_than", pos, children[0])

    def since_entry(self, pos: ast.Pos, children: list[Any]) -> Marker:
        return Marker("since_entry", pos)

    def count_of(self, pos: ast.Pos, children: list[Any]) -> ast.CountOf:
        op = str(children[0])
        count = self._whole(children[1], "conditions")
        return ast.CountOf(pos, op, count, tuple(children[2:]))  # type: ignore[arg-type]

    def task_open(self, pos: ast.Pos, children: list[Any]) -> ast.TaskIs:
        return ast.TaskIs(pos, "open")

    def task_done(self, pos: ast.Pos, children: list[Any]) -> ast.TaskIs:
        return ast.TaskIs(pos, "done")
