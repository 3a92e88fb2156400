"""Places in a document's text: the word under the cursor, what comes before it, and ranges.

The protocol counts a line's characters in UTF-16 code units; the language counts code points.
`to_column` and `to_character` convert between them on the line's own text, so a name after an
emoji or an accented letter is underlined where it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

from dsl.diagnostics import Span

__all__ = ["Word", "line_of", "span_range", "to_character", "to_column", "word_at"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass(frozen=True)
class Word:
    """A name or a dotted path at a position: its text, its line, where it starts and ends (0-based)."""

    text: str
    line: int
    start: int
    end: int
    before: str  # the line's text before the word
    part: str  # the part of a dotted path the position is on (`manager` in `csm.manager`)
    parts_before: tuple[str, ...]  # the parts before that one (`csm`)


def line_of(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line] if 0 <= line < len(lines) else ""


def to_column(line_text: str, character: int) -> int:
    """The code-point index of the UTF-16 offset `character` on this line."""
    units = 0
    for index, char in enumerate(line_text):
        if units >= character:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line_text)


def to_character(line_text: str, column: int) -> int:
    """The UTF-16 offset of the code-point index `column` on this line."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in line_text[:column])


def word_at(text: str, position: types.Position) -> Word | None:
    """The name or dotted path at (or just before) the position, if any."""
    line_text = line_of(text, position.line)
    column = to_column(line_text, position.character)
    for match in _WORD.finditer(line_text):
        if match.start() <= column <= match.end():
            offset = column - match.start()
            parts = match.group().split(".")
            consumed, index = 0, 0
            for index, part in enumerate(parts):  # noqa: B007 - the index found is used below
                if offset <= consumed + len(part):
                    break
                consumed += len(part) + 1
            return Word(match.group(), position.line, match.start(), match.end(), line_text[: match.start()],
                        parts[index], tuple(parts[:index]))
    return None


def span_range(span: Span, text: str | None) -> types.Range:
    """The protocol's range of a diagnostic's span (1-based columns, on one line)."""
    line = max(span.line - 1, 0)
    line_text = line_of(text, line) if text is not None else ""
    start = max(span.column - 1, 0)
    end = start + max(span.length, 1)
    if line_text:
        return types.Range(types.Position(line, to_character(line_text, start)),
                           types.Position(line, to_character(line_text, min(end, max(len(line_text), start + 1)))))
    return types.Range(types.Position(line, start), types.Position(line, end))
