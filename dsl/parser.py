"""Parsing one `.play` file into its syntax tree (`dsl.ast.File`).

`parse(text, path)` returns the tree or raises `DiagnosticError` with one clear message at the
place of the first problem; it never lets a Lark exception or a RecursionError through.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput
from lark.lexer import PatternStr

from dsl import ast
from dsl.diagnostics import Diagnostic, DiagnosticError, Span
from dsl.indenter import BlockIndenter, IndentationProblem
from dsl.parse_errors import diagnostic_for_indentation, diagnostic_for_parse_error, nesting_too_deep
from dsl.transformer import ToAst

__all__ = ["parse"]

_LAYOUT = frozenset({"_NEWLINE", "_INDENT", "_DEDENT"})
_lock = threading.Lock()


def _counts_for_position(node: object) -> bool:
    """Line breaks and block tokens do not stretch a node's position onto the next line."""
    return not (isinstance(node, Token) and node.type in _LAYOUT)


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, BlockIndenter, dict[str, str]]:
    indenter = BlockIndenter()
    lark = Lark.open(
        "grammar.lark",
        rel_to=__file__,
        parser="lalr",
        lexer="contextual",
        propagate_positions=_counts_for_position,
        postlex=indenter,
        maybe_placeholders=False,
        cache=True,
    )
    keywords = {
        terminal.name: terminal.pattern.value
        for terminal in lark.terminals
        if isinstance(terminal.pattern, PatternStr)
    }
    return lark, indenter, keywords


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
    lark, indenter, keywords = _parser()
    source = normalise(text)
    with _lock:
        try:
            tree = lark.parse(source)
            raw_comments = list(indenter.comments)
        except IndentationProblem as problem:
            raise DiagnosticError(diagnostic_for_indentation(problem, path)) from None
        except UnexpectedInput as error:
            raise DiagnosticError(diagnostic_for_parse_error(error, source, path, keywords.get)) from None
        except RecursionError:
            raise DiagnosticError(nesting_too_deep(path, 1, 1)) from None
    try:
        result = ToAst(path).transform(tree)
    except RecursionError:
        raise DiagnosticError(_too_deep_at(tree, path)) from None
    if not isinstance(result, ast.File):  # pragma: no cover - the grammar's start rule builds a File
        raise DiagnosticError(Diagnostic(Span(path, 1, 1), "this file cannot be read"))
    result.comments.extend(
        ast.Comment(ast.Pos(path, line, column, line, column + len(body)), body, trailing)
        for line, column, body, trailing in raw_comments
    )
    result.line_count = source.count("\n")
    return result


def _too_deep_at(tree: Tree[Token], path: str, limit: int = 200) -> Diagnostic:
    """Nesting too deep, placed at the first node found deeper than `limit` (walked without recursion)."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit and not node.meta.empty:
            return nesting_too_deep(path, node.meta.line, node.meta.column)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return nesting_too_deep(path, 1, 1)
