"""Ingestion: events and trait updates in (docs/events-and-actions.md, "Events in"), stored, ready to route.

Three stages, each usable alone:

- `parse_lines(text)` (`engine.intake.json_lines`): JSON lines, or one JSON object, or a JSON
  array, into `(line, object)` pairs; what is not JSON becomes a `Rejection` with its line number.
- `normalize(obj, model, now)`: the native form or a Segment call (`engine.intake.segment`) into an
  `InputItem`, checked against the account model, or the reason it is rejected.
- `Ingestor(store, model).ingest(text, now)`: both, then `Store.add_changes` for the good objects
  (idempotent on `id`; one transaction per `batch_size` of them). Bad objects are reported and
  skipped; the good ones of the same batch are stored; nothing stored before is touched.
  Routing the accepted changes is the caller's.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from dsl import ir
from engine.intake.collector import collector_paused
from engine.intake.input_checks import check_change
from engine.intake.json_lines import ParsedLine, as_object, parse_lines, parse_text
from engine.intake.segment import from_segment, is_segment_call
from engine.records import IngestResult, Rejection
from engine.semantics.time_rules import DEFAULT_HORIZON, is_history
from engine.semantics.values import coerce, parse_instant, quote_value
from engine.store import NewChange, Store
from engine.store.reserved import ENGAGEMENT_EVENTS, RESERVED_EVENTS

_BUILT_IN = ENGAGEMENT_EVENTS  # built-in events that are events like any other: no declaration needed

__all__ = ["MAX_NAME_LENGTH", "Ingestor", "InputItem", "ParsedLine", "normalize", "parse_lines", "parse_text"]

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
    if not values:
        return {}
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


@functools.lru_cache(maxsize=4096)
def _instant(text: str) -> datetime:
    """`parse_instant` for text, remembered: a timeline repeats its instants (datetimes are immutable)."""
    return parse_instant(text)


def _at(value: Any, now: datetime) -> datetime:
    try:
        if value is None:
            return now
        return _instant(value) if isinstance(value, str) else parse_instant(value)
    except ValueError as error:
        raise ValueError(f"'at': {error}") from None


_NO_DATA: dict[str, ir.FieldType] = {}


def _native_change(obj: dict[str, Any], model: ir.Model, now: datetime) -> NewChange:
    """The native object checked against `model`, as the store takes it; `ValueError` with the reason."""
    account = _name(obj, "account", required=True)
    assert account is not None
    event_id = _name(obj, "id", required=False)
    event = _name(obj, "event", required=False)
    at = _at(obj.get("at"), now)
    data, traits = _object(obj, "data"), _object(obj, "traits")
    if event is None and not traits:
        raise ValueError("nothing to store: the object has neither an 'event' nor 'traits'")
    if event is None and data:
        raise ValueError("'data' belongs to an event, and the object has no 'event'")
    if event is not None:
        declared = model.events.get(event) or _BUILT_IN.get(event)
        if event in RESERVED_EVENTS:
            _check_reserved(event, data)
        elif event in _BUILT_IN and not isinstance(data.get("template"), str):
            raise ValueError(f"{event} needs data.template (the email's template)")
        elif declared is None:
            raise ValueError(_unknown_event(event, model))
        data = _checked(data, _NO_DATA if declared is None else declared.payload, f"event {event} data")
    traits = _checked(traits, model.fields, "trait")
    flagged = obj.get("backfill", False)
    if not isinstance(flagged, bool):
        raise ValueError(f"'backfill' must be true or false, got {quote_value(flagged)}")
    source = "backfill" if flagged else "ingest"
    return NewChange(account=account, at=at, event=event, data=data, traits=traits, event_id=event_id,
                     source=source)


def _change(obj: dict[str, Any], model: ir.Model, now: datetime) -> NewChange | str:
    if is_segment_call(obj):
        native = from_segment(obj)
        if isinstance(native, str):
            return native
        obj = native
    try:
        change = _native_change(obj, model, now)
        check_change(change, now)  # what no store may keep (engine/intake/input_checks.py)
    except ValueError as error:
        return str(error)
    return change


def normalize(obj: dict[str, Any], model: ir.Model, now: datetime) -> InputItem | str:
    """The object checked against `model`, or the reason it is rejected.

    `now` is the time of an object without `at`. Undeclared traits and data keys are kept as
    sent; declared ones are checked and normalised (`engine.semantics.values.coerce`).
    """
    change = _change(obj, model, now)
    if isinstance(change, str):
        return change
    return InputItem(id=change.event_id, account=change.account, at=change.at, event=change.event,
                     data=change.data, traits=change.traits)


# --------------------------------------------------------------------------- storing


class Ingestor:
    """Parses, checks and stores batches of input for one account model."""

    def __init__(self, store: Store, model: ir.Model, *, batch_size: int = 200) -> None:
        self.store = store
        self.model = model
        self.batch_size = batch_size

    def ingest(self, source: str | Iterable[str], now: datetime, *, horizon: timedelta = DEFAULT_HORIZON,
               backfill: bool = False) -> IngestResult:
        return self.ingest_parsed(parse_lines(source), now, horizon=horizon, backfill=backfill)

    def ingest_objects(self, objects: Iterable[dict[str, Any]], now: datetime, *,
                       horizon: timedelta = DEFAULT_HORIZON, backfill: bool = False) -> IngestResult:
        """Objects from the Python API or an HTTP body; object N is reported as line N."""
        parsed: list[ParsedLine] = [as_object(number, obj) for number, obj in enumerate(objects, start=1)]
        return self.ingest_parsed(parsed, now, horizon=horizon, backfill=backfill)

    def ingest_parsed(self, parsed: Iterable[ParsedLine], now: datetime, *, horizon: timedelta = DEFAULT_HORIZON,
                      backfill: bool = False) -> IngestResult:
        """Store the good objects as arriving at `now`. An object is history (back-fill: it updates
        fields and scores but triggers nothing) when sent with `"backfill": true`, when `backfill`
        is given for the whole batch, or when its `at` is older than `horizon` at `now`."""
        with collector_paused():
            return self._ingest(parsed, now, horizon, backfill)

    def _ingest(self, parsed: Iterable[ParsedLine], now: datetime, horizon: timedelta,
                backfill: bool) -> IngestResult:
        result = IngestResult()
        batch: list[NewChange] = []
        for entry in parsed:
            if isinstance(entry, Rejection):
                result.rejected.append(entry)
                continue
            line, obj = entry
            change = _change(obj, self.model, now)
            if isinstance(change, str):
                result.rejected.append(Rejection(line=line, reason=change))
                continue
            if change.source != "backfill" and (backfill or is_history(change.at, now, horizon)):
                change = change.model_copy(update={"source": "backfill"})
            batch.append(change)
            if len(batch) >= self.batch_size:
                self._store(batch, result, now)
        self._store(batch, result, now)
        return result

    def _store(self, batch: list[NewChange], result: IngestResult, now: datetime) -> None:
        """One transaction per batch: a batch is stored whole or not at all."""
        if not batch:
            return
        for change in self.store.add_changes(batch, now):
            if change is None:
                result.duplicates += 1
            else:
                result.accepted.append(change)
                if change.is_history:
                    result.backfill += 1
        batch.clear()
