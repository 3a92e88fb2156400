"""Size limits, enforced before anything is stored.

A request body over `max_body_bytes` (default 5 MB) or one event over `max_line_bytes`
(default 64 KB: a JSON line, or one element of a JSON array, measured as compact JSON) is
refused whole with 413. The body is read in chunks and the read stops at the limit, so an
oversize upload is never held in memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from engine.ingestion import ParsedLine
from engine.records import Rejection
from engine.settings import Settings
from workers.api.errors import ApiError

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_LINE_BYTES", "Limits", "check_line_sizes", "read_body"]

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_LINE_BYTES = 64 * 1024
DEFAULT_ROUTING_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    routing_timeout_seconds: float = DEFAULT_ROUTING_TIMEOUT_SECONDS  # Temporal's share of one request

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """Limits from settings that name them (`api_max_body_bytes`, …), else the defaults."""
        return cls(
            max_body_bytes=int(getattr(settings, "api_max_body_bytes", DEFAULT_MAX_BODY_BYTES)),
            max_line_bytes=int(getattr(settings, "api_max_line_bytes", DEFAULT_MAX_LINE_BYTES)),
            routing_timeout_seconds=float(getattr(settings, "api_routing_timeout_seconds",
                                                  DEFAULT_ROUTING_TIMEOUT_SECONDS)),
        )


def _too_large(detail: str) -> ApiError:
    return ApiError(413, "payload too large", f"{detail}; nothing was stored")


async def read_body(request: Request, limits: Limits) -> bytes:
    """The request body, or 413 as soon as it passes `limits.max_body_bytes`."""
    limit = limits.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(f"the body is {int(declared):,} bytes; the limit is {limit:,} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(f"the body is over the limit of {limit:,} bytes")
    return bytes(body)


def _size(obj: dict[str, Any]) -> int:
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())


def check_line_sizes(parsed: list[ParsedLine], text: str, limits: Limits) -> None:
    """413 when one event of the body is over `limits.max_line_bytes`."""
    limit = limits.max_line_bytes
    raw_lines: list[str] | None = None
    for entry in parsed:
        if isinstance(entry, Rejection):
            if raw_lines is None:
                raw_lines = text.splitlines()
            line = raw_lines[entry.line - 1] if 0 < entry.line <= len(raw_lines) else ""
            number, size = entry.line, len(line.encode())
        else:
            number, size = entry[0], _size(entry[1])
        if size > limit:
            raise _too_large(f"line {number} is {size:,} bytes; the limit for one event is {limit:,} bytes")
