"""JSON lines, one JSON object or a JSON array of objects, read into `(line, object)` pairs
(docs/events-and-actions.md, "Events in"); what is not a JSON object becomes a `Rejection` with
its line number.

Apart from the checks and the store (`engine.intake.ingestion`) so that a client that only reads
and sends events (`playbook ingest`) does not load the store to do it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson

from engine.records import Rejection

__all__ = ["ParsedLine", "as_object", "parse_lines", "parse_text"]

ParsedLine = tuple[int, dict[str, Any]] | Rejection


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_no_constants)  # built once: `json.loads` with options builds one a call


_DIGITS_AS_ZERO = str.maketrans("123456789", "000000000")
_LONG_NUMBER = "0" * 19  # 19 digits in a row: an integer orjson may read as a float (over 64 bits)


def _load(text: str) -> Any:
    """The JSON value of `text`: orjson (several times faster) where it reads exactly as the
    standard library, the standard library for the rest, so results and errors are the standard
    library's. orjson refuses what the standard library reads differently (NaN, lone surrogates)
    and reads an integer of 19 digits or more as a float: such text goes to the standard library."""
    if _LONG_NUMBER not in text.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    if text.startswith("\ufeff"):  # as `json.loads` says it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("nested too deep") from None


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(
        type(value), "a number"
    )


def as_object(line: int, value: Any) -> ParsedLine:
    if isinstance(value, dict):
        return (line, value)
    return Rejection(line=line, reason=f"expected a JSON object, got {_kind(value)}")


def _array_items(text: str) -> list[ParsedLine]:
    """The elements of a JSON array body, each with the line it starts on."""
    decoder = _DECODER
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
        items.append(as_object(line, value))


def _whole_body(text: str) -> list[ParsedLine] | None:
    """A body that is one JSON object or one JSON array; None when it is something else."""
    start = len(text) - len(text.lstrip())
    if text[start:start + 1] not in ("{", "["):
        return None
    try:  # the first value only: JSON lines end there, and a whole body is read once
        value, end = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):  # nested too deep: each line is reported on its own
        return None
    if text[end:].strip(" \t\r\n"):
        return None
    if isinstance(value, list):
        return _array_items(text)
    return [as_object(text.count("\n", 0, start) + 1, value)]


def parse_lines(source: str | Iterable[str]) -> list[ParsedLine]:
    """JSON objects with their line numbers, and a `Rejection` for each line that is not one.

    A string may be JSON lines (blank lines skipped), one JSON object (which may span lines) or
    a JSON array of objects; an iterable of strings (an open file) is read as JSON lines.
    """
    if isinstance(source, str):
        return parse_text(source)[0]
    return _json_lines(source)


def parse_text(text: str) -> tuple[list[ParsedLine], list[str] | None]:
    """`parse_lines` of a string, with the lines it was read as when it was JSON lines (None when
    it was one JSON object or array): line N of the result is `lines[N - 1]`."""
    text = text.removeprefix("\ufeff")
    whole = _whole_body(text)
    if whole is not None:
        return whole, None
    lines = text.splitlines()
    return _json_lines(lines), lines


def _json_lines(lines: Iterable[str]) -> list[ParsedLine]:
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
            parsed.append(as_object(number, value))
    return parsed
