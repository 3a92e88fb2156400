"""Comments and blank lines: where each comment goes, which blank lines stay, and the final text."""

from __future__ import annotations

from dsl import ast
from dsl.formatter.printer import Line

__all__ = ["INDENT", "place_comments", "render"]

INDENT = "    "


def _width(indentation: str) -> int:
    """How wide leading whitespace is, a tab reaching the next multiple of 4 (as the parser counts)."""
    width = 0
    for char in indentation:
        if char == "\t":
            width += 4 - width % 4
        elif char in " \f":
            width += 1
        else:
            break
    return width


def place_comments(lines: list[Line], comments: list[ast.Comment], source_lines: list[str]) -> list[Line]:
    """Put every comment back: trailing ones on their line, comment lines before the next line."""
    by_source_line = {line.source_line: line for line in lines}
    standalone: list[ast.Comment] = []
    for comment in comments:
        owner = by_source_line.get(comment.pos.line) if comment.trailing else None
        if comment.trailing and owner is None:  # on a continued line: the statement it belongs to
            owner = next((line for line in reversed(lines) if line.source_line <= comment.pos.line), None)
        if owner is None:
            standalone.append(comment)
            continue
        body = comment.text.rstrip()
        owner.trailing = body if owner.trailing is None else f"{owner.trailing} {body}"
        owner.trailing_column = comment.pos.column - 1

    result: list[Line] = []
    pending = sorted(standalone, key=lambda c: (c.pos.line, c.pos.column))
    index = 0
    for line in [*lines, None]:
        while index < len(pending) and (line is None or pending[index].pos.line < line.source_line):
            comment = pending[index]
            depth = _comment_depth(comment, result, line, source_lines)
            result.append(Line(depth, comment.text.rstrip(), comment.pos.line, is_comment=True))
            index += 1
        if line is not None:
            result.append(line)
    return result


def _comment_depth(comment: ast.Comment, before: list[Line], after: Line | None,
                   source_lines: list[str]) -> int:
    """The block a comment line belongs to: the deepest enclosing one it is indented into."""
    previous = next((line for line in reversed(before) if not line.is_comment), None)
    if previous is None:
        return 0
    if previous.opens_block:
        return previous.depth + 1
    shallowest = after.depth if after is not None else 0
    written = _width(source_lines[comment.pos.line - 1])
    reached = previous.depth + 1
    for line in reversed(before):
        if line.is_comment or line.depth >= reached:
            continue
        reached = line.depth
        if _width(source_lines[line.source_line - 1]) <= written:
            return max(line.depth, shallowest)
        if reached <= shallowest:
            break
    return shallowest


def _is_blank(source_lines: list[str], number: int) -> bool:
    return 1 <= number <= len(source_lines) and not source_lines[number - 1].strip()


def render(lines: list[Line], source_lines: list[str]) -> str:
    rows: list[Line | None] = []  # None is a blank line
    for index, line in enumerate(lines):
        if index > 0 and _blank_before(lines, index, source_lines):
            rows.append(None)
        rows.append(line)
    columns = _trailing_columns(rows)
    out: list[str] = []
    for row in rows:
        if row is None:
            out.append("")
            continue
        text = INDENT * row.depth + row.text
        if row.trailing is not None:
            text = text + " " * (columns[id(row)] - len(text)) + row.trailing
        out.append(text)
    return "\n".join(out) + "\n" if out else ""


_ONE_LINE_ITEMS = ("metric ", "audience ")


def _one_line_run(previous: Line, line: Line) -> bool:
    """Two one-line declarations of a kind written one under the other (`metric`, `audience`)
    stay together, as the writer grouped them."""
    return (previous.depth == 0 and not previous.is_comment and not previous.opens_block
            and not line.opens_block and previous.source_line == line.source_line - 1
            and any(previous.text.startswith(word) and line.text.startswith(word) for word in _ONE_LINE_ITEMS))


def _blank_before(lines: list[Line], index: int, source_lines: list[str]) -> bool:
    line, previous = lines[index], lines[index - 1]
    if previous.opens_block and not previous.is_comment and line.depth > previous.depth:
        return False
    if line.depth == 0 and not line.is_comment:  # a top-level item, unless its comments lead in
        if _one_line_run(previous, line):
            return _is_blank(source_lines, line.source_line - 1)
        return not (previous.is_comment and previous.depth == 0 and previous.source_line == line.source_line - 1)
    if line.is_comment and line.depth == 0:
        following = next((later for later in lines[index:] if not later.is_comment), None)
        if following is not None and following.depth == 0 and _attached(lines, index, following):
            return True
    return _is_blank(source_lines, line.source_line - 1)


def _trailing_columns(rows: list[Line | None]) -> dict[int, int]:
    """Where each end-of-line comment starts: two spaces after the code, or, for comments written
    at one column within a paragraph (lines between blank lines), that shared column."""
    columns: dict[int, int] = {}
    paragraph: list[Line] = []
    for row in [*rows, None]:
        if row is not None:
            if row.trailing is not None:
                paragraph.append(row)
            continue
        groups: dict[int, list[Line]] = {}
        for line in paragraph:
            groups.setdefault(line.trailing_column, []).append(line)
        for column, group in groups.items():
            widest = max(len(INDENT * line.depth + line.text) + 2 for line in group)
            for line in group:
                own = len(INDENT * line.depth + line.text) + 2
                columns[id(line)] = max(column, widest) if len(group) > 1 else own
        paragraph = []
    return columns


def _attached(lines: list[Line], index: int, item: Line) -> bool:
    """True when lines[index] starts a run of comment lines written right above `item`."""
    if index > 0 and lines[index - 1].is_comment and lines[index - 1].depth == 0 \
            and lines[index - 1].source_line == lines[index].source_line - 1:
        return False  # not the start of the run
    expected = lines[index].source_line
    for line in lines[index:]:
        if line is item:
            return line.source_line == expected
        if not line.is_comment or line.source_line != expected:
            return False
        expected += 1
    return False
