"""A time zone where it is about noon now, for tests that run real journeys on the wall clock.

The standard policy holds emails in quiet hours (20:00 to 08:00 account time). A test that waits
for an email from a journey started "now" gives its account this zone, so the email goes out
whatever hour the suite runs at.
"""

from __future__ import annotations

from datetime import UTC, datetime


def daytime_zone(now: datetime | None = None) -> str:
    """An `Etc/GMT±N` zone where it is between 12:00 and 13:00 at `now` (default: the wall clock)."""
    hour = (now or datetime.now(UTC)).astimezone(UTC).hour
    offset = (12 - hour + 12) % 24 - 12  # -11 to +12 hours
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs
