"""`playbook ingest --shift-to-now`: a file's events moved in time so that its last one is now.

An example or a recorded timeline is dated when it was written; sent as it is, everything in it
older than the trigger horizon is history and triggers nothing. Shifted, the file happens "just
now": every `at` (and `received_at`) moves by the same amount, so the gaps between events, and
so the engine's decisions, stay as written. Lines without `at` happen on arrival anyway; lines
whose `at` is not a time are left as they are for the engine to reject.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.intake.json_lines import ParsedLine
from engine.records import Rejection
from engine.semantics.values import parse_instant

__all__ = ["shift_to_now"]

_MOMENTS = ("at", "received_at")


def _moment(obj: dict[str, Any], key: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        return None


def shift_to_now(entries: list[ParsedLine], now: datetime) -> tuple[list[ParsedLine], timedelta]:
    """The entries with every moment moved so the latest `at` is `now`, and by how much."""
    latest = max((at for entry in entries if not isinstance(entry, Rejection)
                  if (at := _moment(entry[1], "at")) is not None), default=None)
    if latest is None:
        return entries, timedelta(0)
    delta = now.replace(microsecond=0) - latest
    shifted: list[ParsedLine] = []
    for entry in entries:
        if isinstance(entry, Rejection):
            shifted.append(entry)
            continue
        number, obj = entry
        moved = dict(obj)
        for key in _MOMENTS:
            moment = _moment(obj, key)
            if moment is not None:
                moved[key] = (moment + delta).isoformat()
        shifted.append((number, moved))
    return shifted, delta
