"""The limits of the web process: request sizes, and how routing waits, retries and holds back.

`Limits.from_settings` reads the settings that name them (`api_max_body_bytes`, …); the HTTP
API enforces the sizes (`server.api.limits`) and the router the rest (`server.api.routing`).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.settings import Settings

__all__ = ["DEFAULT_DRAIN_IN_FLIGHT", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_LINE_BYTES", "Limits"]

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_LINE_BYTES = 64 * 1024
DEFAULT_ROUTING_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_ROUTING_BACKLOG = 100_000
DEFAULT_RETRY_MIN_SECONDS = 0.5
DEFAULT_RETRY_MAX_SECONDS = 15.0
DEFAULT_WAIT_SECONDS = 30.0
DEFAULT_DRAIN_IN_FLIGHT = 8
DEFAULT_DRAIN_BACKLOG_MAX = 200_000


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    routing_timeout_seconds: float = DEFAULT_ROUTING_TIMEOUT_SECONDS  # one call to Temporal while routing
    max_routing_backlog: int = DEFAULT_MAX_ROUTING_BACKLOG  # stored, unrouted changes; beyond: 503
    retry_min_seconds: float = DEFAULT_RETRY_MIN_SECONDS  # routing's first wait after a failure,
    retry_max_seconds: float = DEFAULT_RETRY_MAX_SECONDS  # doubled after each failure up to this
    wait_seconds: float = DEFAULT_WAIT_SECONDS  # the longest `?wait=true` holds a request for routing
    drain_in_flight: int = DEFAULT_DRAIN_IN_FLIGHT  # calls to Temporal the drain makes at once
    drain_backlog_max: int = DEFAULT_DRAIN_BACKLOG_MAX  # intents not carried out yet; beyond: 503

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """Limits from settings that name them (`api_max_body_bytes`, …), else the defaults."""
        return cls(
            max_body_bytes=int(getattr(settings, "api_max_body_bytes", DEFAULT_MAX_BODY_BYTES)),
            max_line_bytes=int(getattr(settings, "api_max_line_bytes", DEFAULT_MAX_LINE_BYTES)),
            routing_timeout_seconds=float(getattr(settings, "api_routing_timeout_seconds",
                                                  DEFAULT_ROUTING_TIMEOUT_SECONDS)),
            max_routing_backlog=int(getattr(settings, "api_max_routing_backlog", DEFAULT_MAX_ROUTING_BACKLOG)),
            drain_in_flight=int(getattr(settings, "api_drain_in_flight", DEFAULT_DRAIN_IN_FLIGHT)),
            drain_backlog_max=int(getattr(settings, "api_drain_backlog_max", DEFAULT_DRAIN_BACKLOG_MAX)),
        )
