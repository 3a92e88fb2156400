""" "Did you mean": the nearest known name for a misspelt one, typos that swap letters included.

`dsl.diagnostics.suggest` finds names that look alike overall; short names with two letters
swapped (`cms` for `csm`, `rde` for `red`) fall below its threshold, so this adds one more
chance: a known name one edit away (a letter added, dropped, changed, or two neighbours
swapped), for names of three letters or more.
"""

from __future__ import annotations

from collections.abc import Iterable

from dsl.diagnostics import suggest

__all__ = ["nearest_name", "with_nearest"]


def nearest_name(name: str, known: Iterable[str]) -> str | None:
    candidates = [k for k in known if k != name]
    near = suggest(name, candidates)
    if near is not None or len(name) < 3:
        return near
    return next((k for k in candidates if _one_edit_apart(name, k)), None)


def with_nearest(message: str, name: str, known: Iterable[str]) -> tuple[str, str | None]:
    """`message (did you mean 'x'?)` and `x` when a near name `x` exists, else `message` and None.

    The name goes with the diagnostic as its suggestion, so that no one reads it back from the text.
    """
    near = nearest_name(name, known)
    return (f"{message} (did you mean '{near}'?)", near) if near else (message, None)


def _one_edit_apart(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]
