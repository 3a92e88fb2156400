"""The input checks take shortcuts for what repeats (field names seen before, plain values): the
shortcuts refuse exactly what the full checks refuse, with the same place and reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from dsl import ir
from engine.intake.ingestion import normalize

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _reason(model: ir.Model, traits: dict[str, Any]) -> str | None:
    found = normalize({"account": "acme", "at": "2026-02-01T00:00:00Z", "traits": traits}, model, NOW)
    return found if isinstance(found, str) else None


def _nested(levels: int) -> Any:
    return json.loads("[" * levels + "]" * levels)


def test_values_nested_to_the_limit_pass_and_one_level_more_is_refused(bundle: ir.Bundle) -> None:
    assert _reason(bundle.model, {"deep": _nested(32)}) is None
    assert _reason(bundle.model, {"deep": _nested(33)}) == f"trait 'deep'{'[0]' * 32} is nested deeper than 32 levels"


@pytest.mark.parametrize(("value", "reason"), [
    ({"ok": 1, "k\ud800": 2}, "holds a lone surrogate (U+D800)"),
    ({"a": [1, 2.5, True, None, "caf\u00e9", "x\u0000"]}, "trait 'plan'.a[5] holds a NUL character"),
    (["\udfff"], "trait 'plan'[0] holds a lone surrogate"),
])
def test_a_bad_string_deep_in_a_value_is_refused_after_plain_ones_passed(bundle: ir.Bundle, value: Any,
                                                                         reason: str) -> None:
    assert _reason(bundle.model, {"plan": {"ok": "caf\u00e9", "n": [1, {"m": "\u540d\u524d"}]}}) is None
    refused = _reason(bundle.model, {"plan": value})
    assert refused is not None and reason in refused


def test_a_field_name_refused_is_refused_every_time_whatever_was_accepted_before(bundle: ir.Bundle) -> None:
    assert _reason(bundle.model, {"caf\u00e9": 1}) is None
    assert _reason(bundle.model, {"caf\u00e9": 2}) is None
    for _ in range(2):
        refused = _reason(bundle.model, {"caf\u00e9\u200b": 1})
        assert refused is not None and "U+200B ZERO WIDTH SPACE" in refused
        assert "ids and names may not hold control, invisible or bidi characters" in refused


def test_ids_with_letters_beyond_ascii_pass_and_with_a_bidi_control_do_not(bundle: ir.Bundle) -> None:
    accepted = normalize({"id": "\u00e9v\u00e9nement-1", "account": "soci\u00e9t\u00e9", "event": "login"},
                         bundle.model, NOW)
    assert not isinstance(accepted, str)
    refused = normalize({"id": "e-1", "account": "soci\u00e9t\u00e9\u202e", "event": "login"}, bundle.model, NOW)
    assert isinstance(refused, str) and refused.startswith("'account' holds U+202E RIGHT-TO-LEFT OVERRIDE")
