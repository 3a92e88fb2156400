"""A score's history as a small SVG line chart, laid out here and drawn by a template.

The chart's height spans the score's bands (0 to 100 for the standard health score) with each
band shaded behind the line; time runs left to right. A point where the account was unscored
breaks the line. Everything is computed in Python, so the page needs no JavaScript to show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dsl import ir

__all__ = ["Chart", "ChartPoint", "score_chart"]

WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 44, 56, 12, 28  # room for the axis labels (left) and the band names (right)
INSET = 10  # the first and last points sit this far inside the plot, so their dots show whole


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str  # the tooltip: "2026-01-07 09:00 UTC: 41 (red)"
    band: str | None


@dataclass(frozen=True)
class BandArea:
    name: str
    y: float
    height: float
    label_y: float


@dataclass(frozen=True)
class Tick:
    at: float  # x or y, by axis
    text: str


@dataclass
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    bands: list[BandArea] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # polyline `points` attributes
    points: list[ChartPoint] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    summary: str = ""  # the chart in words, for screen readers

    @property
    def empty(self) -> bool:
        return not self.points


def _number(value: float) -> str:
    return f"{value:g}"


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def score_chart(model: ir.ScoreModel | None, history: list[tuple[datetime, float | None, str | None]]) -> Chart:
    """The chart of `history` (time, value, band), oldest first, on the scale of `model`'s bands."""
    bands = sorted(model.bands, key=lambda band: band.low) if model is not None else []
    values = [value for _, value, _ in history if value is not None]
    low = min([*(band.low for band in bands), *values], default=0.0)
    high = max([*(band.high for band in bands), *values], default=100.0)
    if high <= low:
        high = low + 1
    chart = Chart(width=WIDTH, height=HEIGHT, plot_left=LEFT, plot_right=WIDTH - RIGHT, plot_top=TOP,
                  plot_bottom=HEIGHT - BOTTOM)
    span_y = chart.plot_bottom - chart.plot_top

    def y_of(value: float) -> float:
        return round(chart.plot_bottom - (value - low) / (high - low) * span_y, 1)

    for index, band in enumerate(bands):
        top = bands[index + 1].low if index + 1 < len(bands) else band.high
        y_top, y_bottom = y_of(top), y_of(band.low)
        chart.bands.append(BandArea(name=band.name, y=y_top, height=round(y_bottom - y_top, 1),
                                    label_y=round((y_top + y_bottom) / 2 + 4, 1)))
    chart.y_ticks = [Tick(at=y_of(value), text=_number(value))
                     for value in sorted({low, high, *(band.low for band in bands)})]
    if not history:
        chart.summary = "No score recorded yet."
        return chart
    first, last = history[0][0], history[-1][0]
    seconds = (last - first).total_seconds()
    span_x = chart.plot_right - chart.plot_left - 2 * INSET

    def x_of(at: datetime) -> float:
        if seconds <= 0:
            return round(chart.plot_left + INSET + span_x / 2, 1)
        return round(chart.plot_left + INSET + (at - first).total_seconds() / seconds * span_x, 1)

    run: list[str] = []
    for at, value, band_name in history:
        if value is None:
            if len(run) > 1:
                chart.lines.append(" ".join(run))
            run = []
            continue
        x, y = x_of(at), y_of(value)
        run.append(f"{x},{y}")
        label = f"{_when(at)}: {_number(value)}" + (f" ({band_name})" if band_name else "")
        chart.points.append(ChartPoint(x=x, y=y, label=label, band=band_name))
    if len(run) > 1:
        chart.lines.append(" ".join(run))
    chart.x_ticks = [Tick(at=x_of(first), text=first.strftime("%Y-%m-%d"))]
    if seconds > 0:
        chart.x_ticks.append(Tick(at=x_of(last), text=last.strftime("%Y-%m-%d")))
    scored = [point.label for point in chart.points]
    chart.summary = (f"{len(scored)} score(s) recorded, from {scored[0]} to {scored[-1]}." if scored
                     else "The account has been unscored in every recording.")
    return chart
