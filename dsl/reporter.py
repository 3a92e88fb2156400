"""Collecting the checker's diagnostics, each placed at a node of the syntax tree."""

from __future__ import annotations

from dsl import ast
from dsl.diagnostics import Diagnostic, Span

__all__ = ["Reporter"]


class Reporter:
    """Every problem found, in the order found; `error` and `warning` take a node's position,
    the code of the kind of problem and, for a misspelt name, the known name it suggests."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, where: ast.Pos | Span, message: str, *, code: str, suggestion: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(_span(where), message, code=code, suggestion=suggestion))

    def warning(self, where: ast.Pos | Span, message: str, *, code: str, suggestion: str | None = None) -> None:
        diagnostic = Diagnostic(_span(where), message, severity="warning", code=code, suggestion=suggestion)
        self.diagnostics.append(diagnostic)

    def extend(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)


def _span(where: ast.Pos | Span) -> Span:
    return where if isinstance(where, Span) else where.span()
