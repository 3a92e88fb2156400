"""Requests before routing: the router, which competes with the requests storing batches for the
interpreter, pauses between two changes while one is under way.

It pauses at most `YIELD_SECONDS` in a row, then routes for as long as it paused, so that
requests are answered fast and routing still gets at least half of the time under a steady
stream of them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

__all__ = ["YIELD_SECONDS", "RequestPriority"]

YIELD_SECONDS = 1.0  # the longest the router pauses in a row for requests storing batches


class RequestPriority:
    def __init__(self) -> None:
        self._requests = 0  # requests reading or storing a batch right now
        self._lock = threading.Lock()
        self._quiet = threading.Event()  # set while no request is: the router yields to them
        self._quiet.set()
        self._free_until = 0.0  # the router thread's: until then it routes without yielding

    @contextlib.contextmanager
    def foreground(self) -> Iterator[None]:
        """Around a request's reading and storing of a batch."""
        with self._lock:
            self._requests += 1
            self._quiet.clear()
        try:
            yield
        finally:
            with self._lock:
                self._requests -= 1
                if not self._requests:
                    self._quiet.set()

    def yield_to_requests(self) -> None:
        """In the router's thread, between two changes: wait while requests are under way (see above)."""
        if not self._quiet.is_set() and time.monotonic() >= self._free_until:
            began = time.monotonic()
            self._quiet.wait(YIELD_SECONDS)
            # then route for as long as it paused: requests get at most half the time of a busy router
            self._free_until = 2 * time.monotonic() - began
