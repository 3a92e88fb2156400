"""Parsing one `.play` file into its syntax tree (`dsl.ast.File`).

`parse(text, path)` returns the tree or raises `DiagnosticError` with one clear message at the
place of the first problem; it never lets a Lark exception or a RecursionError through.

A file is read first by `dsl.table_parser.TableParser`, which runs Lark's tables in one quick
loop and handles valid files only; a file it does not handle (one with a problem) is parsed
again by Lark itself, whose exceptions give the message. The two give the same tree
(`parse(text, path, quick=False)` asks Lark alone, which tests/dsl/test_table_parser.py uses).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from lark import Lark
from lark.exceptions import UnexpectedInput
from lark.lexer import PatternStr

from dsl import ast
from dsl.diagnostics import Diagnostic, DiagnosticError, Span
from dsl.indenter import BlockIndenter, IndentationProblem, RawComment
from dsl.parse_errors import diagnostic_for_indentation, diagnostic_for_parse_error, nesting_too_deep
from dsl.table_parser import NotHandled, TableParser
from dsl.transformer import ToAst

__all__ = ["normalise", "parse", "paused_collection", "quick_parser"]

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, BlockIndenter, ToAst, dict[str, str], TableParser | None]:
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
    return lark, indenter, builder, keywords, TableParser.build(lark, builder)


def quick_parser() -> TableParser | None:
    """The quick loop `parse` tries first; None when it could not mirror Lark's parser."""
    return _parser()[4]


@contextmanager
def paused_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a stage builds many small objects.

    Syntax trees and IR have no reference cycles, yet every few hundred allocations the collector
    walks the whole heap, which makes a large folder cost far more than its size: paused, the
    stages run about half again as fast. Nested pauses are fine; the outermost one resumes it.

    On resuming, what was built during the pause goes straight to the oldest generation (a
    freeze and unfreeze moves it there without a walk): otherwise the first collection after
    the pause would walk every node of every tree (on a thousand files, 0.4 s of CPU time).
    It is left alone when something else keeps objects frozen (`gc.freeze()` before a fork).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
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


def _syntax_tree(
    source: str, lark: Lark, indenter: BlockIndenter, quick: TableParser | None
) -> tuple[Any, list[RawComment]]:
    """The start rule's value and the comments: the quick loop's if it handles the text, else Lark's."""
    if quick is not None:
        try:
            return quick.parse(source)
        except (NotHandled, DiagnosticError, RecursionError):
            pass  # a problem: Lark reads the text again and raises the exception that describes it
    result = lark.parse(source)
    return result, list(indenter.comments)


def parse(text: str, path: str = "<string>", *, quick: bool = True) -> ast.File:
    """The syntax tree of one file; raises `DiagnosticError` on the first problem.

    `quick=False` skips the quick loop: Lark alone parses the text (the tree is the same).
    """
    lark, indenter, builder, keywords, loop = _parser()
    source = normalise(text)
    with _lock, paused_collection():
        builder.source_path = path
        try:
            result, raw_comments = _syntax_tree(source, lark, indenter, loop if quick else None)
        except IndentationProblem as problem:
            raise DiagnosticError(diagnostic_for_indentation(problem, path)) from None
        except UnexpectedInput as error:
            raise DiagnosticError(diagnostic_for_parse_error(error, source, path, keywords.get)) from None
        except RecursionError:
            raise DiagnosticError(nesting_too_deep(path, 1, 1)) from None
    if not isinstance(result, ast.File):  # pragma: no cover - the grammar's start rule builds a File
        raise DiagnosticError(Diagnostic(Span(path, 1, 1), "this file cannot be read", code="unreadable-file"))
    result.comments.extend(
        ast.Comment(ast.Pos(path, line, column, line, column + len(body)), body, trailing)
        for line, column, body, trailing in raw_comments
    )
    result.line_count = source.count("\n")
    return result
