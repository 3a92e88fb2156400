"""Slowing down guesses of the API token at the dashboard's sign-in form.

Each client address may fail `MAX_FAILURES` sign-ins within `WINDOW_SECONDS`; past that it is
answered 429 (with `Retry-After`) until the window has passed, right token or not. All clients
together may fail `MAX_FAILURES_ALL` times a window (an attacker with many addresses). The
counts live in the API process: a restart forgets them, several API processes count apart.
"""

from __future__ import annotations

import time
from collections import deque

__all__ = ["MAX_FAILURES", "MAX_FAILURES_ALL", "WINDOW_SECONDS", "SigninThrottle"]

MAX_FAILURES = 5
MAX_FAILURES_ALL = 100
WINDOW_SECONDS = 60.0
_MAX_CLIENTS = 10_000  # addresses remembered at once: the oldest are forgotten first


class SigninThrottle:
    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def _recent(self, times: deque[float], now: float) -> deque[float]:
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
        return times

    def wait_seconds(self, client: str, now: float | None = None) -> float:
        """How long `client` must wait before trying again; 0 when it may try now."""
        moment = time.monotonic() if now is None else now
        waits = [0.0]
        mine = self._recent(self._failures.get(client, deque()), moment)
        if len(mine) >= MAX_FAILURES:
            waits.append(mine[0] + WINDOW_SECONDS - moment)
        everyone = self._recent(self._all, moment)
        if len(everyone) >= MAX_FAILURES_ALL:
            waits.append(everyone[0] + WINDOW_SECONDS - moment)
        return max(waits)

    def failed(self, client: str, now: float | None = None) -> None:
        moment = time.monotonic() if now is None else now
        if client not in self._failures and len(self._failures) >= _MAX_CLIENTS:
            self._failures.pop(next(iter(self._failures)))
        self._failures.setdefault(client, deque()).append(moment)
        self._all.append(moment)
