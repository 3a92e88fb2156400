"""Parsing a valid file quickly: Lark's own tables and lexers, run by one loop.

Lark reads a file through layers: the contextual lexer, the postlexer of `dsl/indenter.py`, the
LALR parser and a wrapper around each rule callback, each layer a generator or a call around the
next. On this language the layers cost more than the work. `TableParser` takes what Lark built
from the grammar (the parse table, the lexer of each parser state, the rules) and runs it in one
loop, with the block rules of the indenter inline, calling the same `ToAst` callbacks with the
same children in the same order. For a valid file it gives the very tree Lark gives, comments
included (tests/dsl/test_table_parser.py compares the two on every example and on fuzzed text).

It only knows how to succeed. At the first thing that is not plainly valid (a character no
terminal matches, a token the table has no action for, indentation that does not line up,
nesting past `MAX_DEPTH`) it raises `NotHandled`, and `dsl.parser` parses the file again with
Lark, whose exceptions `dsl/parse_errors.py` turns into the usual message at the usual place.

What it reads of Lark is checked when it is built: should a Lark release arrange its parser
differently, `TableParser.build` returns None and Lark parses every file itself, as before.

`dsl.table_parser.tables` reads Lark's parser into rows, lexers and reductions;
`dsl.table_parser.loop` runs them over a text.
"""

from __future__ import annotations

from dsl.table_parser.loop import TableParser
from dsl.table_parser.tables import NotHandled

__all__ = ["NotHandled", "TableParser"]
