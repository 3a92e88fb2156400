"""What ingestion refuses in an object that is otherwise well formed, line by line, with the place.

Both stores must take what is accepted, and an accepted value must not hold an account still:

- a NUL character (`\\u0000`) anywhere (PostgreSQL's text cannot hold one), or a lone surrogate
  (`\\ud800`: not a character, no encoding writes it);
- values nested deeper than `MAX_DEPTH` levels;
- in an account id, an event id, an event name or a trait or data key: control characters, bidi
  controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) and invisible characters
  (U+200B-U+200D, U+2060, U+FEFF). Ids are not otherwise normalised: they are compared code
  point by code point, so `acme` and its fullwidth look-alike are two accounts, as sent;
- an `at` later than `MAX_FUTURE` from now (a clock a little ahead is fine) or before `EARLIEST`:
  an update dated 9999-12-31 would otherwise stay the latest one forever. "Now" is the later of
  the server's clock and the moment a replay (simulate, backtest) ingests at;
- a `timezone` trait that is not an IANA zone name (`Mars/Olympus`, `../../etc/passwd`,
  `localtime`): it would silently mean UTC, or the server's own zone.
"""

from __future__ import annotations

import unicodedata
import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from engine.store import NewChange

__all__ = ["EARLIEST", "MAX_DEPTH", "MAX_FUTURE", "check_change", "is_zone_name"]

MAX_FUTURE = timedelta(hours=1)  # how far ahead of now an `at` may be (clock skew)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # nothing a customer did is dated before this
MAX_DEPTH = 32  # levels of objects and lists inside a trait or data value

_INVISIBLE = frozenset("\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                       "\u2060\u2066\u2067\u2068\u2069\ufeff")
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})  # files in the zone folder, not places


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def is_zone_name(name: str) -> bool:
    """An IANA zone name this machine knows (`Europe/Berlin`, `UTC`)."""
    return name in _zones()


def _shown(char: str) -> str:
    return f"U+{ord(char):04X}" + (f" {unicodedata.name(char)}" if unicodedata.name(char, "") else "")


@lru_cache(maxsize=8192)
def _name_fault(value: str) -> str | None:
    """The first character a name may not hold, or None; remembered (names repeat)."""
    for char in value:
        if char in _INVISIBLE or unicodedata.category(char) in ("Cc", "Cs"):
            return char
    return None


def _check_name(place: str, value: str) -> None:
    if value.isascii() and value.isprintable():  # no control character; the others are not ASCII
        return
    char = _name_fault(value)
    if char is not None:
        raise ValueError(f"{place} holds {_shown(char)}: ids and names may not hold control, invisible or "
                         "bidi characters")


def _check_text(place: str, value: str) -> None:
    if "\x00" in value:
        raise ValueError(f"{place} holds a NUL character (\\u0000)")
    if value.isascii():
        return
    try:
        value.encode("utf-8")  # fails on a lone surrogate only
    except UnicodeEncodeError:
        pass
    else:
        return
    for char in value:
        if "\ud800" <= char <= "\udfff":
            raise ValueError(f"{place} holds a lone surrogate ({_shown(char)}), which is not a character")


def _check_value(place: str, value: Any, depth: int = 0) -> None:
    if isinstance(value, str):
        _check_text(place, value)
    elif isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise ValueError(f"{place} is nested deeper than {MAX_DEPTH} levels")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                _check_text(f"{place} key {key[:40]!r}", key)
            _check_value(f"{place}.{key}" if isinstance(key, str) else f"{place}[{key}]", item, depth + 1)


def _plain_text(value: str) -> bool:
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")  # fails on a lone surrogate only
    except UnicodeEncodeError:
        return False
    return True


def _plain(value: Any, depth: int = 0) -> bool:
    """True when `_check_value` finds nothing in `value`, without naming places (most values): the
    checks that name the place run only on the others."""
    kind = type(value)
    if kind is str:
        return _plain_text(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        return depth < MAX_DEPTH and all(type(key) is str and _plain_text(key) and _plain(item, depth + 1)
                                         for key, item in value.items())
    if kind is list:
        return depth < MAX_DEPTH and all(_plain(item, depth + 1) for item in value)
    return False


_SCALARS = frozenset({int, float, bool, type(None)})
_GOOD_NAMES: set[str] = set()  # field names that passed: names repeat from one object to the next
_GOOD_NAMES_KEPT = 10_000


def _check_fields(label: str, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name not in _GOOD_NAMES:
            _check_text(f"{label} name {name[:40]!r}", name)
            _check_name(f"{label} name {name[:40]!r}", name)
            if len(_GOOD_NAMES) < _GOOD_NAMES_KEPT and type(name) is str:
                _GOOD_NAMES.add(name)
        if not _plain(value):
            _check_value(f"{label} '{name}'", value)


def _check_at(at: datetime, now: datetime) -> None:
    if at < EARLIEST:
        raise ValueError(f"'at' {at.isoformat()} is before {EARLIEST.date().isoformat()}: not a time anything "
                         "happened to an account")
    # The later of the ingestion's `now` and the server's clock: live, they agree; a replay
    # (simulate, backtest) ingests at its own moment, which may be behind or ahead of the clock.
    clock = max(now, datetime.now(UTC)) if now.tzinfo is not None else now
    if at - clock > MAX_FUTURE:
        raise ValueError(f"'at' {at.isoformat()} is more than {MAX_FUTURE.total_seconds() / 3600:g} hour ahead of "
                         f"now ({clock.isoformat(timespec='seconds')}): check the sender's clock and time zone")


def check_change(change: NewChange, now: datetime) -> None:
    """Raise `ValueError` with the place and the reason when `change` holds what no store may keep."""
    for place, text in (("'account'", change.account), ("'id'", change.event_id), ("'event'", change.event)):
        if text is not None:
            _check_text(place, text)
            _check_name(place, text)
    _check_at(change.at, now)
    _check_fields("trait", change.traits)
    _check_fields(f"event {change.event} data", change.data)
    zone = change.traits.get("timezone")
    if isinstance(zone, str) and zone and not is_zone_name(zone):
        raise ValueError(f"trait 'timezone': {zone[:60]!r} is not an IANA time zone name (e.g. Europe/Berlin, UTC)")
