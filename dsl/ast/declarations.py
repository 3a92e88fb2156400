"""What a folder declares besides playbooks: the account model, score models and send policies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsl.ast.expressions import Expr
from dsl.ast.literals import Duration, NumberLit, TextLit, TimeOfDay
from dsl.ast.places import Name, Pos

__all__ = [
    "AccountFields",
    "Band",
    "Component",
    "EnumType",
    "EventDecl",
    "Events",
    "FieldDecl",
    "FrequencyCap",
    "Holidays",
    "Metric",
    "NamedAudience",
    "NamedType",
    "OverCap",
    "PayloadKey",
    "PointRule",
    "Policy",
    "PolicyItem",
    "QuietHours",
    "SendWindow",
    "Score",
    "TypeRef",
]


# --------------------------------------------------------------------------- the account model


@dataclass(frozen=True, slots=True)
class NamedType:
    """A type by name: `text`, `number`, `money`, `percent`, `boolean`, `date`, `owner`, …"""

    pos: Pos
    name: Name


@dataclass(frozen=True, slots=True)
class EnumType:
    """`one of enterprise, mid_market, smb, trial`."""

    pos: Pos
    values: tuple[Name, ...]


TypeRef = NamedType | EnumType


@dataclass(frozen=True, slots=True)
class FieldDecl:
    """`arr: money` (a line of `account fields:`)."""

    pos: Pos
    name: Name
    type: TypeRef


@dataclass(frozen=True, slots=True)
class AccountFields:
    """`account fields:` followed by an indented block of field declarations."""

    pos: Pos
    fields: tuple[FieldDecl, ...]


@dataclass(frozen=True, slots=True)
class PayloadKey:
    """`amount money` in `payment_failed: amount money`."""

    pos: Pos
    name: Name
    type: NamedType


@dataclass(frozen=True, slots=True)
class EventDecl:
    """`signed`, `nps_response: score number, comment text` (a line of `events:`)."""

    pos: Pos
    name: Name
    payload: tuple[PayloadKey, ...] = ()


@dataclass(frozen=True, slots=True)
class Events:
    """`events:` followed by an indented block of event declarations."""

    pos: Pos
    events: tuple[EventDecl, ...]


@dataclass(frozen=True, slots=True)
class Metric:
    """`metric weekly_logins = count login over 7 days`."""

    pos: Pos
    name: Name
    event: Name
    window: Duration
    aggregate: Literal["count"] = "count"


# --------------------------------------------------------------------------- score models


@dataclass(frozen=True, slots=True)
class PointRule:
    """`40 if dau_pct >= 70%` or `0 otherwise` (`when` is None)."""

    pos: Pos
    points: NumberLit
    when: Expr | None


@dataclass(frozen=True, slots=True)
class Component:
    """`component product_usage max 40:` followed by its point rules."""

    pos: Pos
    name: Name
    max_points: NumberLit
    rules: tuple[PointRule, ...]


@dataclass(frozen=True, slots=True)
class Band:
    """`green: 80 to 100` (a line of `bands:`)."""

    pos: Pos
    name: Name
    low: NumberLit
    high: NumberLit


@dataclass(frozen=True, slots=True)
class Score:
    """`score health "Account health":` with `component …:` blocks and a `bands:` block."""

    pos: Pos
    name: Name
    title: TextLit | None
    components: tuple[Component, ...]
    bands: tuple[Band, ...]
    bands_pos: Pos | None = None  # where `bands:` is written, if it is


# --------------------------------------------------------------------------- send policies


@dataclass(frozen=True, slots=True)
class QuietHours:
    """`quiet hours 20:00 to 08:00 account time` (`account time` may be left out)."""

    pos: Pos
    start: TimeOfDay
    end: TimeOfDay


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """`at most 3 emails per account per 7 days`, `at most 2 in_app messages per account per 1 day`."""

    pos: Pos
    count: int
    channel: Literal["email", "in_app"]
    per: Duration


@dataclass(frozen=True, slots=True)
class SendWindow:
    """`send on weekdays 09:00 to 17:00 account time`, `send every day 08:00 to 20:00`."""

    pos: Pos
    days: Literal["weekdays", "every_day"]
    start: TimeOfDay
    end: TimeOfDay


@dataclass(frozen=True, slots=True)
class Holidays:
    """`holidays from account_holidays`: the field holding the account's holidays (no sends on them)."""

    pos: Pos
    field: Name


@dataclass(frozen=True, slots=True)
class OverCap:
    """`over the cap: defer` or `over the cap: drop` (`mode` as written, checked by the checker)."""

    pos: Pos
    mode: Name


PolicyItem = QuietHours | FrequencyCap | SendWindow | Holidays | OverCap


@dataclass(frozen=True, slots=True)
class Policy:
    """`policy:` followed by an indented block of rules."""

    pos: Pos
    items: tuple[PolicyItem, ...]


@dataclass(frozen=True, slots=True)
class NamedAudience:
    """`audience enterprise_at_risk: segment == "enterprise" and health is red`."""

    pos: Pos
    name: Name
    condition: Expr
