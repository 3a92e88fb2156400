"""When an email may go: quiet hours and the send window, in the account's time zone.

`send on weekdays 09:00 to 17:00 account time` lets email go from 09:00 to 17:00 (17:00 itself
is closed) on Monday to Friday, except on the account's holidays (`holidays from FIELD`: the
field holds ISO dates separated by commas or spaces); `send every day …` lets it go on any day
but the holidays. An email due outside the window waits for its next opening. With quiet hours
as well, an email goes at the first moment that is in the window and outside quiet hours.

Pure functions, so the journey workflow can call them deterministically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dsl import ir
from engine.semantics.calendar import local_instant, local_time, parse_hhmm, quiet_until

__all__ = ["MAX_HOLIDAYS", "SendHold", "parse_holidays", "send_hold", "window_until"]

MAX_HOLIDAYS = 1000  # the dates of a holidays field read at most (a longer list is cut there)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_holidays(value: object) -> frozenset[date]:
    """The dates of a holidays field: text of ISO dates (`"2026-12-24, 2026-12-25"`) or a list of
    them; anything that is no date is left out."""
    if isinstance(value, list | tuple):
        value = " ".join(str(item) for item in value)
    if not isinstance(value, str):
        return frozenset()
    days: set[date] = set()
    for match in _DATE.finditer(value):
        if len(days) >= MAX_HOLIDAYS:
            break
        try:
            days.add(date.fromisoformat(match.group()))
        except ValueError:
            continue
    return frozenset(days)


def _closed_day(day: date, window: ir.SendWindow, holidays: frozenset[date]) -> str | None:
    if day in holidays:
        return "holiday"
    if window.days == "weekdays" and day.isoweekday() > 5:
        return "weekend"
    return None


def window_until(at: datetime, tz: str | None, window: ir.SendWindow | None,
                 holidays: frozenset[date] = frozenset()) -> tuple[datetime, str] | None:
    """None when the window is open at `at`; otherwise its next opening (UTC) and why it is closed
    now: `closed` (outside its hours), `weekend` or `holiday`."""
    if window is None:
        return None
    opens, closes = parse_hhmm(window.start), parse_hhmm(window.end)
    if opens >= closes:
        return None  # the checker refuses such a window: it never closes
    local = local_time(at, tz)
    today, now = local.date(), local.time().replace(tzinfo=None)
    why = _closed_day(today, window, holidays)
    if why is None and opens <= now < closes:
        return None
    day = today if why is None and now < opens else today + timedelta(days=1)
    # each day skipped is a weekend day or a holiday: the bound is never reached before an opening
    for _ in range(len(holidays) + 8):
        if _closed_day(day, window, holidays) is None:
            break
        day += timedelta(days=1)
    return local_instant(day, window.start, tz), why or "closed"


@dataclass(frozen=True)
class SendHold:
    """An email held: until when, by which rule (`quiet_hours` or `send_window`) and why."""

    until: datetime
    rule: str
    why: str


def send_hold(at: datetime, tz: str | None, policy: ir.Policy,
              holidays: frozenset[date] = frozenset()) -> SendHold | None:
    """None when an email may go at `at`; otherwise the first moment both quiet hours and the send
    window allow it, with the rule that holds it at `at`."""
    moment, first = at, None
    for _ in range(16):  # quiet hours and the window agree within a few rounds
        quiet = quiet_until(moment, tz, policy.quiet_hours)
        if quiet is not None:
            first = first or ("quiet_hours", "quiet_hours")
            moment = quiet
            continue
        closed = window_until(moment, tz, policy.window, holidays)
        if closed is None:
            break
        first = first or ("send_window", closed[1])
        moment = closed[0]
    if first is None:
        return None
    return SendHold(moment, first[0], first[1])
