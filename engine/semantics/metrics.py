"""Metrics over an account's events, and week-over-week trends of them. Pure functions.

`metric weekly_logins = count login over 7 days` at time T counts the `login` events in the
window (T - 7 days, T]. A trend `weekly_logins down 40% week over week for 3 weeks`, checked at
T (a Monday 09:00 account time), holds when at each of the checks T, T - 1 week and T - 2 weeks
the metric is at most 60% of its value one week before that check; it therefore reads T - 3
weeks too. A week whose previous value is 0 never counts as a drop (nor as a rise).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from dsl import ir
from engine.semantics import calendar

__all__ = ["EventRow", "count", "indexed_metric_values", "metric_value", "metric_values", "trend_holds",
           "weekly_checks"]

# (name, at) as in a Snapshot, or (name, at, data) as the store lists them
EventRow = tuple[str, datetime] | tuple[str, datetime, dict[str, Any]]


def count(events: Iterable[EventRow], name: str, window: timedelta, at: datetime) -> int:
    """How many events called `name` happened in (at - window, at]."""
    since = at - window
    return sum(1 for event in events if event[0] == name and since < event[1] <= at)


def _window_start(metric: ir.MetricDef, at: datetime, tz: str | None) -> datetime:
    back = ir.Duration(amount=-metric.window.amount, unit=metric.window.unit)
    return calendar.add_duration(at, back, tz)


def metric_value(
    metric: ir.MetricDef, events: Iterable[EventRow], at: datetime, tz: str | None = "UTC"
) -> float:
    """The metric's value at `at` (business-day windows are counted in the account's zone)."""
    window = at - _window_start(metric, at, tz)
    return float(count(events, metric.event, window, at))


def metric_values(
    metrics: Mapping[str, ir.MetricDef], events: Sequence[EventRow], at: datetime, tz: str | None = "UTC"
) -> dict[str, float]:
    """Every metric of the model at `at`."""
    return {name: metric_value(metric, events, at, tz) for name, metric in metrics.items()}


def indexed_metric_values(
    metrics: Mapping[str, ir.MetricDef], times_by_name: Mapping[str, Sequence[datetime]], at: datetime,
    tz: str | None = "UTC",
) -> dict[str, float]:
    """`metric_values` on the events' times by name (each in time order, none after `at`): each
    window counted by bisection, whatever the length of the history."""
    found: dict[str, float] = {}
    for name, metric in metrics.items():
        times = times_by_name.get(metric.event, ())
        found[name] = float(bisect_right(times, at) - bisect_right(times, _window_start(metric, at, tz)))
    return found


def weekly_checks(at: datetime, weeks: int, tz: str | None = "UTC") -> list[datetime]:
    """`at` and the `weeks` checks before it, newest first, one local week apart (DST-safe)."""
    local = calendar.local_time(at, tz)
    wall = local.time().replace(tzinfo=None)
    days = [local.date() - timedelta(weeks=back) for back in range(weeks + 1)]
    return [calendar.local_instant(day, wall, tz) for day in days]


def _moved(direction: str, percent: float, previous: float, current: float) -> bool:
    if previous <= 0:
        return False
    if direction == "down":
        return current * 100 <= previous * (100 - percent)
    return current * 100 >= previous * (100 + percent)


def trend_holds(
    events: Sequence[EventRow],
    metric: ir.MetricDef,
    trigger: ir.TrendTrigger,
    at: datetime,
    tz: str | None = "UTC",
) -> bool:
    """Whether the trend holds at the weekly check `at` (see the module's docstring)."""
    if trigger.weeks < 1:
        return False
    checks = weekly_checks(at, trigger.weeks, tz)
    values = [metric_value(metric, events, check, tz) for check in checks]
    pairs = [(values[week + 1], values[week]) for week in range(trigger.weeks)]
    return all(_moved(trigger.direction, trigger.percent, before, now) for before, now in pairs)
