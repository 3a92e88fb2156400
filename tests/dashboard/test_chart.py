"""The score history chart and the trend arrow, computed without a browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dsl import ir
from server.dashboard.chart import score_chart
from server.dashboard.views import trend

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_the_chart_spans_the_bands_and_puts_later_and_higher_scores_right_and_up(bundle: ir.Bundle) -> None:
    model = bundle.scores["health"]
    chart = score_chart(model, [(T0, 69, "yellow"), (T0 + timedelta(days=2), 41, "red"),
                                (T0 + timedelta(days=4), 85, "green")])
    assert [band.name for band in chart.bands] == ["red", "yellow", "green"]
    assert [tick.text for tick in chart.y_ticks] == ["0", "50", "80", "100"]
    xs = [point.x for point in chart.points]
    ys = [point.y for point in chart.points]
    assert xs == sorted(xs)
    assert ys[2] < ys[0] < ys[1]  # SVG's y grows downwards
    assert chart.plot_left < xs[0] and xs[-1] < chart.plot_right
    assert len(chart.lines) == 1
    assert chart.points[1].label == "2026-01-07 09:00 UTC: 41 (red)"
    assert [tick.text for tick in chart.x_ticks] == ["2026-01-05", "2026-01-09"]


def test_an_unscored_recording_breaks_the_line(bundle: ir.Bundle) -> None:
    chart = score_chart(bundle.scores["health"], [
        (T0, 60, "yellow"), (T0 + timedelta(days=1), 55, "yellow"), (T0 + timedelta(days=2), None, None),
        (T0 + timedelta(days=3), 30, "red"), (T0 + timedelta(days=4), 35, "red")])
    assert len(chart.points) == 4
    assert len(chart.lines) == 2


def test_a_chart_without_history_says_so(bundle: ir.Bundle) -> None:
    chart = score_chart(bundle.scores["health"], [])
    assert chart.empty
    assert chart.summary == "No score recorded yet."
    single = score_chart(bundle.scores["health"], [(T0, 50, "yellow")])
    assert len(single.points) == 1 and not single.lines


def test_the_trend_is_the_direction_of_the_last_change() -> None:
    assert trend([69, 41]) == ("down", -28)
    assert trend([40, 69, 69, 69]) == ("up", 29)  # repeated recordings do not hide the last move
    assert trend([55]) == (None, None)
    assert trend([55, None]) == (None, None)  # unscored now
    assert trend([None, 55]) == (None, None)  # scored for the first time
    assert trend([]) == (None, None)
