"""Business time: account time zones, quiet hours, durations, date-anchored and scheduled instants.

Every function here is pure (stdlib `zoneinfo` only) so the journey workflow can call it
deterministically. Inputs and outputs are timezone-aware datetimes; results are in UTC.
An unknown or invalid time zone name falls back to UTC (`is_valid_timezone` lets a caller
notice and log it).

Wall-clock rules follow the standard playbooks' timing rules: `day N` and durations in
minutes, hours, days or weeks are exact multiples of 24 hours; business days step over
Saturdays and Sundays in the account's zone and keep the local time of day; "09:00 account
time" is 09:00 on the local wall clock, whatever the UTC offset is that day. `day N at HH:MM`
is HH:MM on the local date N days after the entry's local date (not N times 24 hours), and never
before the entry: a `day 0 at 10:00` entered at 11:00 runs the next day at 10:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dsl import ir

__all__ = [
    "add_duration",
    "as_date",
    "date_instant",
    "entry_step_instant",
    "is_valid_timezone",
    "local_instant",
    "local_time",
    "next_schedule_instant",
    "next_weekly_check",
    "parse_hhmm",
    "quiet_until",
    "zone",
]

_MONDAY = 1
_QUARTER_MONTHS = (1, 4, 7, 10)


@lru_cache(maxsize=512)
def _load_zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


def is_valid_timezone(name: object) -> bool:
    """True when `name` is an IANA zone name this machine knows."""
    return isinstance(name, str) and bool(name) and _load_zone(name) is not None


def zone(name: object) -> ZoneInfo:
    """The zone called `name`; UTC when it is missing, empty or unknown."""
    if isinstance(name, str) and name:
        found = _load_zone(name)
        if found is not None:
            return found
    return ZoneInfo("UTC")


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: times must carry a UTC offset")
    return at


def local_time(at: datetime, tz: str | None) -> datetime:
    """`at` on the account's wall clock."""
    return _aware(at).astimezone(zone(tz))


def parse_hhmm(text: str) -> time:
    """`"09:00"` as a time of day."""
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes or 0))


def local_instant(day: date, at: time | str, tz: str | None) -> datetime:
    """The UTC instant of `day` at wall-clock time `at` in zone `tz`.

    A wall time that does not exist (skipped by a spring-forward change) lands just after the gap;
    an ambiguous one (repeated in autumn) takes its first occurrence.
    """
    clock = parse_hhmm(at) if isinstance(at, str) else at
    wall = datetime.combine(day, clock, tzinfo=zone(tz))
    return wall.astimezone(UTC)


def quiet_until(at: datetime, tz: str | None, quiet: ir.QuietHours | None) -> datetime | None:
    """None when sending at `at` is allowed; otherwise the instant quiet hours end (UTC)."""
    if quiet is None:
        return None
    start, end = parse_hhmm(quiet.start), parse_hhmm(quiet.end)
    if start == end:
        return None
    local = local_time(at, tz)
    now = local.time().replace(tzinfo=None)
    today = local.date()
    if start > end:  # overnight, e.g. 20:00 to 08:00
        if now >= start:
            return local_instant(today + timedelta(days=1), end, tz)
        if now < end:
            return local_instant(today, end, tz)
        return None
    if start <= now < end:  # within one day, e.g. 12:00 to 14:00
        return local_instant(today, end, tz)
    return None


def _add_business_days(at: datetime, amount: int, tz: str | None) -> datetime:
    local = local_time(at, tz)
    day = local.date()
    step = 1 if amount >= 0 else -1
    remaining = abs(amount)
    while remaining:
        day += timedelta(days=step)
        if day.isoweekday() <= 5:
            remaining -= 1
    return local_instant(day, local.time().replace(tzinfo=None), tz)


def add_duration(at: datetime, duration: ir.Duration, tz: str | None = "UTC") -> datetime:
    """`at` plus `duration` (negative amounts go back); business days skip weekends locally."""
    if duration.is_business:
        return _add_business_days(_aware(at), duration.amount, tz)
    return _aware(at).astimezone(UTC) + timedelta(seconds=duration.seconds())


def as_date(value: object) -> date | None:
    """A date field's value as a date: a `date`, a `datetime`, or an ISO string; else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00")
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            return None
    return None


def date_instant(date_value: object, offset_days: int, at_hhmm: str, tz: str | None) -> datetime | None:
    """`90 days before renewal_date` (offset -90): that day at `at_hhmm` account time, in UTC.

    None when the field's value is not a date.
    """
    day = as_date(date_value)
    if day is None:
        return None
    return local_instant(day + timedelta(days=offset_days), at_hhmm, tz)


def entry_step_instant(entry_at: datetime, offset: ir.Duration, day_at: str | None, tz: str | None) -> datetime:
    """When a step anchored at the entry runs: `offset` after the entry (`day 7`); with `day_at`
    (`day 3 at 10:00`), at that time on the entry's local date plus the offset's days, or the
    next day at that time when this falls before the entry (only `day 0` can)."""
    if day_at is None:
        return entry_at + timedelta(seconds=offset.seconds())
    day = local_time(entry_at, tz).date() + timedelta(days=offset.seconds() // 86400)
    moment = local_instant(day, day_at, tz)
    return moment if moment >= entry_at else local_instant(day + timedelta(days=1), day_at, tz)


def _month_day(year: int, month: int, day: int) -> date:
    """`day` of that month, clamped to its last day (`every month on day 31` in February)."""
    following = date(year + month // 12, month % 12 + 1, 1)
    last = (following - timedelta(days=1)).day
    return date(year, month, min(max(day, 1), last))


def next_schedule_instant(after: datetime, trigger: ir.ScheduleTrigger, tz: str | None) -> datetime:
    """The first instant of the schedule strictly after `after` (UTC)."""
    local = local_time(after, tz)
    if trigger.every == "week":
        weekday = min(max(trigger.day, 1), 7)
        day = local.date() + timedelta(days=(weekday - local.isoweekday()) % 7)
        while True:
            instant = local_instant(day, trigger.at, tz)
            if instant > after:
                return instant
            day += timedelta(days=7)
    months = range(1, 13) if trigger.every == "month" else _QUARTER_MONTHS
    year, month = local.year, local.month
    while True:
        if month in months:
            instant = local_instant(_month_day(year, month, trigger.day), trigger.at, tz)
            if instant > after:
                return instant
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def next_weekly_check(after: datetime, tz: str | None, at: str = "09:00") -> datetime:
    """The first Monday at `at` account time strictly after `after` (UTC)."""
    weekly = ir.ScheduleTrigger(every="week", day=_MONDAY, at=at)
    return next_schedule_instant(after, weekly, tz)
