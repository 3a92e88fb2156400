"""Metrics count events in a window; trends compare weekly checks week over week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dsl import ir
from engine.semantics.metrics import count, metric_value, metric_values, trend_holds, weekly_checks

WEEKLY_LOGINS = ir.MetricDef(name="weekly_logins", event="login", window=ir.Duration(amount=7, unit="days"))
DROP = ir.TrendTrigger(metric="weekly_logins", direction="down", percent=40, weeks=3)
CHECK = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday


def logins_per_week(*counts: int, end: datetime = CHECK) -> list[tuple[str, datetime]]:
    """`counts[0]` logins in the week ending at `end`, `counts[1]` the week before, and so on."""
    events = []
    for back, amount in enumerate(counts):
        week_end = end - timedelta(weeks=back)
        events += [("login", week_end - timedelta(hours=1 + hour)) for hour in range(amount)]
    return sorted(events, key=lambda event: event[1])


def test_count_uses_a_half_open_window() -> None:
    at = CHECK
    events = [
        ("login", at),
        ("login", at - timedelta(days=7)),
        ("login", at - timedelta(days=6)),
        ("signed", at),
    ]
    assert count(events, "login", timedelta(days=7), at) == 2


def test_count_ignores_events_after_the_time() -> None:
    events = [("login", CHECK + timedelta(seconds=1))]
    assert count(events, "login", timedelta(days=7), CHECK) == 0


def test_metric_values_for_every_metric_of_the_model() -> None:
    events = logins_per_week(3, 5)
    assert metric_value(WEEKLY_LOGINS, events, CHECK) == 3
    assert metric_values({"weekly_logins": WEEKLY_LOGINS}, events, CHECK) == {"weekly_logins": 3}


def test_store_rows_with_data_count_too() -> None:
    rows = [("login", CHECK - timedelta(hours=1), {"user": "ana"})]
    assert metric_value(WEEKLY_LOGINS, rows, CHECK) == 1


def test_drop_of_40_percent_three_weeks_running_holds() -> None:
    # 100 -> 60 -> 36 -> 21: each week at most 60% of the week before
    assert trend_holds(logins_per_week(21, 36, 60, 100), WEEKLY_LOGINS, DROP, CHECK)


def test_exactly_60_percent_counts_as_down_40() -> None:
    assert trend_holds(logins_per_week(21, 35, 60, 100), WEEKLY_LOGINS, DROP, CHECK)  # 60/100, 35/60, 21/35
    assert not trend_holds(logins_per_week(22, 35, 60, 100), WEEKLY_LOGINS, DROP, CHECK)  # 22/35 is 63%


def test_two_weeks_of_drop_are_not_three() -> None:
    assert not trend_holds(logins_per_week(21, 36, 60, 60), WEEKLY_LOGINS, DROP, CHECK)
    assert not trend_holds(logins_per_week(36, 36, 60, 100), WEEKLY_LOGINS, DROP, CHECK)


def test_a_drop_from_zero_never_counts() -> None:
    assert not trend_holds(logins_per_week(0, 0, 0, 0), WEEKLY_LOGINS, DROP, CHECK)
    assert not trend_holds(logins_per_week(0, 0, 5, 10), WEEKLY_LOGINS, DROP, CHECK)


def test_upward_trends() -> None:
    rise = ir.TrendTrigger(metric="weekly_logins", direction="up", percent=50, weeks=2)
    assert trend_holds(logins_per_week(9, 6, 4), WEEKLY_LOGINS, rise, CHECK)
    assert not trend_holds(logins_per_week(9, 7, 4), WEEKLY_LOGINS, rise, CHECK)


def test_weekly_checks_are_one_local_week_apart_across_dst() -> None:
    monday = datetime(2026, 3, 30, 7, tzinfo=UTC)  # 09:00 in Berlin, summer time
    checks = weekly_checks(monday, 2, "Europe/Berlin")
    assert checks == [monday, datetime(2026, 3, 23, 8, tzinfo=UTC), datetime(2026, 3, 16, 8, tzinfo=UTC)]
