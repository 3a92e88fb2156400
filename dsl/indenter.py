"""Indented blocks: the postlexer that turns indentation into _INDENT and _DEDENT tokens.

After each line break (a `_NEWLINE` token, which also swallows blank lines and comments) the
indentation of the next line opens a block, closes blocks, or continues the current one. Inside
parentheses line breaks are ignored, so a long `exactly 2 of (…)` may span lines.

While it reads the token stream it also collects the comments that `_NEWLINE` swallowed, with
their places, and stops with a clear message at an indentation that lines up with no block
above, or at nesting deeper than `MAX_DEPTH` (which keeps every later stage far from Python's
recursion limit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lark import Token
from lark.lark import PostLex

__all__ = [
    "MAX_DEPTH",
    "TAB_WIDTH",
    "BlockIndenter",
    "IndentationProblem",
    "RawComment",
    "comments_in",
    "indent_width",
    "token_at_end",
]

MAX_DEPTH = 50
TAB_WIDTH = 4  # a tab in the indentation counts as 4 spaces

_NEWLINE = "_NEWLINE"
_INDENT = "_INDENT"
_DEDENT = "_DEDENT"
_OPEN = "LPAR"
_CLOSE = "RPAR"


class IndentationProblem(Exception):
    """Bad indentation or nesting, at a 1-based line and column."""

    def __init__(self, message: str, line: int, column: int, length: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.length = length


RawComment = tuple[int, int, str, bool]  # line, column, text, trailing

_COMMENT = re.compile(r"#[^\r\n]*")


def indent_width(indent: str) -> int:
    """How wide the indentation `indent` is, a tab reaching the next multiple of `TAB_WIDTH`."""
    if indent.count(" ") == len(indent):
        return len(indent)
    width = 0
    for char in indent:
        if char == "\t":
            width += TAB_WIDTH - width % TAB_WIDTH
        elif char == " ":
            width += 1
    return width


class BlockIndenter(PostLex):
    """A Lark postlexer for python-like blocks that also collects comments.

    One instance serves one parse at a time (the parser holds a lock around it).
    """

    always_accept = (_NEWLINE, "NAME")

    def __init__(self) -> None:
        self.comments: list[RawComment] = []

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        self.comments = []
        return self._process(stream)

    def _process(self, stream: Iterator[Token]) -> Iterator[Token]:
        levels = [0]
        parens = 0
        last_code_line = 0
        token: Token | None = None
        for token in stream:
            kind = token.type
            if kind == _NEWLINE:
                if "#" in token.value:
                    self.comments.extend(comments_in(token, last_code_line))
                if parens == 0:
                    yield token
                    yield from self._indentation(token, levels)
                continue
            if not last_code_line and (token.column or 1) > 1 and kind not in (_INDENT, _DEDENT):
                raise IndentationProblem("unexpected indentation", token.line or 1, token.column or 1)
            last_code_line = token.end_line or token.line or 0
            if kind == _OPEN:
                parens += 1
                if parens > MAX_DEPTH:
                    raise IndentationProblem(
                        f"nesting too deep: more than {MAX_DEPTH} levels of parentheses",
                        token.line or 1,
                        token.column or 1,
                    )
            elif kind == _CLOSE and parens > 0:
                parens -= 1
            yield token
        while len(levels) > 1:
            levels.pop()
            yield token_at_end(_DEDENT, token)

    def _indentation(self, newline: Token, levels: list[int]) -> Iterator[Token]:
        indent = newline.value.rsplit("\n", 1)[-1]
        width = indent_width(indent)
        line, column = newline.end_line or 1, newline.end_column or 1
        if width > levels[-1]:
            levels.append(width)
            if len(levels) > MAX_DEPTH + 1:
                raise IndentationProblem(
                    f"nesting too deep: more than {MAX_DEPTH} levels of indented blocks", line, column
                )
            yield Token(_INDENT, indent, newline.end_pos, line, column, line, column, newline.end_pos)
            return
        while width < levels[-1]:
            levels.pop()
            yield Token(_DEDENT, indent, newline.end_pos, line, column, line, column, newline.end_pos)
        if width != levels[-1]:
            raise IndentationProblem(
                "this line's indentation does not line up with any block above it", line, column
            )


def comments_in(newline: Token, last_code_line: int) -> list[RawComment]:
    """The comments a `_NEWLINE` token swallowed; one on `last_code_line` trails that line's code."""
    text: str = newline.value
    first_line: int = newline.line or 1
    first_column: int = newline.column or 1
    comments: list[RawComment] = []
    for found in _COMMENT.finditer(text):
        start = found.start()
        breaks = text.count("\n", 0, start)
        line = first_line + breaks
        column = start - text.rindex("\n", 0, start) if breaks else first_column + start
        comments.append((line, column, found.group().rstrip(), line == last_code_line))
    return comments


def token_at_end(kind: str, last: Token | None) -> Token:
    """A layout token at the end of the text, just after `last` (the last token read)."""
    if last is None:
        return Token(kind, "", 0, 1, 1, 1, 1, 0)
    line = last.end_line or last.line
    column = last.end_column or last.column
    return Token(kind, "", last.end_pos, line, column, line, column, last.end_pos)
