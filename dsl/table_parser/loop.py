"""The quick loop: lexing, blocks and LALR parsing of a valid file in one pass over its text."""

from __future__ import annotations

from typing import Any

from lark import Lark, Token

from dsl.indenter import MAX_DEPTH, RawComment, comments_in, indent_width, token_at_end
from dsl.table_parser.tables import NotHandled, NotSupported, Tables, read_tables

__all__ = ["TableParser"]

_NEWLINE = "_NEWLINE"
_INDENT = "_INDENT"
_DEDENT = "_DEDENT"
_OPEN = "LPAR"
_CLOSE = "RPAR"
_END = "$END"


class TableParser:
    """Parses valid files with the tables of one Lark parser and the callbacks of its transformer."""

    def __init__(self, tables: Tables) -> None:
        self._actions = tables.actions
        self._lexers = tables.lexers
        self._start = tables.start
        self._end = tables.end

    @classmethod
    def build(cls, lark: Lark, transformer: object) -> TableParser | None:
        """The loop for this LALR parser (built with `transformer=transformer`), or None."""
        try:
            return cls(read_tables(lark, transformer))
        except (AttributeError, KeyError, TypeError, NotSupported):
            return None

    def parse(self, text: str) -> tuple[Any, list[RawComment]]:
        """The value of the start rule for `text` and the comments in it; `NotHandled` if invalid."""
        actions = self._actions
        lexers = self._lexers
        new_token = str.__new__
        state = self._start
        states = [state]
        values: list[Any] = []
        comments: list[RawComment] = []
        levels = [0]
        parens = 0
        last_code_line = 0
        pos = 0
        line = 1
        line_start = 0
        length = len(text)
        layout: list[Token] = []  # _INDENT / _DEDENT tokens still to feed, the next one last
        last: Token | None = None
        try:
            while True:
                if layout:
                    token = layout.pop()
                    kind = token.type
                elif pos < length:
                    match, ignored, multiline, keywords = lexers[state]
                    found = match(text, pos)
                    if found is None:
                        raise NotHandled
                    kind = found.lastgroup
                    if kind in ignored:
                        if kind in multiline:
                            value = found.group()
                            breaks = value.count("\n")
                            if breaks:
                                line += breaks
                                line_start = pos + value.rindex("\n") + 1
                        pos = found.end()
                        continue
                    value = found.group()
                    end = found.end()
                    token = new_token(Token, value)
                    token.start_pos = pos
                    token.line = line
                    token.column = column = pos - line_start + 1
                    if kind in multiline:
                        breaks = value.count("\n")
                        if breaks:
                            line += breaks
                            line_start = pos + value.rindex("\n") + 1
                    elif kind in keywords:
                        kind = keywords[kind].get(value, kind)
                    token.type = kind
                    token.value = value
                    token.end_line = line
                    token.end_column = end - line_start + 1
                    token.end_pos = pos = end
                    last = token
                    if kind == _NEWLINE:
                        if "#" in value:
                            comments.extend(comments_in(token, last_code_line))
                        if parens:
                            continue
                        indent = value[value.rfind("\n") + 1 :]
                        width = indent_width(indent) if indent else 0
                        if width != levels[-1]:
                            self._indentation(token, indent, width, levels, layout)
                    else:
                        if not last_code_line and column > 1:
                            raise NotHandled
                        last_code_line = line
                        if kind == _OPEN:
                            parens += 1
                            if parens > MAX_DEPTH:
                                raise NotHandled
                        elif kind == _CLOSE and parens:
                            parens -= 1
                elif len(levels) > 1:
                    levels.pop()
                    token = token_at_end(_DEDENT, last)
                    kind = _DEDENT
                else:
                    return self._finish(states, values), comments
                while True:
                    action = actions[state][kind]
                    if action.__class__ is int:
                        state = action
                        states.append(state)
                        values.append(token)
                        break
                    size, origin, make = action
                    if make is None:
                        state = actions[states[-2]][origin]
                        states[-1] = state
                    elif size:
                        children = values[-size:]
                        del values[-size:]
                        del states[-size:]
                        values.append(make(children))
                        state = actions[states[-1]][origin]
                        states.append(state)
                    else:
                        values.append(make([]))
                        state = actions[state][origin]
                        states.append(state)
        except KeyError:
            raise NotHandled from None

    def _indentation(self, newline: Token, indent: str, width: int, levels: list[int], layout: list[Token]) -> None:
        """Open one block or close blocks after `newline`, queueing their tokens on `layout`."""
        line, column, at = newline.end_line, newline.end_column, newline.end_pos
        if width > levels[-1]:
            levels.append(width)
            if len(levels) > MAX_DEPTH + 1:
                raise NotHandled
            layout.append(Token(_INDENT, indent, at, line, column, line, column, at))
            return
        while width < levels[-1]:
            levels.pop()
            layout.append(Token(_DEDENT, indent, at, line, column, line, column, at))
        if width != levels[-1]:
            raise NotHandled

    def _finish(self, states: list[int], values: list[Any]) -> Any:
        """Reduce at the end of the text until the start rule is complete; its value."""
        actions = self._actions
        while True:
            action = actions[states[-1]].get(_END)
            if action is None or action.__class__ is int:
                raise NotHandled
            size, origin, make = action
            if make is None:
                del states[-1]
            elif size:
                children = values[-size:]
                del values[-size:]
                del states[-size:]
                values.append(make(children))
            else:
                values.append(make([]))
            goto = actions[states[-1]][origin]
            states.append(goto)
            if goto == self._end:
                return values[-1]
