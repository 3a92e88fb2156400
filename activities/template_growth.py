"""What a filter or a string method would grow text to, checked before it runs.

The sandbox (`activities/template_sandbox.py`) calls these with the value and the arguments of
each filter and method call: an estimate of the text it would make, refused past the size cap
before anything is allocated. Filters and methods not named here make at most a few times their
input, which the sandbox checks after the call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from jinja2.exceptions import SecurityError
from markupsafe import soft_str

from dsl.template_bounds import MAX_RENDERED_CHARS

__all__ = ["GROWING_METHODS", "check_arguments", "check_format_string", "check_growth"]

_FORMAT_NUMBER = re.compile(r"\d{7,}")  # a width or precision of a million or more, in a format string
GROWING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "translate",
                             "format", "format_map"})


def _check_estimate(size: int, what: str) -> None:
    if size > MAX_RENDERED_CHARS:
        raise SecurityError(f"{what} would make text of about {size:,} characters, over the size cap of "
                            f"{MAX_RENDERED_CHARS:,}")


def check_format_string(text: Any, what: str) -> None:
    if isinstance(text, str) and _FORMAT_NUMBER.search(text):
        raise SecurityError(f"{what}: a width or precision over a million characters is over the size cap")


def check_arguments(what: str, args: Iterable[Any]) -> int:
    """Refuse an integer argument past the size cap; the steps the sized arguments cost."""
    steps = 0
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_RENDERED_CHARS:
            raise SecurityError(f"{what}: the argument {arg:,} is over the size cap of {MAX_RENDERED_CHARS:,}")
        if isinstance(arg, list | tuple | dict | set | frozenset | range):
            steps += len(arg)
    return steps


def _replaced_size(text: str, old: str, new: str) -> int:
    if not old:
        return len(text) + (len(text) + 1) * len(new)
    return len(text) + text.count(old) * max(0, len(new) - len(old))


def _lines(text: Any) -> int:
    return soft_str(text).count("\n") + 1


def check_growth(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse before it runs what the filter or method `name` would grow past the size cap."""
    if name == "join" and isinstance(value, str):  # the method: value is the separator
        items = args[0] if args else ()
        if isinstance(items, list | tuple | range | dict | set | frozenset | str):
            _check_estimate(len(items) * len(value), "join")
    elif name == "join" and isinstance(value, list | tuple | range):  # the filter: value is the items
        separator = args[0] if args else kwargs.get("d", "")
        _check_estimate(len(value) * len(soft_str(separator)), "join")
        _check_estimate(sum(len(soft_str(item)) for item in value), "join")
    elif name == "replace" and isinstance(value, str) and len(args) >= 2:
        _check_estimate(_replaced_size(value, soft_str(args[0]), soft_str(args[1])), "replace")
    elif name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        size = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        _check_estimate(len(soft_str(value)) + _lines(value) * size, "indent")
    elif name == "wordwrap" and isinstance(value, str):
        wrap = kwargs.get("wrapstring") or (args[2] if len(args) > 2 else "\n")
        _check_estimate(len(value) * (1 + len(soft_str(wrap))), "wordwrap")
    elif name == "expandtabs" and isinstance(value, str):
        size = args[0] if args and isinstance(args[0], int) else 8
        _check_estimate(len(value) + value.count("\t") * size, "expandtabs")
    elif name == "translate" and isinstance(value, str) and args and isinstance(args[0], dict):
        longest = max((len(soft_str(item)) for item in args[0].values() if isinstance(item, str)), default=1)
        _check_estimate(len(value) * max(longest, 1), "translate")
    elif name in ("format", "format_map"):
        check_format_string(value, name)
