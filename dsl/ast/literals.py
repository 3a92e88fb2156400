"""Values written as they are: numbers, amounts, percentages, texts, booleans, dates, times, durations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsl.ast.places import Pos

__all__ = [
    "BoolLit",
    "DateLit",
    "Duration",
    "DurationUnit",
    "MoneyLit",
    "NumberLit",
    "PercentLit",
    "TextLit",
    "TimeOfDay",
]


# --------------------------------------------------------------------------- literals


@dataclass(frozen=True, slots=True)
class NumberLit:
    """`10`, `4.2`; `text` keeps the digits as written."""

    pos: Pos
    value: int | float
    text: str


@dataclass(frozen=True, slots=True)
class MoneyLit:
    """`25k`, `1.5m`: an amount; `value` is multiplied out (25000)."""

    pos: Pos
    value: int | float
    text: str


@dataclass(frozen=True, slots=True)
class PercentLit:
    """`40%`: `value` is 40."""

    pos: Pos
    value: int | float
    text: str


@dataclass(frozen=True, slots=True)
class TextLit:
    """`"smb"`: `value` is the text without quotes, escapes resolved."""

    pos: Pos
    value: str


@dataclass(frozen=True, slots=True)
class BoolLit:
    """`true`, `false`."""

    pos: Pos
    value: bool


@dataclass(frozen=True, slots=True)
class DateLit:
    """`2026-04-15`."""

    pos: Pos
    value: str


@dataclass(frozen=True, slots=True)
class TimeOfDay:
    """`09:00`: `value` is normalised to "HH:MM"."""

    pos: Pos
    value: str


DurationUnit = Literal["minutes", "hours", "days", "weeks", "business_days"]


@dataclass(frozen=True, slots=True)
class Duration:
    """`30m`, `48h`, `7d`, `2w`, `2 days`, `1 day`, `3 weeks`, `2 business days`, `90 minutes`."""

    pos: Pos
    amount: int
    unit: DurationUnit
    text: str
