"""A test file (`*.test.yaml`) read into test cases, or a `TestFileError` naming `file:line`.

```yaml
tests:
  - name: welcome email to the primary contact on day 0
    start: 2026-01-05T09:00Z            # optional: default, the first event's time
    days: 31                            # optional: how long to run (default: 30, or longer if needed)
    timeline: ../../examples/onboarding.jsonl   # and/or `events:`, a list of events
    expect:
      - email: welcome                  # = kind: email, template: welcome
        to: ana@techcorp.example
        on: day 0
      - task: Onboarding rescue         # = kind: task, title containing it
        count: none
```

Events are those `playbook simulate` reads (account, at, event, data, traits, …); an inline
event's `at` may also be `day N`. Expectations: docs/testing.md.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from simulation.playbook_tests.counts import Count, parse_count
from simulation.playbook_tests.located_yaml import LocatedMap, YamlError, load
from simulation.playbook_tests.moments import Window, parse_moment, parse_window

__all__ = ["ACTION_FIELDS", "Event", "Expectation", "Place", "TestCase", "TestFile", "TestFileError", "read"]

DEFAULT_DAYS = 30
# The keys of actions (docs/events-and-actions.md, "Actions out") an expectation may name.
ACTION_FIELDS = frozenset({
    "kind", "account", "playbook", "reason", "version", "template", "to", "subject", "title", "task",
    "owner", "due", "priority", "score", "value", "band", "field", "activity", "params", "channel",
    "step", "error", "what", "detail", "outcome", "block", "path", "until",
})
# `email: welcome` is `kind: email` with `template: welcome`; `task: Outreach` a task titled so.
SHORTHANDS = {"email": "template", "in_app": "template", "task": "title"}
WHEN_KEYS = ("at", "on", "between")
CASE_KEYS = ("name", "start", "days", "timeline", "events", "expect")


@dataclass(frozen=True)
class Place:
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class TestFileError(Exception):
    """A test file that cannot be run: what is wrong, and where."""

    __test__ = False  # not a pytest test class

    def __init__(self, place: Place, message: str) -> None:
        super().__init__(f"{place}: {message}")
        self.place, self.message = place, message


@dataclass(frozen=True)
class Event:
    place: Place  # the line that wrote it: in the test file, or in its `.jsonl` timeline
    obj: dict[str, Any]


@dataclass(frozen=True)
class Expectation:
    place: Place
    fields: dict[str, Any]  # action keys and the values they must have
    window: Window | None
    count: Count
    text: str  # the expectation in one line, as written


@dataclass
class TestCase:
    __test__ = False  # not a pytest test class

    name: str
    place: Place
    start: datetime
    end: datetime
    events: list[Event] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)


@dataclass
class TestFile:
    __test__ = False  # not a pytest test class

    path: Path
    cases: list[TestCase]


def _suggest(word: str, known: list[str] | frozenset[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _map(value: Any, place: Place, what: str) -> LocatedMap:
    if not isinstance(value, LocatedMap):
        raise TestFileError(place, f"{what}: expected `key: value` lines, got {json.dumps(value, default=str)}")
    return value


def _list(value: Any, place: Place, what: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise TestFileError(place, f"`{what}`: expected a list of one or more items (lines starting with `- `)")
    return value


def read(path: Path) -> TestFile:
    """Read and check a test file; raises `TestFileError` at the first mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TestFileError(Place(path, 1), f"cannot read it: {error}") from None
    try:
        document = load(text)
    except YamlError as error:
        raise TestFileError(Place(path, error.line), f"not valid YAML: {error}") from None
    top = _map(document, Place(path, 1), "the file")
    for key in top:
        if key != "tests":
            raise TestFileError(Place(path, top.line_of(key)), f"unknown key '{key}': a test file holds `tests:`")
    if "tests" not in top:
        raise TestFileError(Place(path, 1), "no `tests:` list")
    cases = [_case(path, raw) for raw in _list(top["tests"], Place(path, top.line_of("tests")), "tests")]
    seen: dict[str, TestCase] = {}
    for case in cases:
        if case.name in seen:
            raise TestFileError(case.place, f"a second test named {case.name!r} (the first is at line "
                                            f"{seen[case.name].place.line})")
        seen[case.name] = case
    return TestFile(path=path, cases=cases)


