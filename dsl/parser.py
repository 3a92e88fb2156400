"""Parsing one `.play` file into its syntax tree (`dsl.ast.File`).

`parse(text, path)` returns the tree or raises `DiagnosticError` with one clear message at the
place of the first problem; it never lets a Lark exception or a RecursionError through.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from lark import Lark
from lark.exceptions import UnexpectedInput
from lark.lexer import PatternStr

from dsl import ast
from dsl.diagnostics import Diagnostic, DiagnosticError, Span
from dsl.indenter import BlockIndenter, IndentationProblem
from dsl.parse_errors import diagnostic_for_indentation, diagnostic_for_parse_error, nesting_too_deep
from dsl.transformer import ToAst

__all__ = ["parse", "paused_collection"]

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, BlockIndenter, ToAst, dict[str, str]]:
    indenter = BlockIndenter()
    builder = ToAst()
    lark = Lark.open(
        "grammar.lark",
        rel_to=__file__,
        parser="lalr",
        lexer="contextual",
        postlex=indenter,
        transformer=builder,
        keep_all_tokens=True,
        maybe_placeholders=False,
        cache=True,
    )
    keywords = {
        terminal.name: terminal.pattern.value
        for terminal in lark.terminals
        if isinstance(terminal.pattern, PatternStr)
    }
    return lark, indenter, builder, keywords


@contextmanager
def paused_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a stage builds many small objects.

    Syntax trees and IR have no reference cycles, yet every few hundred allocations the collector
    walks the whole heap, which makes a large folder cost far more than its size: paused, the
    stages run about half again as fast. Nested pauses are fine; the outermost one resumes it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def normalise(text: str) -> str:
    """CRLF and CR line breaks become LF, a byte-order mark goes, and the text ends with a line break."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return text


def parse(text: str, path: str = "<string>") -> ast.File:
    """The syntax tree of one file; raises `DiagnosticError` on the first problem."""
    lark, indenter, builder, keywords = _parser()
    source = normalise(text)
    with _lock, paused_collection():
        builder.source_path = path
        try:
            result = lark.parse(source)
            raw_comments = list(indenter.comments)
        except IndentationProblem as problem:
            raise DiagnosticError(diagnostic_for_indentation(problem, path)) from None
        except UnexpectedInput as error:
            raise DiagnosticError(diagnostic_for_parse_error(error, source, path, keywords.get)) from None
        except RecursionError:
            raise DiagnosticError(nesting_too_deep(path, 1, 1)) from None
    if not isinstance(result, ast.File):  # pragma: no cover - the grammar's start rule builds a File
        raise DiagnosticError(Diagnostic(Span(path, 1, 1), "this file cannot be read"))
    result.comments.extend(
        ast.Comment(ast.Pos(path, line, column, line, column + len(body)), body, trailing)
        for line, column, body, trailing in raw_comments
    )
    result.line_count = source.count("\n")
    return result
