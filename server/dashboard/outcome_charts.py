"""The outcomes pages' charts as small SVGs laid out here and drawn by `_outcome_charts.html`: the
retention curves (one line per cohort, percent over time) and the forecast's ARR by month (bars:
expected to renew, and at risk). The colours are SVG attributes, so the pages need no stylesheet
of their own for them, and no JavaScript.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from server.dashboard.chart import Tick

__all__ = ["Bar", "BarChart", "LineChart", "Series", "bar_chart", "line_chart"]

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 150, 14, 30  # room for the axis labels and the legend (right)
COLOURS = ("#1f4e79", "#00838f", "#5b3d91", "#b7791f", "#6d4c41", "#c2185b", "#546e7a", "#2e7d32")
BAND_COLOURS = {"green": "#2e7d32", "yellow": "#b7791f", "amber": "#b7791f", "orange": "#e65100", "red": "#c62828",
                "unscored": "#8a94a3"}  # a cohort named after a band keeps the band's colour
TICK_GAP = 70.0  # the least room between two labels of the time axis


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str


@dataclass
class Series:
    name: str
    colour: str
    points: str  # the polyline's `points`
    dots: list[Dot]
    legend_y: float


@dataclass
class LineChart:
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: float = LEFT
    plot_right: float = WIDTH - RIGHT
    plot_top: float = TOP
    plot_bottom: float = HEIGHT - BOTTOM
    series: list[Series] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    reference_y: float | None = None  # the 100% line
    summary: str = ""


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    safe_y: float  # expected ARR outside the at-risk renewals, stacked on the at-risk part
    safe_height: float
    risk_y: float
    risk_height: float
    label: str  # the month
    title: str  # the tooltip


@dataclass
class BarChart:
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: float = LEFT
    plot_right: float = WIDTH - RIGHT
    plot_top: float = TOP
    plot_bottom: float = HEIGHT - BOTTOM
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    summary: str = ""


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def money(value: float) -> str:
    """ARR in few characters: 1.2M, 350k, 900."""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 1_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:.0f}"


def line_chart(lines: list[tuple[str, list[tuple[datetime, float | None]]]]) -> LineChart:
    """Percent curves over time (each value 0 to 1 or more), the first line the total."""
    chart = LineChart()
    values = [value for _, points in lines for _, value in points if value is not None]
    times = [at for _, points in lines for at, _ in points]
    if not values or not times:
        chart.summary = "No account was a customer at the window's start."
        return chart
    low = math.floor(min(values) * 10 - 0.5) / 10  # a tenth below the lowest value, at least
    high = math.ceil(max(1.0, *values) * 10 + 0.5) / 10
    first, last = min(times), max(times)
    span = (last - first).total_seconds() or 1.0

    def x_of(at: datetime) -> float:
        return round(chart.plot_left + (at - first).total_seconds() / span * (chart.plot_right - chart.plot_left), 1)

    def y_of(value: float) -> float:
        return round(chart.plot_bottom - (value - low) / (high - low) * (chart.plot_bottom - chart.plot_top), 1)

    step = 0.1 if high - low <= 1.0 else 0.2
    tick = low
    while tick <= high + 1e-9:
        chart.y_ticks.append(Tick(at=y_of(tick), text=_percent(tick)))
        tick = round(tick + step, 2)
    chart.reference_y = y_of(1.0)
    for at in sorted(set(times), reverse=True):  # from the end, each label far enough from the last one kept
        if not chart.x_ticks or chart.x_ticks[-1].at - x_of(at) >= TICK_GAP:
            chart.x_ticks.append(Tick(at=x_of(at), text=at.strftime("%Y-%m-%d")))
    for index, (name, points) in enumerate(lines):
        shown = [(at, value) for at, value in points if value is not None]
        dots = [Dot(x=x_of(at), y=y_of(value), label=f"{name} {at:%Y-%m-%d}: {value * 100:.1f}%")
                for at, value in shown]
        colour = BAND_COLOURS.get(name, COLOURS[index % len(COLOURS)])
        chart.series.append(Series(name=name, colour=colour,
                                   points=" ".join(f"{dot.x},{dot.y}" for dot in dots), dots=dots,
                                   legend_y=chart.plot_top + 12 + index * 18))
    ends = [f"{name} {points[-1][1] * 100:.1f}%" for name, points in lines if points and points[-1][1] is not None]
    chart.summary = f"From {first:%Y-%m-%d} to {last:%Y-%m-%d}: " + ", ".join(ends) + "."
    return chart


def bar_chart(months: list[tuple[str, float, float]]) -> BarChart:
    """Per month (label, expected ARR of the renewals not at risk, ARR of those at risk)."""
    chart = BarChart()
    top = max([safe + risk for _, safe, risk in months] + [1.0])
    height = chart.plot_bottom - chart.plot_top

    def h_of(value: float) -> float:
        return round(value / top * height, 1)

    for fraction in (0.0, 0.5, 1.0):
        chart.y_ticks.append(Tick(at=round(chart.plot_bottom - fraction * height, 1), text=money(top * fraction)))
    slot = (chart.plot_right - chart.plot_left) / max(1, len(months))
    for index, (label, safe, risk) in enumerate(months):
        risk_h, safe_h = h_of(risk), h_of(safe)
        x = round(chart.plot_left + index * slot + slot * 0.15, 1)
        chart.bars.append(Bar(x=x, width=round(slot * 0.7, 1), risk_y=round(chart.plot_bottom - risk_h, 1),
                              risk_height=risk_h, safe_y=round(chart.plot_bottom - risk_h - safe_h, 1),
                              safe_height=safe_h, label=label,
                              title=f"{label}: expected {money(safe)} not at risk, {money(risk)} at risk"))
    chart.summary = "; ".join(f"{label}: {money(safe)} expected, {money(risk)} at risk" for label, safe, risk in months)
    return chart
