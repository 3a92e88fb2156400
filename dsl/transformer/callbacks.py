"""How Lark calls a rule method: one callback per rule, from the rule's children to its value.

Lark hands a rule's callback every child, tokens of keywords and layout included. The callback
works out the rule's position and passes the method only the children that carry meaning: the
values of sub-rules, the tokens of names (as `ast.Name`), numbers, texts and operators. The
keyword rules (`!rule` in the grammar) keep their keyword tokens too. `specialise` gives the
quick loop of `dsl.table_parser`, which knows each child's kind in advance, a quicker callback
that does the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lark import Token

from dsl import ast
from dsl.transformer.places import LAYOUT, MEANINGFUL, RuleBase, place

__all__ = ["KEYWORD_RULES", "RuleCallback", "rule_methods"]

# Rules whose value is the keyword written (`!rule` in the grammar).
KEYWORD_RULES = frozenset({"boolean", "channel", "count_op", "date_unit", "direction", "duration_unit",
                           "period", "trend_direction", "value_boolean"})
# Public methods that are helpers rather than rules.
_HELPERS = frozenset({"span_of", "name_of"})


def rule_methods(builder_type: type) -> dict[str, Callable[..., Any]]:
    """The method for each rule of the grammar, by rule name: the public methods of `builder_type`."""
    return {
        name: getattr(builder_type, name)
        for name in dir(builder_type)
        if not name.startswith("_") and name not in _HELPERS and callable(getattr(builder_type, name))
    }


class RuleCallback:
    """One rule's callback: its position and its meaningful children, passed to the method."""

    __slots__ = ("builder", "keep_keywords", "method")

    def __init__(self, builder: RuleBase, method: Callable[..., Any], keep_keywords: bool) -> None:
        self.builder = builder
        self.method = method
        self.keep_keywords = keep_keywords

    def __call__(self, children: list[Any]) -> Any:
        pos = self.builder.span_of(children)
        if self.keep_keywords:
            values = [c for c in children if not (isinstance(c, Token) and c.type in LAYOUT)]
        else:
            values = [
                c if not isinstance(c, Token) else self.builder.name_of(c) if c.type == "NAME" else c
                for c in children
                if not isinstance(c, Token) or c.type in MEANINGFUL
            ]
        return self.method(self.builder, pos, values)

    def specialise(self, kinds: Sequence[str | None]) -> Callable[[list[Any]], Any]:
        """This callback for children of known kinds, quicker: it need not look at each child.

        `kinds` gives, child by child, the terminal's name of a token or None for a rule's value.
        The position comes from the first and last children that take space, as in `span_of`
        (should such a child be a value without a place, the general callback takes over).
        """
        spaced = [index for index, kind in enumerate(kinds) if kind not in LAYOUT]
        if self.keep_keywords or not spaced:
            return self
        first, last = spaced[0], spaced[-1]
        first_is_token, last_is_token = kinds[first] is not None, kinds[last] is not None
        picks = tuple((index, kind == "NAME") for index, kind in enumerate(kinds) if kind is None or kind in MEANINGFUL)
        builder, method, general = self.builder, self.method, self.__call__
        name_of = builder.name_of
        pos_type = ast.Pos

        def specialised(children: list[Any]) -> Any:
            head, tail = children[first], children[last]
            if first_is_token:
                line, column = head.line or 1, head.column or 1
            else:
                found = place(head, 0)
                if found is None:
                    return general(children)
                line, column = found.line, found.column
            if last_is_token:
                end_line, end_column = tail.end_line or line, tail.end_column or column
            else:
                found = place(tail, -1)
                if found is None:
                    return general(children)
                end_line, end_column = found.end_line, found.end_column
            values = [name_of(children[index]) if is_name else children[index] for index, is_name in picks]
            return method(builder, pos_type(builder.source_path, line, column, end_line, end_column), values)

        return specialised
