"""Diagnostics: every problem the language reports, with its place and a caret under it.

Each diagnostic carries its code, the kind of problem it reports (`dsl/diagnostic_codes.py`),
and, when it proposes a known name for a misspelt one, that name as its suggestion. A
diagnostic renders as::

    playbooks/onboarding.play:14:9: unknown field 'feature_adoptoin' (did you mean 'feature_adoption'?)
        if feature_adoptoin < 20%:
           ^^^^^^^^^^^^^^^^

Lines and columns are 1-based. `suggest` picks the nearest known name for "did you mean".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Diagnostic", "DiagnosticError", "Span", "render_all", "suggest"]


@dataclass(frozen=True, order=True)
class Span:
    """A place in a source file: 1-based line and column, and how many characters to underline."""

    path: str
    line: int
    column: int
    length: int = 1

    @property
    def end_column(self) -> int:
        """The column of the last character underlined (1-based, inclusive)."""
        return self.column + max(self.length, 1) - 1


@dataclass(frozen=True)
class Diagnostic:
    """A problem at a place: its message, severity, code and, for a misspelt name, the suggestion.

    `code` is the kind of problem (`unknown-name`, `syntax`, ...); a diagnostic created without
    one is of no known kind and gets `other-error` or `other-warning`.
    """

    span: Span
    message: str
    severity: Literal["error", "warning"] = "error"
    source_line: str | None = field(default=None, compare=False)
    code: str = field(default="", kw_only=True)
    suggestion: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not self.code:
            object.__setattr__(self, "code", f"other-{self.severity}")

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def headline(self) -> str:
        prefix = "" if self.is_error else "warning: "
        return f"{self.span.path}:{self.span.line}:{self.span.column}: {prefix}{self.message}"

    def render(self, source: str | None = None) -> str:
        """The headline, then the source line and a caret, when the line is known."""
        line = self.source_line
        if line is None and source is not None:
            lines = source.splitlines()
            if 1 <= self.span.line <= len(lines):
                line = lines[self.span.line - 1]
        if line is None:
            return self.headline()
        text = line.rstrip("\n").expandtabs(1)
        start = max(self.span.column - 1, 0)
        width = max(1, min(self.span.length, max(len(text) - start, 1)))
        return f"{self.headline()}\n    {text}\n    {' ' * start}{'^' * width}"


class DiagnosticError(Exception):
    """Raised inside the language's own stages to stop with one diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.headline())
        self.diagnostic = diagnostic


def suggest(name: str, known: Iterable[str]) -> str | None:
    """The closest known name, if one is close enough to be a likely typo."""
    candidates = [k for k in known if k != name]
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    if matches:
        return matches[0]
    lowered = {k.lower(): k for k in candidates}
    return lowered.get(name.lower())


def render_all(diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    """Render diagnostics sorted by place, each with its source line when available."""
    sources = sources or {}
    ordered = sorted(diagnostics, key=lambda d: (d.span.path, d.span.line, d.span.column, d.message))
    return "\n".join(d.render(sources.get(d.span.path)) for d in ordered)
