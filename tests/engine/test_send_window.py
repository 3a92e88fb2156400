"""The send window: business hours on weekdays in the account's zone, holidays, and quiet hours
beside it (`engine/semantics/send_window.py`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dsl import ir
from engine.semantics.send_window import MAX_HOLIDAYS, parse_holidays, send_hold, window_until

WEEKDAYS = ir.SendWindow(days="weekdays", start="09:00", end="17:00")
EVERY_DAY = ir.SendWindow(days="every_day", start="09:00", end="17:00")
QUIET = ir.QuietHours(start="20:00", end="08:00")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_inside_the_window_an_email_goes() -> None:
    assert window_until(utc("2026-03-04T03:00:00"), "Asia/Tokyo", WEEKDAYS) is None  # Wednesday 12:00 JST


def test_a_friday_evening_email_in_tokyo_waits_for_monday_morning() -> None:
    # Friday 2026-03-06 19:00 JST: quiet hours alone would send it Saturday 08:00
    friday_evening = utc("2026-03-06T10:00:00")
    assert window_until(friday_evening, "Asia/Tokyo", WEEKDAYS) == (utc("2026-03-09T00:00:00"), "closed")
    hold = send_hold(friday_evening, "Asia/Tokyo", ir.Policy(quiet_hours=QUIET, window=WEEKDAYS))
    assert hold is not None
    assert (hold.until, hold.rule, hold.why) == (utc("2026-03-09T00:00:00"), "send_window", "closed")


def test_before_the_window_opens_the_email_waits_for_the_same_morning() -> None:
    assert window_until(utc("2026-03-04T06:30:00"), "UTC", WEEKDAYS) == (utc("2026-03-04T09:00:00"), "closed")


def test_the_closing_minute_is_closed() -> None:
    assert window_until(utc("2026-03-04T17:00:00"), "UTC", WEEKDAYS) == (utc("2026-03-05T09:00:00"), "closed")


def test_a_weekend_day_waits_for_monday_and_every_day_does_not() -> None:
    saturday_noon = utc("2026-03-07T12:00:00")
    assert window_until(saturday_noon, "UTC", WEEKDAYS) == (utc("2026-03-09T09:00:00"), "weekend")
    assert window_until(saturday_noon, "UTC", EVERY_DAY) is None


def test_holidays_are_skipped_with_the_weekend_after_them() -> None:
    holidays = parse_holidays("2026-12-24, 2026-12-25")
    thursday = utc("2026-12-24T10:00:00")
    assert window_until(thursday, "UTC", WEEKDAYS, holidays) == (utc("2026-12-28T09:00:00"), "holiday")


def test_holidays_are_read_from_text_or_a_list_and_bounded() -> None:
    assert parse_holidays("2026-12-24 2026-12-25;2026-13-40, soon") == {date(2026, 12, 24), date(2026, 12, 25)}
    assert parse_holidays(["2026-01-01"]) == {date(2026, 1, 1)}
    assert parse_holidays(None) == frozenset()
    many = " ".join(f"{2000 + n // 365}-01-01" for n in range(5000)) + " " + " ".join(
        date.fromordinal(date(2026, 1, 1).toordinal() + n).isoformat() for n in range(2000))
    assert len(parse_holidays(many)) <= MAX_HOLIDAYS


def test_quiet_hours_and_the_window_both_hold() -> None:
    early_window = ir.SendWindow(days="every_day", start="07:00", end="21:00")
    policy = ir.Policy(quiet_hours=QUIET, window=early_window)
    # 06:00: the window opens at 07:00 but quiet hours last until 08:00
    hold = send_hold(utc("2026-03-04T06:00:00"), "UTC", policy)
    assert hold is not None and (hold.until, hold.rule) == (utc("2026-03-04T08:00:00"), "quiet_hours")
    # 20:30: quiet hours until 08:00, inside the window then
    hold = send_hold(utc("2026-03-04T20:30:00"), "UTC", policy)
    assert hold is not None and hold.until == utc("2026-03-05T08:00:00")
    assert send_hold(utc("2026-03-04T12:00:00"), "UTC", policy) is None


def test_the_window_follows_daylight_saving_time() -> None:
    # Friday 2026-03-06 17:30 EST: the window next opens Monday 09:00 EDT (13:00 UTC, after the change)
    assert window_until(utc("2026-03-06T22:30:00"), "America/New_York", WEEKDAYS) == (
        utc("2026-03-09T13:00:00"), "closed")
