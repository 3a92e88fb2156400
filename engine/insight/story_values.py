"""How `why` shows moments and the values a decision or a trigger read.

A moment is shown in UTC with the account's own time beside it; a value as the model types it
(`missing`, `true`, `"text"`, `40%`, a contact by its address).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dsl import ir
from engine.semantics import calendar

__all__ = ["read_values", "shown_time", "shown_value"]


def shown_time(at: datetime, tz: str | None = None) -> str:
    """`2026-03-03 13:00 UTC`, with the account's own time beside it when its zone is not UTC."""
    utc = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if tz in (None, "UTC"):
        return utc
    local = calendar.local_time(at, tz)
    return f"{utc} ({local.strftime('%Y-%m-%d %H:%M')} {tz})"


def shown_value(value: Any, field: ir.FieldType | None) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if field is not None and field.type == "percent" and isinstance(value, int | float):
        return f"{value}%"
    if isinstance(value, dict) and "email" in value:
        return str(value["email"])
    return str(value)


def read_values(reads: dict[str, Any], model: ir.Model) -> str:
    """`name = value, …` of the values read, each shown as its field's type says."""
    return ", ".join(f"{name} = {shown_value(value, model.fields.get(name))}" for name, value in reads.items())
