"""Conditions and arithmetic: references, comparisons, `and`/`or`/`not`, `is`, `seen`, `N of (…)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsl.ast.literals import BoolLit, DateLit, Duration, MoneyLit, NumberLit, PercentLit, TextLit
from dsl.ast.places import Name, Path, Pos

__all__ = [
    "Arith",
    "Compare",
    "CountOf",
    "Expr",
    "Group",
    "Is",
    "Logic",
    "Negate",
    "Not",
    "PercentOf",
    "Ref",
    "Seen",
    "TaskIs",
]


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Ref:
    """A name or dotted path read in an expression: `arr`, `health`, `health.band`, `csm.manager`."""

    pos: Pos
    path: Path


@dataclass(frozen=True, slots=True)
class Group:
    """`( EXPR )`: kept so that the formatter can keep the writer's parentheses."""

    pos: Pos
    expr: Expr


@dataclass(frozen=True, slots=True)
class Compare:
    """`A == B`, `A != B`, `A < B`, `A <= B`, `A > B`, `A >= B`."""

    pos: Pos
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Logic:
    """`A and B and C`, `A or B`: one node per run of the same operator."""

    pos: Pos
    op: Literal["and", "or"]
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """`not A`."""

    pos: Pos
    arg: Expr


@dataclass(frozen=True, slots=True)
class Negate:
    """`-A`."""

    pos: Pos
    arg: Expr


@dataclass(frozen=True, slots=True)
class Arith:
    """`A + B`, `A - B`, `A * B`, `A / B` (left-associative)."""

    pos: Pos
    op: Literal["+", "-", "*", "/"]
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class PercentOf:
    """`80% of seats_licensed`."""

    pos: Pos
    percent: PercentLit
    of: Expr


@dataclass(frozen=True, slots=True)
class Is:
    """`health is red`, `health is not red`, `ticket_trend is increasing`, `segment is "smb"`.

    On a score it asks for the band; on an enumeration field it compares with one of its values.
    """

    pos: Pos
    subject: Expr
    value: Name | TextLit
    negated: bool


@dataclass(frozen=True, slots=True)
class Seen:
    """`seen EVENT`, `seen EVENT within 7 days`, `seen EVENT more than 30 days ago`,
    `seen EVENT since entry`."""

    pos: Pos
    event: Name
    within: Duration | None = None
    older_than: Duration | None = None
    since_entry: bool = False


@dataclass(frozen=True, slots=True)
class CountOf:
    """`exactly 2 of (a, b, c)`, `at least 2 of (a, b, c)`, `at most 1 of (a, b)`."""

    pos: Pos
    op: Literal["exactly", "at_least", "at_most"]
    count: int
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class TaskIs:
    """`task open`, `task done`: the state of the last task this journey created."""

    pos: Pos
    state: Literal["open", "done"]


Expr = (
    NumberLit
    | MoneyLit
    | PercentLit
    | TextLit
    | BoolLit
    | DateLit
    | Ref
    | Group
    | Compare
    | Logic
    | Not
    | Negate
    | Arith
    | PercentOf
    | Is
    | Seen
    | CountOf
    | TaskIs
)
