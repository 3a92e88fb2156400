"""Account time: quiet hours, durations, date-anchored and scheduled instants, across zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsl import ir
from engine.semantics import calendar

QUIET = ir.QuietHours(start="20:00", end="08:00")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_local_time_shows_the_account_wall_clock() -> None:
    local = calendar.local_time(utc(2026, 7, 1, 12), "Europe/Berlin")
    assert (local.hour, local.utcoffset().total_seconds()) == (14, 7200)  # type: ignore[union-attr]


def test_unknown_time_zone_falls_back_to_utc() -> None:
    assert not calendar.is_valid_timezone("Mars/Olympus")
    assert calendar.is_valid_timezone("America/New_York")
    assert calendar.local_time(utc(2026, 1, 1, 12), "Mars/Olympus").hour == 12
    assert calendar.local_time(utc(2026, 1, 1, 12), None).hour == 12


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        calendar.local_time(datetime(2026, 1, 1), "UTC")


def test_sending_in_the_day_is_allowed() -> None:
    assert calendar.quiet_until(utc(2026, 1, 5, 12), "UTC", QUIET) is None
    assert calendar.quiet_until(utc(2026, 1, 5, 8), "UTC", QUIET) is None
    assert calendar.quiet_until(utc(2026, 1, 5, 12), "UTC", None) is None


def test_evening_send_waits_for_next_morning_0800_local() -> None:
    # 21:00 in New York (EST, UTC-5) is 02:00 UTC the next day
    assert calendar.quiet_until(utc(2026, 1, 6, 2), "America/New_York", QUIET) == utc(2026, 1, 6, 13)


def test_early_morning_send_waits_for_0800_the_same_day() -> None:
    assert calendar.quiet_until(utc(2026, 1, 5, 6, 30), "Europe/Berlin", QUIET) == utc(2026, 1, 5, 7)


def test_quiet_hours_end_is_local_0800_across_spring_forward() -> None:
    # Berlin moves from +01:00 to +02:00 on 2026-03-29; 22:00 local on the 28th is 21:00 UTC
    assert calendar.quiet_until(utc(2026, 3, 28, 21), "Europe/Berlin", QUIET) == utc(2026, 3, 29, 6)


def test_quiet_hours_end_is_local_0800_across_fall_back() -> None:
    # New York moves from -04:00 to -05:00 on 2026-11-01
    assert calendar.quiet_until(utc(2026, 11, 1, 1), "America/New_York", QUIET) == utc(2026, 11, 1, 13)


def test_quiet_hours_within_one_day() -> None:
    lunch = ir.QuietHours(start="12:00", end="13:00")
    assert calendar.quiet_until(utc(2026, 1, 5, 12, 30), "UTC", lunch) == utc(2026, 1, 5, 13)
    assert calendar.quiet_until(utc(2026, 1, 5, 13), "UTC", lunch) is None


def test_days_are_multiples_of_24_hours() -> None:
    two_days = ir.Duration(amount=2, unit="days")
    # across Berlin's spring-forward the wall clock moves an hour, the instant exactly 48h
    assert calendar.add_duration(utc(2026, 3, 28, 8), two_days, "Europe/Berlin") == utc(2026, 3, 30, 8)
    assert calendar.add_duration(utc(2026, 1, 5, 9), ir.Duration(amount=48, unit="hours")) == utc(2026, 1, 7, 9)
    assert calendar.add_duration(utc(2026, 1, 5, 9), ir.Duration(amount=30, unit="minutes")) == utc(2026, 1, 5, 9, 30)


def test_business_days_skip_the_weekend() -> None:
    friday = utc(2026, 1, 9, 15)
    two = ir.Duration(amount=2, unit="business_days")
    assert calendar.add_duration(friday, two, "UTC") == utc(2026, 1, 13, 15)  # Tuesday
    saturday = utc(2026, 1, 10, 10)
    one = ir.Duration(amount=1, unit="business_days")
    assert calendar.add_duration(saturday, one, "UTC") == utc(2026, 1, 12, 10)  # Monday


def test_business_days_count_weekends_in_the_account_zone() -> None:
    # Friday 23:00 UTC is already Saturday 08:00 in Tokyo: one business day later is Monday 08:00 there
    friday_night = utc(2026, 1, 9, 23)
    one = ir.Duration(amount=1, unit="business_days")
    assert calendar.add_duration(friday_night, one, "Asia/Tokyo") == utc(2026, 1, 11, 23)
    assert calendar.add_duration(friday_night, one, "UTC") == utc(2026, 1, 12, 23)


def test_business_days_keep_the_local_time_across_dst() -> None:
    friday = utc(2026, 3, 27, 8)  # 09:00 in Berlin (+01:00)
    one = ir.Duration(amount=1, unit="business_days")
    assert calendar.add_duration(friday, one, "Europe/Berlin") == utc(2026, 3, 30, 7)  # 09:00 at +02:00


def test_date_instant_is_0900_account_time_on_the_shifted_date() -> None:
    assert calendar.date_instant("2026-04-15", -90, "09:00", "UTC") == utc(2026, 1, 15, 9)
    assert calendar.date_instant("2026-04-15", -60, "09:00", "UTC") == utc(2026, 2, 14, 9)
    assert calendar.date_instant("2026-04-15", -30, "09:00", "America/Los_Angeles") == utc(2026, 3, 16, 16)
    assert calendar.date_instant("2026-04-15", -90, "09:00", "Asia/Tokyo") == utc(2026, 1, 15, 0)


def test_date_instant_follows_dst_of_the_target_day() -> None:
    # 2026-03-01 is winter time in Berlin, 2026-04-01 summer time
    assert calendar.date_instant("2026-04-01", -31, "09:00", "Europe/Berlin") == utc(2026, 3, 1, 8)
    assert calendar.date_instant("2026-04-01", 0, "09:00", "Europe/Berlin") == utc(2026, 4, 1, 7)


def test_date_instant_of_a_non_date_is_none() -> None:
    assert calendar.date_instant("soon", -90, "09:00", "UTC") is None
    assert calendar.date_instant(None, -90, "09:00", "UTC") is None
    assert calendar.date_instant("2026-04-15T12:00:00Z", 0, "09:00", "UTC") == utc(2026, 4, 15, 9)


def test_every_month_runs_on_the_first_at_1000_local() -> None:
    monthly = ir.ScheduleTrigger(every="month")
    assert calendar.next_schedule_instant(utc(2026, 1, 5), monthly, "UTC") == utc(2026, 2, 1, 10)
    assert calendar.next_schedule_instant(utc(2026, 1, 5), monthly, "Europe/Berlin") == utc(2026, 2, 1, 9)
    assert calendar.next_schedule_instant(utc(2026, 12, 1, 10), monthly, "UTC") == utc(2027, 1, 1, 10)


def test_schedule_instant_is_strictly_after() -> None:
    monthly = ir.ScheduleTrigger(every="month")
    assert calendar.next_schedule_instant(utc(2026, 2, 1, 10), monthly, "UTC") == utc(2026, 3, 1, 10)
    assert calendar.next_schedule_instant(utc(2026, 2, 1, 9, 59), monthly, "UTC") == utc(2026, 2, 1, 10)


def test_every_month_on_day_31_clamps_to_the_month_end() -> None:
    late = ir.ScheduleTrigger(every="month", day=31, at="08:00")
    assert calendar.next_schedule_instant(utc(2026, 2, 1), late, "UTC") == utc(2026, 2, 28, 8)


def test_every_quarter_runs_jan_apr_jul_oct_first() -> None:
    quarterly = ir.ScheduleTrigger(every="quarter")
    assert calendar.next_schedule_instant(utc(2026, 1, 5), quarterly, "UTC") == utc(2026, 4, 1, 10)
    assert calendar.next_schedule_instant(utc(2026, 4, 1, 10), quarterly, "UTC") == utc(2026, 7, 1, 10)
    assert calendar.next_schedule_instant(utc(2026, 11, 1), quarterly, "UTC") == utc(2027, 1, 1, 10)
    # 10:00 in Los Angeles on April 1st (PDT, -07:00)
    assert calendar.next_schedule_instant(utc(2026, 3, 1), quarterly, "America/Los_Angeles") == utc(2026, 4, 1, 17)


def test_schedule_uses_the_local_date_not_the_utc_date() -> None:
    # 2026-01-31 23:30 UTC is already February 1st 08:30 in Tokyo: its 10:00 run is the same day
    monthly = ir.ScheduleTrigger(every="month")
    assert calendar.next_schedule_instant(utc(2026, 1, 31, 23, 30), monthly, "Asia/Tokyo") == utc(2026, 2, 1, 1)


def test_every_week_on_a_weekday() -> None:
    wednesday = ir.ScheduleTrigger(every="week", day=3, at="09:00")
    monday = utc(2026, 1, 5, 12)
    assert calendar.next_schedule_instant(monday, wednesday, "UTC") == utc(2026, 1, 7, 9)
    assert calendar.next_schedule_instant(utc(2026, 1, 7, 9), wednesday, "UTC") == utc(2026, 1, 14, 9)


def test_weekly_check_is_monday_0900_local() -> None:
    assert calendar.next_weekly_check(utc(2026, 1, 5, 9), "UTC") == utc(2026, 1, 12, 9)
    assert calendar.next_weekly_check(utc(2026, 1, 5, 8), "UTC") == utc(2026, 1, 5, 9)
    # the Monday after Berlin's spring-forward: 09:00 at +02:00
    assert calendar.next_weekly_check(utc(2026, 3, 28), "Europe/Berlin") == utc(2026, 3, 30, 7)
    assert calendar.next_weekly_check(utc(2026, 3, 28), "Europe/Berlin", at="10:30") == utc(2026, 3, 30, 8, 30)


ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"])
INSTANTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)


@given(at=INSTANTS, tz=ZONES)
def test_quiet_hours_always_end_at_0800_local_after_the_send(at: datetime, tz: str) -> None:
    until = calendar.quiet_until(at, tz, QUIET)
    local = calendar.local_time(at, tz).time()
    if until is None:
        assert calendar.parse_hhmm("08:00") <= local.replace(tzinfo=None) < calendar.parse_hhmm("20:00")
    else:
        assert until > at
        assert until - at <= timedelta(hours=13)
        assert calendar.local_time(until, tz).strftime("%H:%M") == "08:00"


@given(at=INSTANTS, tz=ZONES, amount=st.integers(min_value=1, max_value=15))
def test_business_days_never_land_on_a_weekend(at: datetime, tz: str, amount: int) -> None:
    later = calendar.add_duration(at, ir.Duration(amount=amount, unit="business_days"), tz)
    assert calendar.local_time(later, tz).isoweekday() <= 5
    assert later - at >= timedelta(days=amount) - timedelta(hours=1)


@given(after=INSTANTS, tz=ZONES, every=st.sampled_from(["week", "month", "quarter"]))
def test_schedule_instants_are_strictly_after_and_at_the_local_time(after: datetime, tz: str, every: str) -> None:
    trigger = ir.ScheduleTrigger(every=every, day=1, at="10:00")
    instant = calendar.next_schedule_instant(after, trigger, tz)
    local = calendar.local_time(instant, tz)
    assert instant > after
    assert local.strftime("%H:%M") == "10:00"
    assert local.day == 1 or every == "week"
    assert calendar.next_schedule_instant(instant - timedelta(seconds=1), trigger, tz) == instant


def _days(amount: int) -> ir.Duration:
    return ir.Duration(amount=amount, unit="days")


def test_a_day_step_without_a_time_runs_whole_days_after_the_entry() -> None:
    entry = utc(2026, 3, 2, 2, 17)
    assert calendar.entry_step_instant(entry, _days(3), None, "Europe/Berlin") == utc(2026, 3, 5, 2, 17)


def test_a_day_step_at_a_time_runs_at_that_account_time_on_its_day() -> None:
    # a 02:00 sign-up in New York (07:00 UTC) gets its day 3 step at 10:00 New York time
    assert calendar.entry_step_instant(utc(2026, 1, 5, 7), _days(3), "10:00", "America/New_York") == utc(2026, 1, 8, 15)
    # the day is the account's: 23:30 UTC on Jan 5 is already Jan 6 in Berlin
    late = utc(2026, 1, 5, 23, 30)
    assert calendar.entry_step_instant(late, _days(1), "10:00", "Europe/Berlin") == utc(2026, 1, 7, 9)


def test_a_day_step_at_a_time_keeps_the_wall_clock_across_a_dst_change() -> None:
    # New York springs forward on 2026-03-08: 10:00 is 15:00 UTC before and 14:00 UTC after
    entry = utc(2026, 3, 6, 16)
    assert calendar.entry_step_instant(entry, _days(3), "10:00", "America/New_York") == utc(2026, 3, 9, 14)
    assert calendar.entry_step_instant(entry, _days(3), None, "America/New_York") == utc(2026, 3, 9, 16)


def test_day_0_at_a_time_already_past_at_entry_runs_the_next_day_at_that_time() -> None:
    assert calendar.entry_step_instant(utc(2026, 3, 2, 11), _days(0), "10:00", "UTC") == utc(2026, 3, 3, 10)
    assert calendar.entry_step_instant(utc(2026, 3, 2, 9), _days(0), "10:00", "UTC") == utc(2026, 3, 2, 10)
    assert calendar.entry_step_instant(utc(2026, 3, 2, 10), _days(0), "10:00", "UTC") == utc(2026, 3, 2, 10)
