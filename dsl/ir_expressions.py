"""Walking an IR expression: the one definition of which expressions an expression holds.

Whatever needs every part of a condition (the fields a score reads, the inputs the router
watches, whether a condition reads more than an event's payload) walks it with `children`, so a
new kind of expression is taught to every walker at once.
"""

from __future__ import annotations

from collections.abc import Iterator

from dsl import ir

__all__ = ["children", "parts"]


def children(expr: ir.Expr) -> tuple[ir.Expr, ...]:
    """The expressions `expr` is made of, left to right (none for a name or a literal)."""
    if isinstance(expr, ir.Compare | ir.Arith):
        return (expr.left, expr.right)
    if isinstance(expr, ir.Logic | ir.CountTrue):
        return expr.args
    if isinstance(expr, ir.Not):
        return (expr.arg,)
    if isinstance(expr, ir.PercentOf):
        return (expr.percent, expr.of)
    if isinstance(expr, ir.AudienceRef):
        return (expr.condition,)
    return ()


def parts(expr: ir.Expr) -> Iterator[ir.Expr]:
    """`expr` and every expression inside it, depth first, left to right."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))
