"""Segment (and RudderStack) calls, read as the engine's native input form.

A Segment webhook can point straight at the engine. Calls carry `"type"`:

- `track`: an event. `event` is its name, `properties` its data; the account is
  `context.groupId`, else `properties.groupId`, else `properties.account`.
- `group`: a trait update of the account `groupId`, with `traits`.
- `identify`: a trait update too, for the account named by `traits.groupId`,
  `traits.account` or `context.groupId` (those naming keys are not stored as traits). An
  identify call without an account is rejected: the engine keeps accounts, not users.

For all three: `timestamp` is the time (`at`) and `messageId` the idempotency id. Other call
types (`page`, `screen`, `alias`) are rejected with a reason.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SEGMENT_TYPES", "from_segment", "is_segment_call"]

SEGMENT_TYPES: frozenset[str] = frozenset({"track", "group", "identify", "page", "screen", "alias"})
_ACCOUNT_KEYS = ("groupId", "account")


def is_segment_call(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("type"), str) and obj["type"] in SEGMENT_TYPES


def _object(obj: dict[str, Any], key: str) -> dict[str, Any] | str:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        return f"Segment '{key}' must be an object"
    return value


def _first(*candidates: Any) -> Any:
    for candidate in candidates:
        if candidate is not None and candidate != "":
            return candidate
    return None


def from_segment(obj: dict[str, Any]) -> dict[str, Any] | str:
    """The call in the native form (`id`, `account`, `at`, `event`, `data`, `traits`), or why not."""
    kind = obj["type"]
    context = _object(obj, "context")
    if isinstance(context, str):
        return context
    native: dict[str, Any] = {"id": obj.get("messageId"), "at": obj.get("timestamp")}
    if kind == "track":
        properties = _object(obj, "properties")
        if isinstance(properties, str):
            return properties
        native["account"] = _first(
            context.get("groupId"), properties.get("groupId"), properties.get("account")
        )
        if native["account"] is None:
            return "Segment track call has no account: set context.groupId (or properties.account)"
        if not obj.get("event"):
            return "Segment track call has no 'event'"
        native.update(event=obj["event"], data=properties)
        return native
    if kind == "group":
        traits = _object(obj, "traits")
        if isinstance(traits, str):
            return traits
        native["account"] = obj.get("groupId")
        if native["account"] in (None, ""):
            return "Segment group call has no 'groupId'"
        native["traits"] = traits
        return native
    if kind == "identify":
        traits = _object(obj, "traits")
        if isinstance(traits, str):
            return traits
        native["account"] = _first(traits.get("groupId"), traits.get("account"), context.get("groupId"))
        if native["account"] is None:
            return "Segment identify call has no account: set traits.groupId or context.groupId"
        native["traits"] = {name: value for name, value in traits.items() if name not in _ACCOUNT_KEYS}
        return native
    return f"Segment '{kind}' calls are not accepted: send track, group or identify"
