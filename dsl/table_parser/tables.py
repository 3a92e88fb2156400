"""What the quick loop reads of a Lark parser: each state's row and lexer, each rule's reduction.

`read_tables` takes the parse table, the contextual lexer's lexer of each state and the rules
from a Lark LALR parser, and gives them in the shape `dsl.table_parser.loop` runs: a row per
state mapping each terminal or rule name to the state to go to or to the reduction to make, and
a lexer per state. A reduction makes a rule's value as Lark's parse-tree builder would with the
same transformer. Anything it does not mirror raises `NotSupported`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lark import Lark
from lark.lexer import UnlessCallback
from lark.parsers.lalr_analysis import Shift

from dsl.indenter import BlockIndenter

__all__ = ["NotHandled", "NotSupported", "Reduction", "Row", "StateLexer", "Tables", "read_tables"]

# A reduction: how many values it takes off the stack, the rule it makes, and what makes the
# rule's value from those values (None: the value of a one-symbol `?rule` is its one child).
Reduction = tuple[int, str, Callable[[list[Any]], Any] | None]
# A parser state's row: for each terminal or rule name, the state to go to or the reduction.
Row = dict[str, Any]
# The lexer of a parser state: its matcher, the terminals it skips, those that may span lines,
# and the keywords a matched terminal may be (`NAME` "send" is the keyword `SEND`).
StateLexer = tuple[Callable[[str, int], Any], frozenset[str], frozenset[str], dict[str, dict[str, str]]]


class NotHandled(Exception):
    """The text is not plainly valid: Lark parses it again and says what is wrong."""


class NotSupported(Exception):
    """Lark built its parser in a way this loop does not mirror."""


@dataclass(frozen=True)
class Tables:
    """Each parser state's row and lexer, by the state's number, and the start and end states."""

    actions: list[Row]
    lexers: list[StateLexer]
    start: int
    end: int


def read_tables(lark: Lark, transformer: object) -> Tables:
    """The tables of this LALR parser, built with `transformer=transformer`; else `NotSupported`."""
    options = lark.options
    if (
        options.parser != "lalr"
        or options.lexer != "contextual"
        or options.maybe_placeholders
        or options.propagate_positions
        or options.transformer is not transformer
        or not isinstance(options.postlex, BlockIndenter)
        or lark.parser.lexer_conf.callbacks
        or hasattr(transformer, "__default__")
    ):
        raise NotSupported
    table = lark.parser.parser.parser.parse_table
    numbers = range(len(table.states))
    if set(table.states) != set(numbers) or set(lark.parser.lexer.lexer.lexers) != set(numbers):
        raise NotSupported
    lexers = _state_lexers(lark.parser.lexer.lexer.lexers)
    reductions: dict[Any, Reduction] = {}
    actions: list[Row] = []
    for state in numbers:
        row: Row = {}
        for symbol, (action, argument) in table.states[state].items():
            if action is Shift:
                row[symbol] = argument
            else:
                if argument not in reductions:
                    reductions[argument] = _reduction(argument, transformer)
                row[symbol] = reductions[argument]
        actions.append(row)
    start, end = table.start_states["start"], table.end_states["start"]
    return Tables(actions, [lexers[state] for state in numbers], start, end)


def _state_lexers(lexers: dict[int, Any]) -> dict[int, StateLexer]:
    """The matcher of each parser state's lexer: Lark's own compiled pattern, and its keywords."""
    built: dict[int, StateLexer] = {}
    by_lexer: dict[int, StateLexer] = {}
    for state, lexer in lexers.items():
        if id(lexer) not in by_lexer:
            patterns = lexer.scanner._mres
            if len(patterns) != 1:
                raise NotSupported
            keywords: dict[str, dict[str, str]] = {}
            for terminal, callback in lexer.callback.items():
                if not isinstance(callback, UnlessCallback):
                    raise NotSupported
                words = callback.scanner.terminals
                if any(word.pattern.flags or word.pattern.type != "str" for word in words):
                    raise NotSupported
                keywords[terminal] = {word.pattern.value: word.name for word in words}
            if set(keywords) & set(lexer.newline_types):
                raise NotSupported
            by_lexer[id(lexer)] = (
                patterns[0].match,
                frozenset(lexer.ignore_types),
                frozenset(lexer.newline_types),
                keywords,
            )
        built[state] = by_lexer[id(lexer)]
    return built


def _reduction(rule: Any, transformer: object) -> Reduction:
    """How the loop reduces `rule`, as Lark's parse-tree builder would with this transformer.

    Children of a rule whose name starts with `_` are spliced into their parent (Lark builds a
    tree for the inlined rule and its parent takes the tree's children; here the inlined rule's
    value is the list of them); a `?rule` with a single child is that child; every other rule
    calls the transformer's attribute of its name (or alias) with the children.
    """
    origin: str = rule.origin.name
    options = rule.options
    if options.template_source is not None:
        raise NotSupported
    size = len(rule.expansion)
    keep_all = options.keep_all_tokens
    kept = [
        (index, not symbol.is_term and symbol.name.startswith("_"))
        for index, symbol in enumerate(rule.expansion)
        if keep_all or not (symbol.is_term and symbol.filter_out)
    ]
    spliced = any(splice for _, splice in kept)
    inlined = origin.startswith("_")
    single = options.expand1 and not rule.alias
    if single and size == 1 and kept == [(0, False)]:
        return size, origin, None
    gather = _gather(kept) if spliced or len(kept) < size else None
    if inlined:
        if rule.alias or single or hasattr(transformer, origin):
            raise NotSupported
        return size, origin, gather or _same
    name = rule.alias or origin
    build: Callable[[list[Any]], Any] = getattr(transformer, name, None) or _not_handled
    if getattr(build, "visit_wrapper", None) is not None:
        raise NotSupported
    specialise = getattr(build, "specialise", None)
    if gather is None and specialise is not None:
        build = specialise(tuple(symbol.name if symbol.is_term else None for symbol in rule.expansion))
    if single:
        build = _first_if_single(build)
    if gather is not None:
        build = _after(gather, build)
    return size, origin, build


def _gather(kept: list[tuple[int, bool]]) -> Callable[[list[Any]], list[Any]]:
    """The children a rule passes on: those kept, with the lists of inlined rules spliced in.

    A spliced list is the value of an inlined rule, used by nothing else: the first one becomes
    the rule's list (as in Lark's own child filter), and the rest go on its end.
    """
    if not kept:
        return _nothing
    (first, splice_first), *rest = kept
    if splice_first and rest == [(first + 1, True)]:  # `_a: _a _b`, the most frequent shape

        def gather_two(children: list[Any]) -> list[Any]:
            out: list[Any] = children[first]
            out += children[first + 1]
            return out

        return gather_two

    def gather(children: list[Any]) -> list[Any]:
        out: list[Any] = children[first] if splice_first else [children[first]]
        for index, splice in rest:
            if splice:
                out += children[index]
            else:
                out.append(children[index])
        return out

    return gather


def _first_if_single(build: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    def first_if_single(children: list[Any]) -> Any:
        return children[0] if len(children) == 1 else build(children)

    return first_if_single


def _after(gather: Callable[[list[Any]], list[Any]], build: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    def gathered(children: list[Any]) -> Any:
        return build(gather(children))

    return gathered


def _same(children: list[Any]) -> list[Any]:
    return children


def _nothing(children: list[Any]) -> list[Any]:
    return []


def _not_handled(children: list[Any]) -> Any:
    """A rule the transformer has no callback for: Lark would make a parse tree of it."""
    raise NotHandled
