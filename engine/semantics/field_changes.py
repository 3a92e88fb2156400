"""The rule of a field-change trigger (`csm changes`, `exec_sponsor changes from true to false`).

A stored change fires `FIELD changes [from A] [to B]` when it changed FIELD from a known value
to another known value: the previous value was set (an account first seen, or a field first
set, has none) and the new one is not removed; `from A` asks the previous value to be A and
`to B` the new one to be B. Values are compared as the engine keeps them (`engine.semantics.values`):
`true` is no number, and `10` equals `10.0`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsl import ir

__all__ = ["change_fires", "equals_literal"]


def equals_literal(value: Any, literal: ir.Literal_) -> bool:
    """Whether a kept field value is the literal a trigger names."""
    want = literal.value
    if isinstance(want, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(want, bool) and value == want
    if isinstance(want, int | float):
        return isinstance(value, int | float) and float(value) == float(want)
    return isinstance(value, str) and value == want


def change_fires(trigger: ir.ChangeTrigger, traits: Mapping[str, Any], previous: Mapping[str, Any]) -> bool:
    """Whether a change with these new values (`traits`: only the fields that changed) and their
    old values (`previous`: absent when the field was not set) fires the trigger."""
    if trigger.field not in traits or trigger.field not in previous:
        return False
    before, after = previous[trigger.field], traits[trigger.field]
    if before is None or after is None:
        return False
    if trigger.before is not None and not equals_literal(before, trigger.before):
        return False
    return trigger.after is None or equals_literal(after, trigger.after)
