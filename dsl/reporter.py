"""Collecting the checker's diagnostics, each placed at a node of the syntax tree."""

from __future__ import annotations

from dsl import ast
from dsl.diagnostics import Diagnostic, Span

__all__ = ["Reporter"]


class Reporter:
    """Every problem found, in the order found; `error` and `warning` take a node's position."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, where: ast.Pos | Span, message: str) -> None:
        self.diagnostics.append(Diagnostic(_span(where), message))

    def warning(self, where: ast.Pos | Span, message: str) -> None:
        self.diagnostics.append(Diagnostic(_span(where), message, severity="warning"))

    def extend(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)


def _span(where: ast.Pos | Span) -> Span:
    return where if isinstance(where, Span) else where.span()
