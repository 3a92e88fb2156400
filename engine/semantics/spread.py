"""Mass wake-ups spread over a window: each account's offset from a schedule's instant.

`every month on day 1 at 10:00` is 10:00 in every account's zone: with 100,000 accounts in
a few zones, that is tens of thousands of journeys started in the same second. Each account
is given a fixed offset within the spread window instead, taken from a hash of its id: the
same account always gets the same offset (a replay, a simulation and the live scheduler agree),
and the accounts of one instant spread evenly over the window.

The offset is in whole seconds, in [0, window).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

__all__ = ["DEFAULT_SPREAD", "spread_offset"]

DEFAULT_SPREAD = timedelta(minutes=5)


def spread_offset(account: str, window: timedelta) -> timedelta:
    """The account's offset in whole seconds within `window` (zero for a window under a second)."""
    seconds = int(window.total_seconds())
    if seconds <= 1:
        return timedelta(0)
    digest = hashlib.sha256(account.encode("utf-8")).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % seconds)
