"""Parse errors in words a CS operations person reads.

Lark reports what it expected as a set of terminal names (`_NEWLINE`, `NAME`, `COLON`, …). This
module turns that set, with the token it found instead, into a sentence: "expected ':' at the
end of the line", "expected a duration such as 48h or 3 days", "expected an indented block after
'day 7:'", "unknown statement 'sned' (did you mean 'send'?)". Whole groups of terminals read as
one phrase ("a statement", "an operator") so that a message stays short.

Catalogue (each has a test in tests/dsl/test_parse_errors.py)
    unexpected indentation
    this line's indentation does not line up with any block above it
    nesting too deep: more than N levels of …
    expected an indented block after '…'
    expected ':' at the end of the line
    expected a duration such as 48h or 3 days
    expected a unit of time after 'N', such as minutes, hours, days or weeks
    unterminated text (missing closing ")
    unexpected '=': to compare two values, write '=='
    'else' without an 'if' just above it
    unknown statement / unknown clause or statement / unknown item '…' (did you mean '…'?)
    unexpected X: expected Y             (every other case)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_analysis import Shift

from dsl.diagnostics import Diagnostic, Span, suggest
from dsl.indenter import IndentationProblem

__all__ = ["diagnostic_for_indentation", "diagnostic_for_parse_error", "nesting_too_deep"]

_STATEMENTS = ("send", "create", "set", "update", "do", "wait", "if", "unless", "split", "start")
_CLAUSES = ("trigger", "audience", "exit", "goal", "reentry")
_FILE_ITEMS = ("playbook", "score", "policy", "metric", "events", "account", "audience", "task", "team", "success")
_OPERAND = {"NAME", "NUMBER", "MONEY", "PERCENT", "STRING", "DATE", "TRUE", "FALSE", "LPAR", "SEEN",
            "TASK", "EXACTLY", "AT_LEAST", "AT_MOST", "NOT", "MINUS"}
_OPERATORS = {"COMPARE_OP", "ADD_OP", "MUL_OP", "AND", "OR", "IS", "DOT", "OF"}
_DURATION = {"NUMBER", "SHORT_DURATION"}
_LAYOUT_AND_END = {"_NEWLINE", "_INDENT", "_DEDENT", "$END"}
_UNITS = {"MINUTE", "MINUTES", "HOUR", "HOURS", "DAY", "DAYS", "WEEK", "WEEKS", "BUSINESS"}

# Groups of terminals that read as one phrase, tried in order: (the terminals that must all be
# expected for the phrase to apply, the terminals it stands for, the phrase).
_GROUPS: list[tuple[set[str], set[str], str]] = [
    ({"PLAYBOOK", "SCORE", "POLICY"},
     {"PLAYBOOK", "SCORE", "POLICY", "METRIC", "EVENTS", "ACCOUNT", "AUDIENCE", "TASK", "TEAM", "SUCCESS", "_NEWLINE"},
     "'playbook', 'score', 'policy', 'metric', 'audience', 'events:', 'account fields:', 'task types:', "
     "'task template', 'team' or 'success plan'"),
    ({"EVENT", "EVERY", "NAME"}, {"EVENT", "EVERY"} | _OPERAND,
     "a trigger such as 'event signed', 'health becomes red', 'every month' or a condition"),
    ({"TRIGGER", "AUDIENCE"}, {"TRIGGER", "AUDIENCE", "EXIT", "GOAL", "REENTRY"},
     "a clause (trigger:, audience:, exit:, goal:, reentry:)"),
    ({"DAY", "NUMBER", "SEND"}, {"DAY", "NUMBER"}, "a step (day N:)"),
    ({"SEND", "CREATE", "IF"}, {s.upper() for s in _STATEMENTS},
     "a statement (send, create task, set, update score, do, wait, if, unless, split)"),
    ({"NAME", "NUMBER", "STRING", "LPAR"}, _OPERAND, "a value or a condition"),
    ({"NAME", "STRING", "TRUE", "PERCENT"}, {"NAME", "NUMBER", "MONEY", "PERCENT", "STRING", "TRUE", "FALSE"},
     'a value such as enterprise, true, "text", 10 or 40%'),
    (_DURATION, _DURATION, "a duration such as 48h or 3 days"),
    ({"COMPARE_OP", "AND"}, _OPERATORS, "an operator"),
    ({"COMPARE_OP", "ADD_OP"}, _OPERATORS, "an operator"),
]

_PHRASES = {
    "NAME": "a name",
    "STRING": 'text in double quotes',
    "NUMBER": "a number",
    "MONEY": "an amount such as 25k",
    "PERCENT": "a percentage such as 40%",
    "DATE": "a date such as 2026-04-15",
    "TIME_OF_DAY": "a time of day such as 09:00",
    "SHORT_DURATION": "a duration such as 48h",
    "AT_LEAST": "'at least'",
    "AT_MOST": "'at most'",
    "COMPARE_OP": "a comparison (==, !=, <, <=, >, >=)",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*' or '/'",
    "_NEWLINE": "the end of the line",
    "EQUAL": "'='",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
}


def nesting_too_deep(path: str, line: int, column: int) -> Diagnostic:
    return Diagnostic(Span(path, line, column), "nesting too deep to read", code="syntax")


def diagnostic_for_indentation(problem: IndentationProblem, path: str) -> Diagnostic:
    return Diagnostic(Span(path, problem.line, problem.column, problem.length), problem.message, code="syntax")


def diagnostic_for_parse_error(
    error: UnexpectedInput, text: str, path: str, keyword_of: Callable[[str], str | None]
) -> Diagnostic:
    """The diagnostic for a Lark error; `keyword_of(terminal)` gives a keyword terminal's word."""
    lines = text.split("\n")
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(error, lines, path)
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(error, lines, path, keyword_of)
    line, column = _place(error)
    return Diagnostic(Span(path, line, column), "this line cannot be read", code="syntax")


