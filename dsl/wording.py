"""How the playbook language spells its values in words: durations, counts of conditions, weekdays
and numbers.

One home for the rules that the formatter (which prints syntax trees for `playbook fmt`), the IR
printer (`dsl.ir_text`, which prints the compiled IR for messages and the log) and the lowering
share, so that `2 days`, `at least 2 of (…)` or `monday` are written the same way everywhere.
"""

from __future__ import annotations

from typing import Final

__all__ = ["COUNT_WORDS", "WEEKDAYS", "duration_words", "number_words", "plural", "weekday_number"]

_SHORT_UNITS: Final = {"minutes": "m", "hours": "h"}
_LONG_UNITS: Final = {"days": "day", "weeks": "week", "business_days": "business day"}

# `exactly 2 of (…)`, `at least 2 of (…)`, `at most 1 of (…)`: the operator as written.
COUNT_WORDS: Final = {"exactly": "exactly", "at_least": "at least", "at_most": "at most"}

# ISO order: Monday is day 1 of the week, Sunday day 7.
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def duration_words(amount: int, unit: str) -> str:
    """`30m`, `48h`, `1 day`, `2 days`, `3 weeks`, `2 business days`."""
    if unit in _SHORT_UNITS:
        return f"{amount}{_SHORT_UNITS[unit]}"
    word = _LONG_UNITS[unit]
    return f"{amount} {word}" if amount == 1 else f"{amount} {word}s"


def number_words(value: float | int) -> str:
    """`20`, `4.2`: integral floats without their `.0`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def weekday_number(name: str) -> int:
    """The ISO number of a weekday written in any case (`Monday` is 1); 1 for a name that is none."""
    lowered = name.lower()
    return WEEKDAYS.index(lowered) + 1 if lowered in WEEKDAYS else 1


def plural(count: int, noun: str) -> str:
    """`1 error`, `2 errors`, `1,234 lines`."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
