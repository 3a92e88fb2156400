"""The engine's rules of time: when input is history, and what a journey does with a moment past.

Every stored object has two moments: its event time (`at`, when it happened) and its arrival
time (when the engine stored it). One threshold, the *trigger horizon* (`PLAYBOOK_TRIGGER_HORIZON`,
24 hours by default), separates what the engine acts on from history:

- an object whose `at` is older than the horizon when it arrives (or one sent as back-fill) is
  *history*: it updates fields, events, metrics and scores, but starts no journey, signals none and
  sends nothing; each trigger it would have fired is recorded as a counted decision;
- a journey step whose moment has passed when the journey reaches it runs now, recorded as
  late with its planned moment, when it is late by less than the horizon; by more, it is skipped
  and recorded. So a back-log or a late trigger never turns into a burst of old mail.

Everything here is a pure function of its arguments: the journey workflow uses it as it is.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

__all__ = [
    "DEFAULT_HORIZON",
    "ON_TIME_SLACK",
    "StepTiming",
    "describe_lateness",
    "is_history",
    "parse_horizon",
    "step_timing",
]

DEFAULT_HORIZON = timedelta(hours=24)
# A step this close after its moment is on time: workers take a moment to pick up a timer, and a
# simulation's clock moves at real speed while activities run.
ON_TIME_SLACK = timedelta(minutes=5)
MAX_HORIZON = timedelta(days=3660)

StepTiming = Literal["on_time", "late", "skipped"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")


def parse_horizon(value: str | float | timedelta) -> timedelta:
    """A horizon from `24h`, `48h`, `2d`, `90m`, `3600s`, a number of seconds or a timedelta."""
    if isinstance(value, timedelta):
        horizon = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        horizon = timedelta(seconds=float(value))
    elif isinstance(value, str):
        found = _DURATION.match(value)
        if found is None:
            raise ValueError(f"{value!r} is not a duration: write e.g. 24h, 48h, 2d, 90m or a number of seconds")
        horizon = timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2) or "s"])
    else:
        raise ValueError(f"{value!r} is not a duration")
    if horizon < timedelta(0) or horizon > MAX_HORIZON:
        raise ValueError(f"a horizon is between 0 and {MAX_HORIZON.days} days, got {value!r}")
    return horizon


def is_history(at: datetime, received_at: datetime, horizon: timedelta) -> bool:
    """Whether an object dated `at` that arrived at `received_at` is history (back-fill)."""
    return received_at - at > horizon


def step_timing(planned: datetime, now: datetime, horizon: timedelta) -> StepTiming:
    """What a journey does with a step planned at `planned` that it reaches at `now`."""
    late = now - planned
    if late <= ON_TIME_SLACK:
        return "on_time"
    return "late" if late <= horizon else "skipped"


def describe_lateness(late: timedelta) -> str:
    """`3 h 20 min`, `2 days 4 h`, `45 s`: how late, for people."""
    seconds = int(late.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    if not parts:
        parts.append(f"{secs} s")
    return " ".join(parts)