def _place(error: UnexpectedInput) -> tuple[int, int]:
    line = error.line if isinstance(error.line, int) and error.line > 0 else 1
    column = error.column if isinstance(error.column, int) and error.column > 0 else 1
    return line, column


def _unexpected_character(error: UnexpectedCharacters, lines: list[str], path: str) -> Diagnostic:
    line, column = _place(error)
    source = lines[line - 1] if line <= len(lines) else ""
    char = error.char
    following = source[column : column + 1]
    if char == '"':
        message = 'unterminated text (missing closing ")'
    elif char == "=" and following != "=":
        message = "unexpected '=': to compare two values, write '=='"
    elif char == "'":
        message = "text is written in double quotes (\"like this\"), not single quotes"
    elif char.isspace():
        message = "unexpected space character"
    else:
        message = f"unexpected character '{char}'"
    return Diagnostic(Span(path, line, column), message, code="syntax")


def _expected_set(error: UnexpectedToken) -> set[str]:
    """The terminals the parser can really take here.

    An LALR state may list terminals that only a reduction would reject (states with the same
    items share their lookaheads), so each one is tried on a copy of the state stack.
    """
    state = error.state
    try:
        states = state.parse_conf.parse_table.states
        stack = list(state.state_stack)
    except AttributeError:
        return set(error.expected or ())
    return {name for name in states[stack[-1]] if name.isupper() and _takes(states, stack, name)}


def _takes(states: dict[Any, dict[str, tuple[Any, Any]]], stack: list[Any], terminal: str) -> bool:
    """Whether the parser, with this stack, shifts `terminal` after the reductions it calls for."""
    stack = list(stack)
    for _ in range(10_000):
        action = states[stack[-1]].get(terminal)
        if action is None:
            return False
        kind, argument = action
        if kind is Shift or terminal == "$END":
            return True
        size = len(argument.expansion)
        if size:
            del stack[-size:]
        goto = states[stack[-1]].get(argument.origin.name)
        if goto is None:
            return False
        stack.append(goto[1])
    return False


def _unexpected_token(
    error: UnexpectedToken, lines: list[str], path: str, keyword_of: Callable[[str], str | None]
) -> Diagnostic:
    token: Token = error.token
    expected = _expected_set(error)
    line, column = _place(error)
    kind = token.type
    width = max(len(str(token.value)), 1) if kind not in _LAYOUT_AND_END else 1
    if kind in _LAYOUT_AND_END:
        line, column = token.line or line, token.column or column
    code_lines = len(lines) - 1 if lines and lines[-1] == "" else len(lines)
    if line > code_lines:  # past the last line: point just after the last code
        line, column = _end_of_code(lines, code_lines)

    def at(message: str, code: str = "syntax", suggestion: str | None = None) -> Diagnostic:
        return Diagnostic(Span(path, line, column, width), message, code=code, suggestion=suggestion)

    if kind == "_INDENT":
        return at("unexpected indentation")
    if "_INDENT" in expected:
        previous = _previous_code_line(lines, token.line or line if kind != "$END" else len(lines) + 1)
        return at(f"expected an indented block after '{previous}'")
    if kind == "_NEWLINE" and "COLON" in expected:
        return at("expected ':' at the end of the line")
    if kind == "EQUAL" and "COMPARE_OP" in expected:
        return at("unexpected '=': to compare two values, write '=='")
    if expected and expected <= _UNITS | {"_NEWLINE"} and "DAYS" in expected:
        previous = _previous_token_text(lines, line, column)
        return at(f"expected a unit of time after '{previous}', such as minutes, hours, days or weeks")
    if expected >= _DURATION and not expected & {"NAME", "STRING"}:
        return at("expected a duration such as 48h or 3 days")
    if kind == "NAME":
        return at(*_unexpected_word(str(token.value), expected, keyword_of))
    phrase = _phrase(expected, keyword_of)
    if kind in _LAYOUT_AND_END:
        return at(f"expected {phrase} before {_PHRASES[kind]}")
    return at(f"unexpected {_describe(token)}: expected {phrase}")


