"""Cursors of paginated reads: an opaque token for where the next page starts.

A page is read by keyset (`WHERE (sort key, id) > (the last row's) ORDER BY sort key, id LIMIT n`),
never by offset, so a page costs the rows it shows however deep it is, and a row inserted
meanwhile neither repeats nor hides another. The token is the last row's position as URL-safe
base64 of a small JSON array, tagged with what it is a cursor of (the read and its sort): a token
of another read, a sort it was not made for, or anything malformed is refused with `BadCursor`,
whose message says why (the API answers 400 with it).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

__all__ = ["DEFAULT_LIMIT", "MAX_CURSOR_CHARS", "MAX_LIMIT", "BadCursor", "BadQuery", "check_limit", "decode_cursor",
           "encode_cursor"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_CHARS = 1000
_MAX_TEXT = 600  # the longest text a position may hold (ids are 200 characters at most, keys 500)


class BadQuery(ValueError):
    """A read's parameters do not make sense (a sort, a filter, a limit): the message says which and why."""


class BadCursor(BadQuery):
    """A cursor that this read did not hand out."""


def check_limit(limit: int | None) -> int:
    """The page size asked for, `DEFAULT_LIMIT` when none; `BadQuery` outside 1..`MAX_LIMIT`."""
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def encode_cursor(tag: str, position: list[Any]) -> str:
    """The token for `position` (texts, numbers, None) of the read `tag` (e.g. `accounts:-arr`)."""
    raw = json.dumps([tag, *position], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, tag: str, shape: tuple[type | tuple[type, ...], ...]) -> list[Any]:
    """The position a token holds; `BadCursor` unless it is a token of `tag` whose values have the
    types of `shape` (one type or tuple of types per value; `type(None)` where a value may be null)."""
    if len(token) > MAX_CURSOR_CHARS:
        raise BadCursor(f"cursor: too long ({len(token)} characters; a cursor is at most {MAX_CURSOR_CHARS})")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor("cursor: not a cursor this API handed out (pass next_cursor back as it came)") from None
    if not isinstance(value, list) or not value or not isinstance(value[0], str):
        raise BadCursor("cursor: not a cursor this API handed out (pass next_cursor back as it came)")
    if value[0] != tag:
        raise BadCursor(f"cursor: made for another read or sort ({value[0][:60]!r}, not {tag!r}); "
                        "start again without a cursor")
    position = value[1:]
    if len(position) != len(shape):
        raise BadCursor("cursor: not a cursor this API handed out (pass next_cursor back as it came)")
    for item, expected in zip(position, shape, strict=True):
        wanted = expected if isinstance(expected, tuple) else (expected,)
        number = float in wanted and isinstance(item, int) and not isinstance(item, bool)
        if (isinstance(item, bool) or not isinstance(item, wanted)) and not number:
            raise BadCursor("cursor: not a cursor this API handed out (pass next_cursor back as it came)")
        if isinstance(item, str) and len(item) > _MAX_TEXT:
            raise BadCursor("cursor: not a cursor this API handed out (a value is too long)")
        if isinstance(item, float) and (item != item or item in (float("inf"), float("-inf"))):
            raise BadCursor("cursor: not a cursor this API handed out (a number is not finite)")
    return position
