"""Where nodes are, and the names written in the source: positions, names, dotted paths, comments."""

from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import Span

__all__ = [
    "Comment",
    "Name",
    "Path",
    "Pos",
]


# --------------------------------------------------------------------------- places and names


@dataclass(frozen=True, slots=True)
class Pos:
    """Where a node is: 1-based line and column of its first character, and just past its end."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def span(self) -> Span:
        """The span to underline: the whole node on its first line."""
        length = self.end_column - self.column if self.end_line == self.line else 1
        return Span(self.path, self.line, self.column, max(length, 1))


@dataclass(frozen=True, slots=True)
class Name:
    """An identifier as written: `dau_pct`, `welcome`, `health`."""

    pos: Pos
    text: str


@dataclass(frozen=True, slots=True)
class Path:
    """A dotted name: `csm.manager.email`, `health.band`, `slack.notify`; one part for `arr`."""

    pos: Pos
    parts: tuple[Name, ...]

    @property
    def text(self) -> str:
        return ".".join(part.text for part in self.parts)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple([part.text for part in self.parts])


@dataclass(frozen=True, slots=True)
class Comment:
    """`# text` (the text includes the `#`); `trailing` when code precedes it on its line."""

    pos: Pos
    text: str
    trailing: bool