def _unexpected_word(
    word: str, expected: set[str], keyword_of: Callable[[str], str | None]
) -> tuple[str, str, str | None]:
    """The message for a word the parser cannot take here, its code, and the keyword it suggests."""
    if word == "else":
        return "'else' without an 'if' just above it", "syntax", None
    keywords = [k for k in (keyword_of(name) for name in expected) if k]
    near = suggest(word, keywords)
    hint = f" (did you mean '{near}'?)" if near else ""
    if {"SEND", "TRIGGER"} <= expected:
        return f"unknown clause or statement '{word}'{hint}", "unknown-name", near
    if {"SEND", "IF"} <= expected:
        return f"unknown statement '{word}'{hint}", "unknown-name", near
    if {"PLAYBOOK", "SCORE"} <= expected:
        if near:
            return f"unknown item '{word}'{hint}", "unknown-name", near
        return f"unknown item '{word}': expected {_phrase(expected, keyword_of)}", "unknown-name", None
    return f"unexpected '{word}': expected {_phrase(expected, keyword_of)}{hint}", "syntax", near


def _end_of_code(lines: list[str], count: int) -> tuple[int, int]:
    for index in range(count - 1, -1, -1):
        code = _without_comment(lines[index]).rstrip()
        if code:
            return index + 1, len(code) + 1
    return 1, 1


def _describe(token: Token) -> str:
    if token.type in {"_NEWLINE", "_DEDENT", "$END"}:
        return _PHRASES[token.type]
    value = str(token.value)
    if len(value) > 30:
        value = value[:27] + "..."
    return f"'{value}'"


def _phrase(expected: set[str], keyword_of: Callable[[str], str | None]) -> str:
    remaining = set(expected)
    phrases: list[str] = []
    for needed, members, phrase in _GROUPS:
        if needed <= remaining:
            phrases.append(phrase)
            remaining -= members
    words: list[str] = []
    for name in sorted(remaining):
        if name in _PHRASES:
            continue
        keyword = keyword_of(name)
        if keyword is not None:
            words.append(f"'{keyword}'")
    phrases.extend(sorted(words))
    for name in ("NAME", "STRING", "NUMBER", "MONEY", "PERCENT", "DATE", "TIME_OF_DAY", "SHORT_DURATION",
                 "COMPARE_OP", "ADD_OP", "MUL_OP", "_INDENT", "_NEWLINE"):
        if name in remaining:
            phrases.append(_PHRASES[name])
    if not phrases:
        for name in ("_DEDENT", "$END"):
            if name in remaining:
                phrases.append(_PHRASES[name])
    return _join(phrases) if phrases else "something else"


def _join(items: Iterable[str]) -> str:
    items = list(items)
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _previous_code_line(lines: list[str], line: int) -> str:
    """The nearest line above `line` that holds code, without its comment."""
    for index in range(min(line - 2, len(lines) - 1), -1, -1):
        code = _without_comment(lines[index]).strip()
        if code:
            return code if len(code) <= 60 else code[:57] + "..."
    return ""


def _previous_token_text(lines: list[str], line: int, column: int) -> str:
    source = lines[line - 1][: column - 1] if line <= len(lines) else ""
    words = source.split()
    return words[-1] if words else ""


def _without_comment(source: str) -> str:
    quoted = False
    for index, char in enumerate(source):
        if char == '"' and (index == 0 or source[index - 1] != "\\"):
            quoted = not quoted
        elif char == "#" and not quoted:
            return source[:index]
    return source
