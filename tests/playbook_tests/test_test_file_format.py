"""The words of a test file mean what docs/testing.md says: windows, counts, shorthands, lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulation.playbook_tests.counts import parse_count
from simulation.playbook_tests.moments import parse_window
from simulation.playbook_tests.test_file import TestFileError, read

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def test_on_day_n_is_the_24_hours_from_start_plus_n_days() -> None:
    window = parse_window("on", "day 3", START)
    assert window.holds(_at(8, 9)) and window.holds(_at(9, 8, 59))
    assert not window.holds(_at(9, 9)) and not window.holds(_at(8, 8, 59))


def test_at_with_a_tolerance_holds_either_side_and_no_further() -> None:
    window = parse_window("at", "2026-01-05T09:00Z ± 1h", START)
    assert window.holds(_at(5, 8)) and window.holds(_at(5, 10))
    assert not window.holds(_at(5, 10, 1))
    assert parse_window("at", "day 2 +- 30m", START).holds(_at(7, 9, 30))
    assert not parse_window("at", "day 2", START).holds(_at(7, 9, 1))


def test_between_includes_the_whole_last_day() -> None:
    window = parse_window("between", "day 7 and day 13", START)
    assert window.holds(_at(12, 9)) and window.holds(_at(19, 8, 59)) and not window.holds(_at(19, 9))
    assert parse_window("between", "2026-01-06 and 2026-01-07", START).holds(_at(7, 23, 59))


def test_counts_read_as_written() -> None:
    assert parse_count(None).holds(1) and not parse_count(None).holds(0)
    assert parse_count("none").holds(0) and not parse_count("none").holds(1)
    assert parse_count("exactly 2").holds(2) and not parse_count(2).holds(3)
    assert parse_count("at least 2").holds(5) and not parse_count("at most 1").holds(2)
    with pytest.raises(ValueError, match="expected `exactly N`"):
        parse_count("some")


def test_on_is_a_key_not_a_boolean_and_shorthands_name_the_kind(tmp_path: Path) -> None:
    path = tmp_path / "a.test.yaml"
    path.write_text("""tests:
  - name: welcome
    events:
      - {account: a, at: 2026-01-05T09:00:00Z, event: signed}
      - {account: a, at: day 2, event: login}
    expect:
      - email: welcome
        on: day 0
      - task: Rescue
        count: none
""", encoding="utf-8")
    [case] = read(path).cases
    assert case.start == START and case.events[1].obj["at"] == "2026-01-07T09:00:00+00:00"
    first, second = case.expectations
    assert first.fields == {"kind": "email", "template": "welcome"} and first.window is not None
    assert first.place.line == 7 and second.fields == {"kind": "task", "title": "Rescue"}
    assert second.count.text == "none"


def test_a_test_without_expectations_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "a.test.yaml"
    path.write_text("tests:\n  - name: x\n    events:\n      - {account: a, at: 2026-01-05T09:00:00Z}\n",
                    encoding="utf-8")
    with pytest.raises(TestFileError, match="needs an `expect:` list") as raised:
        read(path)
    assert raised.value.place.line == 2
