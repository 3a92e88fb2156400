"""The owners of an account (`csm`, `csm.manager`, `ae`: fields of type owner), as addresses."""

from __future__ import annotations

from typing import Any

__all__ = ["owner_address"]


def owner_address(fields: dict[str, Any], path: list[str] | tuple[str, ...]) -> str | None:
    """The email address of the owner at `path` in the account's fields; None without one."""
    value: Any = fields
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict) and isinstance(value.get("email"), str) and value["email"]:
        return str(value["email"])
    return None
