"""The canonical layout of a `.play` file: `playbook fmt` prints the syntax tree back.

The layout:
- blocks indented by 4 spaces; one statement per line (`day 0: send email x` is split);
- one space around binary operators and after the `:` of a clause, none inside `key=value`;
- durations written one way: `30m` and `48h` for minutes and hours, `2 days`, `1 day`,
  `3 weeks`, `2 business days` for the rest;
- one blank line between top-level items (one-line `metric` and `audience` declarations written
  one under the other stay together); inside blocks the writer's blank lines are kept,
  at most one in a row and never right after a block opens; a trailing newline;
- every comment kept: a comment line stays before the line it preceded, re-indented to its
  block; a comment that ends a line of code stays on that line, two spaces after the code,
  except that end-of-line comments written at one column within a paragraph (lines between
  blank lines) stay aligned at that column, moved right if the longest of their lines needs it;
- everything else as written: numbers, amounts (`25k`), texts with their escapes, parentheses.

The printed text is parsed again and compared with the original tree (positions aside) before
it is returned: a file whose meaning would change is refused with a `FormatError`, never
rewritten. A file that does not parse raises `FormatError` with the parser's diagnostics.

Modules: `printer` turns the tree into lines (declarations, playbooks, statements), with
`expressions` for values and conditions; `layout` puts the comments back, keeps the blank lines
and renders the text; `source` is the entry point and the check that the meaning is unchanged.
"""

from __future__ import annotations

from dsl.formatter.expressions import duration_text, expr_text, text_literal
from dsl.formatter.layout import INDENT
from dsl.formatter.source import FormatError, format_source

__all__ = ["INDENT", "FormatError", "duration_text", "expr_text", "format_source", "text_literal"]
