"""How the dashboard writes values: money (`$120,000`, `$1.2M`), names people read
(`login_frequency` → "Login frequency"), moments, dates and numbers, any field's value in plain
words (`plain`). Jinja2 filters, registered by `server.dashboard.rendering`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

__all__ = ["FILTERS", "css", "humane", "money", "number", "on_day", "plain", "when"]


def money(value: Any) -> str:
    """`$120,000` below a million, `$1.2M` from a million, `$3.4B` from a billion; `—` when unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    sign, amount = ("-" if value < 0 else ""), abs(float(value))
    if amount >= 1e9:
        return f"{sign}${amount / 1e9:.1f}B"
    if amount >= 1e6:
        return f"{sign}${amount / 1e6:.1f}M"
    return f"{sign}${amount:,.0f}"


def plain(value: Any) -> str:
    """A field's value in plain words: yes/no, `key: value` pairs, lists by commas, whole numbers bare."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {plain(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(plain(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def humane(name: str | None) -> str:
    """A name as people read it: `login_frequency` → `Login frequency`, `nps` → `NPS`."""
    if not name:
        return ""
    words = name.replace("-", " ").replace("_", " ").split()
    if len(words) == 1 and len(words[0]) <= 3:
        return words[0].upper()
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def on_day(value: date | datetime | str | None) -> str:
    """A date as `2026-03-01`; a text date as written; empty when there is none."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return value or ""


def number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def css(value: str | None) -> str:
    """A band or kind as a CSS class name part: letters, digits and dashes only."""
    return "".join(c if c.isalnum() else "-" for c in (value or "none").lower())


FILTERS = {"when": when, "number": number, "css": css, "money": money, "humane": humane, "day": on_day,
           "q": lambda value: quote(str(value), safe="")}
