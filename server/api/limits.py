"""Size limits, enforced before anything is stored.

A request body over `max_body_bytes` (default 5 MB) or one event over `max_line_bytes`
(default 64 KB: a JSON line, or one element of a JSON array, measured as compact JSON) is
refused whole with 413. The body is read in chunks and the read stops at the limit, so an
oversize upload is never held in memory. The limits themselves are `server.web.limits.Limits`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from engine.intake.ingestion import ParsedLine
from engine.records import Rejection
from server.web.errors import ApiError
from server.web.limits import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_LINE_BYTES, Limits

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_LINE_BYTES", "Limits", "check_line_sizes", "read_body"]


def _too_large(detail: str, extra: dict[str, Any] | None = None) -> ApiError:
    return ApiError(413, "payload too large", f"{detail}; nothing was stored", extra=extra)


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


# Compact JSON is at most this many times longer, in bytes, than the characters of the line it was
# read from: a character is at most 4 bytes, and a number such as `1e15` becomes `1000000000000000.0`.
_GROWTH = 20


def check_line_sizes(parsed: list[ParsedLine], text: str, limits: Limits, lines: list[str] | None = None) -> None:
    """413 when an event of the body is over `limits.max_line_bytes`: the detail names the first,
    `oversize` lists them all (`[{"line": n, "bytes": n}, …]`), so that a client can drop them at once.

    `lines`: the lines a JSON-lines body was read as (`engine.intake.ingestion.parse_text`); an object
    whose line is short enough that its compact JSON cannot reach the limit is not measured.
    """
    limit = limits.max_line_bytes
    if len(text) * _GROWTH <= limit:
        return  # no event of so short a body can reach the limit
    raw_lines = lines
    oversize: list[dict[str, int]] = []
    for entry in parsed:
        if isinstance(entry, Rejection):
            if raw_lines is None:
                raw_lines = text.splitlines()
            line = raw_lines[entry.line - 1] if 0 < entry.line <= len(raw_lines) else ""
            number, size = entry.line, len(line.encode())
        else:
            number = entry[0]
            if lines is not None and 0 < number <= len(lines) and len(lines[number - 1]) * _GROWTH <= limit:
                continue
            size = _size(entry[1])
        if size > limit:
            oversize.append({"line": number, "bytes": size})
    if oversize:
        first = oversize[0]
        more = f" (and {len(oversize) - 1} more line(s), listed in 'oversize')" if len(oversize) > 1 else ""
        raise _too_large(f"line {first['line']} is {first['bytes']:,} bytes; the limit for one event is "
                         f"{limit:,} bytes{more}", {"oversize": oversize, "limit_bytes": limit})
