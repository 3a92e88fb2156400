"""The time words of a test file: instants, `day N`, durations, `± 1h`, `on day 3`, `between … and …`.

A test has a start (its `start:`, else its first event's time). `day N` is N times 24 hours after it,
as `day N` in a playbook is N times 24 hours after entry. An expectation's time is a window, both ends
included:

- `at: 2026-01-05T09:00Z` or `at: day 3`: exactly then; `at: day 3 ± 2h` (or `+-`): within 2 hours;
- `on: day 3`: any time in the 24 hours from day 3 on; `on: 2026-01-08`: that date, UTC;
- `between: day 7 and day 13`: from day 7 to the end of day 13 (an instant ends exactly there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engine.semantics.values import parse_instant

__all__ = ["Moment", "Window", "day_number", "parse_duration", "parse_moment", "parse_window"]

_DAY = re.compile(r"^day\s+(-?\d+(?:\.\d+)?)$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TOLERANCE = re.compile(r"\s*(?:±|\+-|\+/-)\s*")
_BETWEEN = re.compile(r"^(.+?)\s+and\s+(.+)$", re.IGNORECASE)
_LAST_MOMENT = timedelta(microseconds=1)

MOMENT_HELP = "a date and time such as 2026-01-05T09:00Z, a date such as 2026-01-05, or `day 3`"


@dataclass(frozen=True)
class Moment:
    """A moment as written: an instant, or a day relative to the test's start."""

    text: str
    instant: datetime | None = None
    day: float | None = None
    whole_date: bool = False  # written as a date alone: `on:` takes the whole day

    def resolve(self, start: datetime) -> datetime:
        return self.instant if self.instant is not None else start + timedelta(days=self.day or 0)


@dataclass(frozen=True)
class Window:
    """When an expected action may happen, both ends included, with the words it was written in."""

    text: str
    first: datetime
    last: datetime

    def holds(self, at: datetime) -> bool:
        return self.first <= at <= self.last


def parse_moment(raw: object) -> Moment:
    """`2026-01-05T09:00Z`, `2026-01-05` (midnight UTC) or `day 3`; ValueError says what is wanted."""
    text = str(raw).strip()
    if found := _DAY.match(text):
        return Moment(text=text, day=float(found.group(1)))
    if _DATE.match(text):
        try:
            day = datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(f"expected {MOMENT_HELP}, got {text!r}") from None
        return Moment(text=text, instant=day, whole_date=True)
    try:
        return Moment(text=text, instant=parse_instant(text))
    except ValueError as error:
        if "time zone" in str(error):
            raise ValueError(f"{text!r} needs a time zone, such as Z or +02:00") from None
        raise ValueError(f"expected {MOMENT_HELP}, got {text!r}") from None


def parse_duration(raw: object) -> timedelta:
    """`30m`, `1h`, `2 hours`, `3 days`, `1w`."""
    text = str(raw).strip()
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"expected a duration such as 30m, 1h, 2 days, got {text!r}")
    unit = found.group(2).lower()[0]
    return timedelta(seconds=float(found.group(1)) * _UNIT_SECONDS[unit])


def _day_end(moment: Moment, start: datetime) -> datetime:
    """The last instant of the day a moment names (`day 3`, a date); an instant is its own end."""
    if moment.day is not None or moment.whole_date:
        return moment.resolve(start) + timedelta(days=1) - _LAST_MOMENT
    return moment.resolve(start)


def parse_window(key: str, raw: object, start: datetime) -> Window:
    """The window of `at:`, `on:` or `between:`; ValueError says what is wrong."""
    text = str(raw).strip()
    if key == "at":
        parts = _TOLERANCE.split(text)
        if len(parts) > 2:
            raise ValueError(f"expected `MOMENT ± DURATION`, got {text!r}")
        moment = parse_moment(parts[0])
        tolerance = parse_duration(parts[1]) if len(parts) == 2 else timedelta(0)
        center = moment.resolve(start)
        return Window(text=f"at {text}", first=center - tolerance, last=center + tolerance)
    if key == "on":
        moment = parse_moment(text)
        return Window(text=f"on {text}", first=moment.resolve(start), last=_day_end(moment, start))
    found = _BETWEEN.match(text)
    if found is None:
        raise ValueError(f"expected `between: day 7 and day 13` (or two dates), got {text!r}")
    first, last = parse_moment(found.group(1)), parse_moment(found.group(2))
    window = Window(text=f"between {text}", first=first.resolve(start), last=_day_end(last, start))
    if window.last < window.first:
        raise ValueError(f"the window ends before it starts: {text!r}")
    return window


def day_number(at: datetime, start: datetime) -> str:
    """`day 3` (or `day 3 +2h`) for where an instant falls relative to the test's start."""
    offset = at - start
    days, rest = divmod(offset.total_seconds(), 86400)
    if rest == 0:
        return f"day {int(days)}"
    hours = rest / 3600
    return f"day {int(days)} +{hours:g}h" if hours == int(hours) else f"day {int(days)} +{int(rest // 60)}m"
