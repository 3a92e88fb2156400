"""Formatting one file's text: print its tree, put its comments back, and check nothing changed."""

from __future__ import annotations

from dataclasses import fields, is_dataclass

from dsl import ast
from dsl.diagnostics import Diagnostic, DiagnosticError, Span
from dsl.formatter.layout import place_comments, render
from dsl.formatter.printer import Printer
from dsl.parser import normalise, parse

__all__ = ["FormatError", "format_source"]


class FormatError(Exception):
    """The file cannot be formatted: it has parse errors (in `diagnostics`), or it would change."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(d.headline() for d in diagnostics))
        self.diagnostics = diagnostics


def _without_positions(node: object) -> object:
    """A node's content without positions and spellings, to compare two trees for meaning."""
    if isinstance(node, tuple | list):
        return tuple(_without_positions(item) for item in node)
    if isinstance(node, ast.Pos):
        return "written"  # a position that stands for a keyword written (`dedupe by type and reason`)
    if is_dataclass(node) and not isinstance(node, type):
        skipped = {"pos", "else_pos", "bands_pos", "attempts_pos", "comments", "line_count", "path", "text"}
        if isinstance(node, ast.TextLit | ast.NumberLit | ast.MoneyLit | ast.PercentLit):
            skipped.discard("text")
        content = tuple(
            (f.name, _without_positions(getattr(node, f.name))) for f in fields(node) if f.name not in skipped
        )
        return (type(node).__name__, *content)
    return node


def _comment_words(tree: ast.File) -> list[str]:
    return sorted(word for comment in tree.comments for word in comment.text.split())


def _parse(text: str, path: str) -> ast.File:
    try:
        return parse(text, path)
    except DiagnosticError as error:
        raise FormatError([error.diagnostic]) from None


def format_source(text: str, path: str) -> str:
    """The canonical layout of one `.play` file's text; raises FormatError if it does not parse."""
    tree = _parse(text, path)
    source_lines = normalise(text).split("\n")
    printer = Printer(source_lines)
    printer.file(tree)
    lines = place_comments(printer.lines, list(tree.comments), source_lines)
    formatted = render(lines, source_lines)
    try:
        again = _parse(formatted, path)
    except FormatError:
        again = None
    if again is None or _without_positions(again) != _without_positions(tree) \
            or _comment_words(again) != _comment_words(tree):
        raise FormatError([Diagnostic(
            Span(path, 1, 1),
            "the canonical layout of this file would change its meaning, so it was left as it is "
            "(please report this as a bug of `playbook fmt`)",
            code="other-error",
        )])
    return formatted
