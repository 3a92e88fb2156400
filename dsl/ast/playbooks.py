"""Playbooks: their triggers, clauses (audience, exit, goal, reentry) and timed steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsl.ast.expressions import Expr
from dsl.ast.literals import BoolLit, Duration, MoneyLit, NumberLit, PercentLit, TextLit, TimeOfDay
from dsl.ast.places import Name, Pos
from dsl.ast.statements import EventAlternative, Statement

__all__ = [
    "AudienceClause",
    "BecomesTrigger",
    "ChangeTrigger",
    "Clause",
    "ConditionTrigger",
    "DateStep",
    "DateTrigger",
    "DayStep",
    "EventAlternative",
    "EventTrigger",
    "ExitClause",
    "GoalClause",
    "Playbook",
    "PlaybookItem",
    "PriorityClause",
    "ReentryClause",
    "ScheduleTrigger",
    "SendPolicyClause",
    "Step",
    "TrendTrigger",
    "Trigger",
    "TriggerValue",
    "TriggerClause",
]


# --------------------------------------------------------------------------- triggers


@dataclass(frozen=True, slots=True)
class EventTrigger:
    """`event signed`, `event nps_response where score >= 9`."""

    pos: Pos
    event: Name
    where: Expr | None = None


# A value a field trigger names: a band or enum value (`red`, `enterprise`), a text, a number, a boolean.
TriggerValue = Name | TextLit | NumberLit | MoneyLit | PercentLit | BoolLit


@dataclass(frozen=True, slots=True)
class BecomesTrigger:
    """`health becomes red` (a score's band), `plan becomes enterprise`, `churn_risk becomes true`."""

    pos: Pos
    subject: Name
    value: TriggerValue


@dataclass(frozen=True, slots=True)
class ChangeTrigger:
    """`exec_sponsor changes from true to false`, `csm changes`, `plan changes to "enterprise"`."""

    pos: Pos
    field: Name
    before: TriggerValue | None = None
    after: TriggerValue | None = None


@dataclass(frozen=True, slots=True)
class ConditionTrigger:
    """`seats_used >= 80% of seats_licensed`: fires when the condition becomes true."""

    pos: Pos
    condition: Expr


@dataclass(frozen=True, slots=True)
class DateTrigger:
    """`90 days before renewal_date`, `14 days after signed_date at 10:00`.

    `amount` and `unit` are as written (`2 weeks before …` is 2 weeks); `days` gives the offset.
    """

    pos: Pos
    amount: int
    unit: Literal["days", "weeks"]
    direction: Literal["before", "after"]
    field: Name
    at: TimeOfDay | None = None

    @property
    def days(self) -> int:
        return self.amount * (7 if self.unit == "weeks" else 1)


@dataclass(frozen=True, slots=True)
class ScheduleTrigger:
    """`every month`, `every month on day 15 at 10:00`, `every quarter`, `every week on monday`."""

    pos: Pos
    every: Literal["week", "month", "quarter"]
    day: int | None = None  # `on day 15` (month, quarter)
    weekday: Name | None = None  # `on monday` (week)
    at: TimeOfDay | None = None


@dataclass(frozen=True, slots=True)
class TrendTrigger:
    """`weekly_logins down 40% week over week for 3 weeks`."""

    pos: Pos
    metric: Name
    direction: Literal["down", "up"]
    percent: PercentLit
    weeks: int


Trigger = (EventTrigger | BecomesTrigger | ChangeTrigger | ConditionTrigger | DateTrigger | ScheduleTrigger
           | TrendTrigger)


# --------------------------------------------------------------------------- playbooks


@dataclass(frozen=True, slots=True)
class TriggerClause:
    """`trigger: TRIGGER`."""

    pos: Pos
    trigger: Trigger


@dataclass(frozen=True, slots=True)
class AudienceClause:
    """`audience: EXPR`."""

    pos: Pos
    condition: Expr


@dataclass(frozen=True, slots=True)
class ExitClause:
    """`exit: event churned or health is red`: alternatives joined by `or`."""

    pos: Pos
    alternatives: tuple[EventAlternative | Expr, ...]


@dataclass(frozen=True, slots=True)
class GoalClause:
    """`goal: feature_adoption >= 30%`, `goal: event upgraded or seats_used > 50`."""

    pos: Pos
    alternatives: tuple[EventAlternative | Expr, ...]


@dataclass(frozen=True, slots=True)
class ReentryClause:
    """`reentry: never`, `reentry: after 30 days`."""

    pos: Pos
    mode: Literal["never", "after"]
    after: Duration | None = None


@dataclass(frozen=True, slots=True)
class SendPolicyClause:
    """`send policy: transactional` (mail that goes at once) or `send policy: standard`."""

    pos: Pos
    mode: Name


@dataclass(frozen=True, slots=True)
class PriorityClause:
    """`priority: high`, `normal` or `low`: who goes first when deferred sends wait for one slot."""

    pos: Pos
    level: Name


Clause = (TriggerClause | AudienceClause | ExitClause | GoalClause | ReentryClause | SendPolicyClause
          | PriorityClause)
_CLAUSES = (TriggerClause, AudienceClause, ExitClause, GoalClause, ReentryClause, SendPolicyClause, PriorityClause)


@dataclass(frozen=True, slots=True)
class DayStep:
    """`day 7:` or `day 3 at 10:00:` (account time) followed by an indented block."""

    pos: Pos
    day: int
    body: tuple[Statement, ...]
    at: TimeOfDay | None = None


@dataclass(frozen=True, slots=True)
class DateStep:
    """`60 days before renewal_date:`, `7 days after signed_date at 10:00:` and a block."""

    pos: Pos
    amount: int
    unit: Literal["days", "weeks"]
    direction: Literal["before", "after"]
    field: Name
    at: TimeOfDay | None
    body: tuple[Statement, ...]

    @property
    def days(self) -> int:
        return self.amount * (7 if self.unit == "weeks" else 1)


Step = DayStep | DateStep

PlaybookItem = Clause | Step | Statement


@dataclass(frozen=True, slots=True)
class Playbook:
    """`playbook smb_onboarding "SMB onboarding":` followed by clauses, statements and steps.

    `items` keeps the order of the source; the properties pick out each kind.
    """

    pos: Pos
    id: Name
    title: TextLit | None
    items: tuple[PlaybookItem, ...]

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return tuple(item for item in self.items if isinstance(item, _CLAUSES))

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(item for item in self.items if isinstance(item, DayStep | DateStep))

    @property
    def statements(self) -> tuple[Statement, ...]:
        """The statements written directly under the playbook (they run at entry)."""
        return tuple(item for item in self.items if not isinstance(item, (*_CLAUSES, DayStep, DateStep)))

    @property
    def trigger(self) -> TriggerClause | None:
        return next((c for c in self.items if isinstance(c, TriggerClause)), None)