def _case(path: Path, raw: Any) -> TestCase:
    body = _map(raw, Place(path, getattr(raw, "line", 1)), "a test")
    here = Place(path, body.line)
    for key in body:
        if key not in CASE_KEYS:
            raise TestFileError(Place(path, body.line_of(key)),
                                f"unknown key '{key}' in a test{_suggest(key, CASE_KEYS)}")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TestFileError(here, "a test needs a `name:`")
    if "timeline" not in body and "events" not in body:
        raise TestFileError(here, f"test {name!r} needs a `timeline:` (a .jsonl file) or `events:`")
    if "expect" not in body:
        raise TestFileError(here, f"test {name!r} needs an `expect:` list")
    events: list[tuple[Event, bool]] = []  # with whether its `at` was written relative (`day N`)
    if "timeline" in body:
        events += _timeline(path, body["timeline"], Place(path, body.line_of("timeline")))
    if "events" in body:
        for item in _list(body["events"], Place(path, body.line_of("events")), "events"):
            event = _map(item, Place(path, body.line_of("events")), "an event")
            events.append((Event(Place(path, event.line), dict(event)), "at" in event and _relative(event["at"])))
    start = _start(body, events, here)
    resolved = [_resolved(event, start) for event, _ in events]
    expectations = [_expectation(path, item, start) for item in
                    _list(body["expect"], Place(path, body.line_of("expect")), "expect")]
    return TestCase(name=name.strip(), place=here, start=start, end=_end(body, here, start, resolved, expectations),
                    events=resolved, expectations=expectations)


def _relative(value: Any) -> bool:
    try:
        return parse_moment(value).day is not None
    except ValueError:
        return False


def _timeline(path: Path, raw: Any, place: Place) -> list[tuple[Event, bool]]:
    file = path.parent / str(raw)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise TestFileError(place, f"timeline: cannot read {file}: {getattr(error, 'strerror', None) or error}") \
            from None
    events = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise TestFileError(Place(file, number), f"not a JSON object: {error.msg}") from None
        if not isinstance(obj, dict):
            raise TestFileError(Place(file, number), "not a JSON object")
        events.append((Event(Place(file, number), obj), False))
    return events


def _start(body: LocatedMap, events: list[tuple[Event, bool]], here: Place) -> datetime:
    place = Place(here.path, body.line_of("start"))
    if "start" in body:
        try:
            moment = parse_moment(body["start"])
        except ValueError as error:
            raise TestFileError(place, f"start: {error}") from None
        if moment.instant is None:
            raise TestFileError(place, "start: expected a date and time such as 2026-01-05T09:00Z")
        return moment.instant
    dated = []
    for event, relative in events:
        if "at" in event.obj and not relative:
            try:
                dated.append(parse_moment(event.obj["at"]).resolve(datetime.min))
            except ValueError as error:
                raise TestFileError(event.place, f"at: {error}") from None
    if not dated:
        raise TestFileError(here, "no event has a date: give the test a `start:` (e.g. start: 2026-01-05T09:00Z)")
    return min(dated)


def _resolved(event: Event, start: datetime) -> Event:
    """The event with an absolute `at` (a `day N` resolved; none: the start)."""
    obj = dict(event.obj)
    try:
        at = parse_moment(obj["at"]).resolve(start) if "at" in obj else start
    except ValueError as error:
        raise TestFileError(event.place, f"at: {error}") from None
    obj["at"] = at.isoformat()
    return Event(event.place, obj)


def _end(body: LocatedMap, here: Place, start: datetime, events: list[Event],
         expectations: list[Expectation]) -> datetime:
    if "days" in body:
        days = body["days"]
        if isinstance(days, bool) or not isinstance(days, int | float) or days <= 0:
            raise TestFileError(Place(here.path, body.line_of("days")), "days: expected a positive number")
        return start + timedelta(days=float(days))
    latest = [datetime.fromisoformat(event.obj["at"]) + timedelta(days=1) for event in events]
    latest += [e.window.last for e in expectations if e.window is not None]
    return max([start + timedelta(days=DEFAULT_DAYS), *latest])


def _expectation(path: Path, raw: Any, start: datetime) -> Expectation:
    body = _map(raw, Place(path, getattr(raw, "line", 1)), "an expectation")
    here = Place(path, body.line)
    fields: dict[str, Any] = {}
    window: Window | None = None
    count = parse_count(None)
    for key, value in body.items():
        place = Place(path, body.line_of(key))
        if key in SHORTHANDS:
            if "kind" in body or any(other in body for other in SHORTHANDS if other != key):
                raise TestFileError(place, f"`{key}:` already says the kind: write it without `kind:`")
            fields["kind"], fields[SHORTHANDS[key]] = key, value
        elif key in WHEN_KEYS:
            if window is not None:
                raise TestFileError(place, "one of `at:`, `on:` or `between:` per expectation")
            try:
                window = parse_window(key, value, start)
            except ValueError as error:
                raise TestFileError(place, f"{key}: {error}") from None
        elif key == "count":
            try:
                count = parse_count(value)
            except ValueError as error:
                raise TestFileError(place, f"count: {error}") from None
        elif key in ACTION_FIELDS:
            fields[key] = value
        else:
            known = [*ACTION_FIELDS, *SHORTHANDS, *WHEN_KEYS, "count"]
            raise TestFileError(place, f"unknown key '{key}' in an expectation{_suggest(key, known)}")
    if not fields:
        raise TestFileError(here, "an expectation needs at least one thing to match, such as `email: welcome` "
                                  "or `kind: task`")
    words = [f"{key}: {value}" for key, value in body.items() if key not in (*WHEN_KEYS, "count")]
    if window is not None:
        words.append(window.text)
    return Expectation(place=here, fields=fields, window=window, count=count, text=", ".join(words))
