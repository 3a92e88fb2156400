"""Column types that behave the same on SQLite and PostgreSQL.

- `UtcDateTime`: timezone-aware UTC datetimes in, timezone-aware UTC datetimes out. SQLite has no
  time zones, so values are stored there as naive UTC text (SQLAlchemy always writes
  microseconds, so text order is time order); PostgreSQL stores `timestamp with time zone`.
- `JsonDocument`: JSON on SQLite, JSONB on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["JsonDocument", "UtcDateTime", "dumps_json", "fast_json", "to_utc"]


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = to_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # a value written by hand into SQLite
            value = datetime.fromisoformat(value)
        return to_utc(value)


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_ENCODER = json.JSONEncoder(default=_json_default, ensure_ascii=False, separators=(",", ":"))


def dumps_json(value: object) -> str:
    """The engine's JSON serialiser: datetimes and dates become ISO strings."""
    if not value and isinstance(value, dict):
        return "{}"
    return _ENCODER.encode(value)


def fast_json(value: object) -> str:
    """`dumps_json`, several times faster (orjson), for the store's bulk writes.

    The text may differ in form (`1e16` for `1e+16`), never in value: whatever orjson would write
    differently (a null, which may stand for a NaN; an integer over 64 bits; a key that is not
    text) is written by `dumps_json` instead.
    """
    if not value and isinstance(value, dict):
        return "{}"
    try:
        text = orjson.dumps(value)
    except TypeError:
        return dumps_json(value)
    if b"null" in text:
        return dumps_json(value)
    return text.decode()


JsonDocument: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")
