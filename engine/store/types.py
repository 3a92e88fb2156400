"""Column types that behave the same on SQLite and PostgreSQL.

- `UtcDateTime`: timezone-aware UTC datetimes in, timezone-aware UTC datetimes out. SQLite has no
  time zones, so values are stored there as naive UTC text (SQLAlchemy always writes
  microseconds, so text order is time order); PostgreSQL stores `timestamp with time zone`.
- `UtcMicros`: the same datetimes, stored on SQLite as integer microseconds since the epoch (8
  bytes instead of 26 of text) for the bookkeeping times no query compares with text;
  PostgreSQL stores `timestamp with time zone` as for `UtcDateTime`.
- `JsonDocument`: JSON on SQLite, JSONB on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["JsonDocument", "UtcDateTime", "UtcMicros", "dumps_json", "fast_json", "micros", "to_utc"]


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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(value: datetime) -> int:
    """A time as `UtcMicros` stores it on SQLite: whole microseconds since 1970-01-01 UTC."""
    delta = to_utc(value) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class UtcMicros(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(BigInteger() if dialect.name == "sqlite" else DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return micros(value) if dialect.name == "sqlite" else to_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return _EPOCH + timedelta(microseconds=value)
        if isinstance(value, str):  # text written by hand into SQLite
            return to_utc(datetime.fromisoformat(value))
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
