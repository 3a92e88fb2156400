"""Values of account fields and event payload keys, checked against their declared type.

`coerce(value, ftype)` returns the value as the engine keeps it (JSON-ready) or raises
`ValueError` with a reason a person can act on. Conventions (docs/events-and-actions.md):

- text: a string. number, money: a number (not a boolean). percent: a number from 0 to 100.
- boolean: true or false.
- date: an ISO date "2026-04-15", kept as that string.
- datetime: ISO 8601 with an offset ("2026-04-15T09:00:00Z"), kept as an ISO string in UTC.
- duration: seconds (a number >= 0) or a duration as the language writes it ("48h",
  "2 days", "3 weeks"), kept as seconds.
- owner: an object with `email`, optional `name`, optional `manager` (itself an owner).
- contact: an object with `email`, optional `name`.
- enum: one of the declared values.
- null clears the field, whatever its type.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from dsl.ir import FieldType

__all__ = ["coerce", "parse_instant", "quote_value"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_DURATION = re.compile(
    r"(?P<amount>\d+)\s*(?P<unit>m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)", re.IGNORECASE
)
_DURATION_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def quote_value(value: Any, limit: int = 40) -> str:
    """A value as a message quotes it: `'abc'`, `42`, `a list`, `an object`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_instant(value: Any) -> datetime:
    """An ISO 8601 date and time with an offset, as a UTC datetime."""
    if not isinstance(value, str):
        raise ValueError(f"expected a date and time such as 2026-04-15T09:00:00Z, got {quote_value(value)}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" and text else text)
    except ValueError:
        raise ValueError(
            f"expected a date and time such as 2026-04-15T09:00:00Z, got {quote_value(value)}"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f"{quote_value(value)} needs a time zone offset, such as Z or +02:00")
    return parsed.astimezone(UTC)


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {quote_value(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return value


def _percent(value: Any) -> int | float:
    try:
        number = _number(value)
    except ValueError:
        raise ValueError(f"expected a percentage from 0 to 100, got {quote_value(value)}") from None
    if not 0 <= number <= 100:
        raise ValueError(f"expected a percentage from 0 to 100, got {quote_value(value)}")
    return number


def _date(value: Any) -> str:
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ValueError(f"{quote_value(value)} is not a date in the calendar") from None
    raise ValueError(f"expected a date such as 2026-04-15, got {quote_value(value)}")


def _duration(value: Any) -> int | float:
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"expected a duration such as 48h or 2 days, got {quote_value(value)}")
        return int(match["amount"]) * _DURATION_SECONDS[match["unit"][0].lower()]
    try:
        seconds = _number(value)
    except ValueError:
        raise ValueError(f"expected a duration such as 48h or 2 days, got {quote_value(value)}") from None
    if seconds < 0:
        raise ValueError(f"expected a duration of 0 seconds or more, got {seconds}")
    return seconds


def _person(value: Any, kind: str, *, depth: int = 0) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{'an' if kind == 'owner' else 'a'} {kind} is an object with an 'email', "
                         f"got {quote_value(value)}")
    email = value.get("email")
    if email is None:
        raise ValueError(f"{kind} needs an 'email'")
    if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()):
        raise ValueError(
            f"{kind} 'email' must be an address such as ana@example.com, got {quote_value(email)}"
        )
    person = dict(value)
    person["email"] = email.strip()
    name = value.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"{kind} 'name' must be text, got {quote_value(name)}")
    manager = value.get("manager")
    if kind == "owner" and manager is not None:
        if depth >= 10:
            raise ValueError("owner managers nest more than 10 levels deep")
        try:
            person["manager"] = _person(manager, "owner", depth=depth + 1)
        except ValueError as error:
            raise ValueError(f"manager: {error}") from None
    return person


def coerce(value: Any, ftype: FieldType) -> Any:
    """The value as the engine keeps it; `ValueError` with a readable reason if it does not fit."""
    if value is None:
        return None
    kind = ftype.type
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {quote_value(value)}")
        return value
    if kind in ("number", "money"):
        return _number(value)
    if kind == "percent":
        return _percent(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {quote_value(value)}")
        return value
    if kind == "date":
        return _date(value)
    if kind == "datetime":
        return parse_instant(value).isoformat()
    if kind == "duration":
        return _duration(value)
    if kind in ("owner", "contact"):
        return _person(value, kind)
    if kind == "enum":
        if not isinstance(value, str) or value not in ftype.values:
            raise ValueError(f"expected one of {', '.join(ftype.values)}, got {quote_value(value)}")
        return value
    raise ValueError(f"unknown field type {kind!r}")
