"""How many matching actions an expectation allows: `exactly 1`, `at least 2`, `at most 1`, `none`.

Without `count:` an expectation wants at least one. A bare number is `exactly` that number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Count", "parse_count"]

_COUNT = re.compile(r"^(exactly|at least|at most)\s+(\d+)$", re.IGNORECASE)
_HELP = "expected `exactly N`, `at least N`, `at most N`, `none` or a number"


@dataclass(frozen=True)
class Count:
    low: int
    high: int | None  # None: no upper bound
    text: str

    def holds(self, found: int) -> bool:
        return found >= self.low and (self.high is None or found <= self.high)

    def wants(self) -> str:
        """`at least 1`, `none`, `exactly 2`: for a sentence such as `expected at least 1, found 0`."""
        return self.text


def parse_count(raw: object) -> Count:
    if raw is None:
        return Count(1, None, "at least 1")
    if isinstance(raw, bool):
        raise ValueError(f"{_HELP}, got {raw}")
    if isinstance(raw, int):
        if raw < 0:
            raise ValueError(f"{_HELP}, got {raw}")
        return Count(raw, raw, "none" if raw == 0 else f"exactly {raw}")
    text = " ".join(str(raw).split()).lower()
    if text in ("none", "never", "no"):
        return Count(0, 0, "none")
    if text.isdigit():
        return parse_count(int(text))
    found = _COUNT.match(text)
    if found is None:
        raise ValueError(f"{_HELP}, got {str(raw)!r}")
    word, number = found.group(1).lower(), int(found.group(2))
    if word == "exactly":
        return Count(number, number, "none" if number == 0 else f"exactly {number}")
    if word == "at least":
        return Count(number, None, f"at least {number}")
    return Count(0, number, f"at most {number}")
