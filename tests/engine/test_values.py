"""Field values are checked against their declared type, with reasons a person can act on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsl.ir import FieldType
from engine.semantics.values import coerce, parse_instant


def kind(name: str, *values: str) -> FieldType:
    return FieldType.model_validate({"type": name, "values": values})


@pytest.mark.parametrize(
    ("value", "ftype", "expected"),
    [
        ("TechCorp", kind("text"), "TechCorp"),
        (18000, kind("money"), 18000),
        (4.2, kind("number"), 4.2),
        (65, kind("percent"), 65),
        (0, kind("percent"), 0),
        (100.0, kind("percent"), 100.0),
        (True, kind("boolean"), True),
        ("2026-04-15", kind("date"), "2026-04-15"),
        ("2026-01-05T10:00:00+01:00", kind("datetime"), "2026-01-05T09:00:00+00:00"),
        ("2026-01-05T09:00:00Z", kind("datetime"), "2026-01-05T09:00:00+00:00"),
        ("48h", kind("duration"), 172800),
        ("2 days", kind("duration"), 172800),
        (3600, kind("duration"), 3600),
        ("smb", kind("enum", "smb", "trial"), "smb"),
        (
            {"email": "ana@t.example", "name": "Ana"},
            kind("contact"),
            {"email": "ana@t.example", "name": "Ana"},
        ),
        (
            {"email": "sam@v.example", "manager": {"email": "lee@v.example"}},
            kind("owner"),
            {"email": "sam@v.example", "manager": {"email": "lee@v.example"}},
        ),
        (None, kind("percent"), None),
        (None, kind("owner"), None),
    ],
)
def test_a_good_value_is_kept_in_its_canonical_form(value: Any, ftype: FieldType, expected: Any) -> None:
    assert coerce(value, ftype) == expected


@pytest.mark.parametrize(
    ("value", "ftype", "reason"),
    [
        (42, kind("text"), "expected text, got 42"),
        ("abc", kind("number"), "expected a number, got 'abc'"),
        (True, kind("money"), "expected a number, got true"),
        ("abc", kind("percent"), "expected a percentage from 0 to 100, got 'abc'"),
        (140, kind("percent"), "expected a percentage from 0 to 100, got 140"),
        (-1, kind("percent"), "expected a percentage from 0 to 100, got -1"),
        ("yes", kind("boolean"), "expected true or false, got 'yes'"),
        ("15/04/2026", kind("date"), "expected a date such as 2026-04-15, got '15/04/2026'"),
        ("2026-02-30", kind("date"), "'2026-02-30' is not a date in the calendar"),
        ("2026-01-05T09:00:00", kind("datetime"), "needs a time zone offset, such as Z or +02:00"),
        ("soon", kind("datetime"), "expected a date and time such as 2026-04-15T09:00:00Z, got 'soon'"),
        ("a while", kind("duration"), "expected a duration such as 48h or 2 days, got 'a while'"),
        ({"name": "Sam"}, kind("owner"), "owner needs an 'email'"),
        ("sam@v.example", kind("owner"), "an owner is an object with an 'email', got 'sam@v.example'"),
        ({"email": "not an address"}, kind("contact"), "contact 'email' must be an address such as"),
        (
            {"email": "sam@v.example", "manager": {"name": "Lee"}},
            kind("owner"),
            "manager: owner needs an 'email'",
        ),
        ("big", kind("enum", "smb", "trial"), "expected one of smb, trial, got 'big'"),
        (float("nan"), kind("number"), "expected a finite number"),
    ],
)
def test_a_bad_value_is_refused_with_a_reason(value: Any, ftype: FieldType, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        coerce(value, ftype)
    assert reason in str(caught.value)


def test_an_instant_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        parse_instant("2026-01-05 09:00")


@given(st.floats(min_value=0, max_value=100))
def test_every_percentage_from_0_to_100_is_accepted(value: float) -> None:
    assert coerce(value, kind("percent")) == value


@given(st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=100.000001)))
def test_no_number_outside_0_to_100_is_a_percentage(value: float) -> None:
    with pytest.raises(ValueError, match="percentage"):
        coerce(value, kind("percent"))
