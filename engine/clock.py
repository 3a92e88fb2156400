"""The engine's clock: what "now" is for the processes that store input and start journeys.

Routing itself never reads a clock: a change is routed as of its own moments (its `at`, and its
arrival `received_at`), and a journey reads Temporal's clock. What differs between production,
`playbook dev` and a run against the time-skipping test server is only where "now" comes from
when input arrives, and the offset journeys get: engine time = clock time - offset.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

__all__ = ["Clock"]


class Clock:
    """`now()`: a source of time (the machine's by default) minus an offset in seconds."""

    def __init__(self, offset_seconds: float = 0.0, source: Callable[[], Awaitable[datetime]] | None = None,
                 name: str = "wall") -> None:
        self.offset_seconds = offset_seconds
        self.name = name
        self._source = source

    async def now(self) -> datetime:
        moment = await self._source() if self._source is not None else datetime.now(UTC)
        return moment - timedelta(seconds=self.offset_seconds)

    def __repr__(self) -> str:
        return f"Clock({self.name}, offset {self.offset_seconds:g} s)"
