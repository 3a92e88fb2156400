"""Ingestion: events and trait updates in (contracts.md, "Events in"), stored, ready to route.

Three stages, each usable alone:

- `parse_lines(text)`: JSON lines, or one JSON object, or a JSON array, into `(line, object)`
  pairs; what is not JSON becomes a `Rejection` with its line number.
- `normalize(obj, model, now)`: the native form or a Segment call (`engine.segment`) into an
  `InputItem`, checked against the account model, or the reason it is rejected.
- `Ingestor(store, model).ingest(text, now)`: both, then `Store.add_changes` for the good objects
  (idempotent on `id`; one transaction per `batch_size` of them). Bad objects are reported and
  skipped; the good ones of the same batch are stored; nothing stored before is touched.
  Routing the accepted changes is the caller's.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from dsl import ir
from engine.records import IngestResult, Rejection
from engine.segment import from_segment, is_segment_call
from engine.store import NewChange, Store
from engine.store.reserved import RESERVED_EVENTS
from engine.values import coerce, parse_instant, quote_value

__all__ = ["MAX_NAME_LENGTH", "Ingestor", "InputItem", "ParsedLine", "normalize", "parse_lines"]

ParsedLine = tuple[int, dict[str, Any]] | Rejection
MAX_NAME_LENGTH = 200  # account ids, event ids and names, trait names: the store's column width


class InputItem(BaseModel):
    """One input object, normalised and checked: what `Store.add_change` receives."""

    model_config = ConfigDict(frozen=True)

    id: str | None = None
    account: str
    at: datetime
    event: str | None = None
    data: dict[str, Any] = {}
    traits: dict[str, Any] = {}


# --------------------------------------------------------------------------- parsing


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _load(text: str) -> Any:
    return json.loads(text, parse_constant=_no_constants)


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(
        type(value), "a number"
    )


def _as_object(line: int, value: Any) -> ParsedLine:
    if isinstance(value, dict):
        return (line, value)
    return Rejection(line=line, reason=f"expected a JSON object, got {_kind(value)}")


def _array_items(text: str) -> list[ParsedLine]:
    """The elements of a JSON array body, each with the line it starts on."""
    decoder = json.JSONDecoder(parse_constant=_no_constants)
    items: list[ParsedLine] = []
    position, line, counted = text.index("[") + 1, 1, 0
    while True:
        while text[position] in " \t\r\n,":
            position += 1
        if text[position] == "]":
            return items
        line += text.count("\n", counted, position)
        counted = position
        value, position = decoder.raw_decode(text, position)
        items.append(_as_object(line, value))


def _whole_body(text: str) -> list[ParsedLine] | None:
    """A body that is one JSON object or one JSON array; None when it is something else."""
    start = len(text) - len(text.lstrip())
    if text[start:start + 1] not in ("{", "["):
        return None
    try:
        value = _load(text)
    except ValueError:
        return None
    if isinstance(value, list):
        return _array_items(text)
    return [_as_object(text.count("\n", 0, start) + 1, value)]


def parse_lines(source: str | Iterable[str]) -> list[ParsedLine]:
    """JSON objects with their line numbers, and a `Rejection` for each line that is not one.

    A string may be JSON lines (blank lines skipped), one JSON object (which may span lines) or
    a JSON array of objects; an iterable of strings (an open file) is read as JSON lines.
    """
    if isinstance(source, str):
        source = source.removeprefix("\ufeff")
        whole = _whole_body(source)
        if whole is not None:
            return whole
        lines: Iterable[str] = source.splitlines()
    else:
        lines = source
    parsed: list[ParsedLine] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = _load(line.removeprefix("\ufeff") if number == 1 else line)
        except json.JSONDecodeError as error:
            parsed.append(Rejection(line=number, reason=f"not JSON: {error.msg} at column {error.colno}"))
        except ValueError as error:
            parsed.append(Rejection(line=number, reason=f"not JSON: {error}"))
        else:
            parsed.append(_as_object(number, value))
    return parsed


# --------------------------------------------------------------------------- checking


def _name(obj: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise ValueError(f"no {key}: every object needs an '{key}'")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' must be text, got {quote_value(value)}")
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"'{key}' is longer than {MAX_NAME_LENGTH} characters")
    return value


def _object(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"'{key}' must be an object, got {quote_value(value)}")
    return value


def _unknown_event(name: str, model: ir.Model) -> str:
    close = difflib.get_close_matches(name, list(model.events), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"undeclared event '{name}'{hint}: the model's events: section does not list it"


def _check_reserved(event: str, data: dict[str, Any]) -> None:
    if event == "task_completed":
        if not isinstance(data.get("task"), str) and not isinstance(data.get("playbook"), str):
            raise ValueError("task_completed needs data.task (a task id) or data.playbook (a playbook id)")
    elif not isinstance(data.get("email"), str) or "@" not in data["email"]:
        raise ValueError(f"{event} needs data.email (the address)")


def _checked(values: dict[str, Any], declared: dict[str, ir.FieldType], label: str) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if len(name) > MAX_NAME_LENGTH or not name:
            raise ValueError(f"{label} name {quote_value(name)} must be 1 to {MAX_NAME_LENGTH} characters")
        ftype = declared.get(name)
        try:
            checked[name] = value if ftype is None else coerce(value, ftype)
        except ValueError as error:
            raise ValueError(f"{label} '{name}': {error}") from None
    return checked


def _normalize_native(obj: dict[str, Any], model: ir.Model, now: datetime) -> InputItem:
    account = _name(obj, "account", required=True)
    assert account is not None
    event_id = _name(obj, "id", required=False)
    event = _name(obj, "event", required=False)
    try:
        at = now if obj.get("at") is None else parse_instant(obj["at"])
    except ValueError as error:
        raise ValueError(f"'at': {error}") from None
    data, traits = _object(obj, "data"), _object(obj, "traits")
    if event is None and not traits:
        raise ValueError("nothing to store: the object has neither an 'event' nor 'traits'")
    if event is None and data:
        raise ValueError("'data' belongs to an event, and the object has no 'event'")
    if event is not None:
        if event in RESERVED_EVENTS:
            _check_reserved(event, data)
        elif event not in model.events:
            raise ValueError(_unknown_event(event, model))
        payload = model.events[event].payload if event in model.events else {}
        data = _checked(data, payload, f"event {event} data")
    traits = _checked(traits, model.fields, "trait")
    return InputItem(id=event_id, account=account, at=at, event=event, data=data, traits=traits)


def normalize(obj: dict[str, Any], model: ir.Model, now: datetime) -> InputItem | str:
    """The object checked against `model`, or the reason it is rejected.

    `now` is the time of an object without `at`. Undeclared traits and data keys are kept as
    sent; declared ones are checked and normalised (`engine.values.coerce`).
    """
    if is_segment_call(obj):
        native = from_segment(obj)
        if isinstance(native, str):
            return native
        obj = native
    try:
        return _normalize_native(obj, model, now)
    except ValueError as error:
        return str(error)


# --------------------------------------------------------------------------- storing


class Ingestor:
    """Parses, checks and stores batches of input for one account model."""

    def __init__(self, store: Store, model: ir.Model, *, batch_size: int = 200) -> None:
        self.store = store
        self.model = model
        self.batch_size = batch_size

    def ingest(self, source: str | Iterable[str], now: datetime) -> IngestResult:
        return self.ingest_parsed(parse_lines(source), now)

    def ingest_objects(self, objects: Iterable[dict[str, Any]], now: datetime) -> IngestResult:
        """Objects from the Python API or an HTTP body; object N is reported as line N."""
        parsed: list[ParsedLine] = [_as_object(number, obj) for number, obj in enumerate(objects, start=1)]
        return self.ingest_parsed(parsed, now)

    def ingest_parsed(self, parsed: Iterable[ParsedLine], now: datetime) -> IngestResult:
        result = IngestResult()
        batch: list[NewChange] = []
        for entry in parsed:
            if isinstance(entry, Rejection):
                result.rejected.append(entry)
                continue
            line, obj = entry
            item = normalize(obj, self.model, now)
            if isinstance(item, str):
                result.rejected.append(Rejection(line=line, reason=item))
                continue
            batch.append(NewChange(account=item.account, at=item.at, event=item.event, data=item.data,
                                   traits=item.traits, event_id=item.id))
            if len(batch) >= self.batch_size:
                self._store(batch, result)
        self._store(batch, result)
        return result

    def _store(self, batch: list[NewChange], result: IngestResult) -> None:
        """One transaction per batch: a batch is stored whole or not at all."""
        if not batch:
            return
        for change in self.store.add_changes(batch):
            if change is None:
                result.duplicates += 1
            else:
                result.accepted.append(change)
        batch.clear()
