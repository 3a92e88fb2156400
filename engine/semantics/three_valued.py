"""Three-valued logic: the unknown value and the operators that propagate it.

A missing field is `UNKNOWN`. Comparisons and arithmetic with an unknown operand are unknown;
`and`, `or` and `not` follow Kleene's rules (`false and unknown` is false, `true or unknown` is
true); `exactly/at least/at most N of (...)` is unknown only when the unknowns could tip it.
Dates compare as dates whether they come as `date` values or ISO strings. Pure stdlib.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from engine.semantics import calendar

__all__ = [
    "UNKNOWN",
    "Unknown",
    "Value",
    "arith",
    "compare",
    "count_true",
    "kleene_and",
    "kleene_not",
    "kleene_or",
    "truth",
    "truthy",
]


class Unknown(enum.Enum):
    """The third truth value: what a missing field evaluates to."""

    UNKNOWN = "unknown"

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown.UNKNOWN

Value = Any  # a field value, a number, a bool, a date, or UNKNOWN


def truthy(value: Value) -> bool:
    """True only for True: unknown never admits, never triggers, never takes a branch."""
    return value is True


def truth(value: Value) -> bool | Unknown:
    """A value as a truth value: null and unknown are unknown, anything else its boolean."""
    if value is UNKNOWN or value is None:
        return UNKNOWN
    if isinstance(value, bool):
        return value
    return bool(value)


def kleene_not(value: Value) -> Value:
    outcome = truth(value)
    return UNKNOWN if outcome is UNKNOWN else not outcome


def _as_datetime(value: Value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _coerce_pair(left: Value, right: Value) -> tuple[Value, Value]:
    """Bring a date or datetime and an ISO string to the same type, so they compare as dates."""
    if isinstance(left, datetime) or isinstance(right, datetime):
        a, b = _as_datetime(left), _as_datetime(right)
        if a is not None and b is not None and (a.tzinfo is None) == (b.tzinfo is None):
            return a, b
    if isinstance(left, date) or isinstance(right, date):
        a2, b2 = calendar.as_date(left), calendar.as_date(right)
        if a2 is not None and b2 is not None:
            return a2, b2
    return left, right


def _is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def compare(op: str, left: Value, right: Value) -> Value:
    """`left op right`; unknown with an unknown operand or operands that do not order."""
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    left, right = _coerce_pair(left, right)
    if op in ("==", "!=") and _is_number(left) != _is_number(right):
        return op == "!="  # `true == 1` and `"5" == 5` are not equal
    try:
        return _COMPARE[op](left, right)
    except TypeError:
        return UNKNOWN


def arith(op: str, left: Value, right: Value) -> Value:
    """`left op right` on numbers; unknown otherwise, and for a division by zero."""
    if not (_is_number(left) and _is_number(right)):
        return UNKNOWN
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    return UNKNOWN if right == 0 else left / right


def kleene_and(values: list[Value]) -> Value:
    """False if any is false; else unknown if any is unknown; else true."""
    truths = [truth(v) for v in values]
    if any(t is False for t in truths):
        return False
    return UNKNOWN if any(t is UNKNOWN for t in truths) else True


def kleene_or(values: list[Value]) -> Value:
    """True if any is true; else unknown if any is unknown; else false."""
    truths = [truth(v) for v in values]
    if any(t is True for t in truths):
        return True
    return UNKNOWN if any(t is UNKNOWN for t in truths) else False


def count_true(op: str, count: int, values: list[Value]) -> Value:
    """`exactly`, `at_least` or `at_most` `count` of `values` are true; unknown if the unknowns decide."""
    truths = [truth(v) for v in values]
    yes = sum(1 for t in truths if t is True)
    maybe = sum(1 for t in truths if t is UNKNOWN)
    if op == "at_least":
        return True if yes >= count else (False if yes + maybe < count else UNKNOWN)
    if op == "at_most":
        return False if yes > count else (True if yes + maybe <= count else UNKNOWN)
    if yes > count or yes + maybe < count:
        return False
    return True if maybe == 0 else UNKNOWN
