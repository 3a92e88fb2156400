"""The syntax tree of a `.play` file, as written, with a source position on every node.

The parser builds these nodes; the checker reads them to report problems at the exact place;
the formatter prints them back in the canonical layout; lowering turns a checked tree into the IR.

Conventions
- Every node carries `pos` (1-based line and column of its first character, and where it ends).
- Names written in the source (fields, events, templates, scores, owners) are `Name` or `Path`
  nodes with their own position, so a message can underline exactly the name.
- Bare names in expressions are `Ref`: whether a name is an account field, a score, a metric or
  an event payload key is decided by the checker and lowering, which see the whole folder.
- Sequences are tuples; the nodes are frozen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dsl.diagnostics import Span

__all__ = [
    "AccountFields",
    "Arith",
    "AudienceClause",
    "Band",
    "BecomesTrigger",
    "BoolLit",
    "Clause",
    "Comment",
    "Compare",
    "Component",
    "ConditionTrigger",
    "CountOf",
    "CreateTask",
    "DateLit",
    "DateStep",
    "DateTrigger",
    "DayStep",
    "Do",
    "DoParam",
    "Duration",
    "EnumType",
    "EventAlternative",
    "EventDecl",
    "EventTrigger",
    "Events",
    "ExitClause",
    "Expr",
    "FieldDecl",
    "File",
    "FileItem",
    "FrequencyCap",
    "GoalClause",
    "Group",
    "If",
    "Is",
    "Logic",
    "Metric",
    "MoneyLit",
    "Name",
    "NamedType",
    "Negate",
    "Not",
    "NumberLit",
    "Path",
    "PayloadKey",
    "PercentLit",
    "PercentOf",
    "Playbook",
    "PlaybookItem",
    "PointRule",
    "Policy",
    "PolicyItem",
    "Pos",
    "QuietHours",
    "ReentryClause",
    "Ref",
    "ScheduleTrigger",
    "Score",
    "Seen",
    "SendEmail",
    "SendInApp",
    "SetField",
    "Split",
    "SplitArm",
    "Statement",
    "Step",
    "TaskIs",
    "TextLit",
    "TimeOfDay",
    "TrendTrigger",
    "Trigger",
    "TriggerClause",
    "TypeRef",
    "UpdateScore",
    "Wait",
    "WaitUntil",
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
        return tuple(part.text for part in self.parts)


@dataclass(frozen=True, slots=True)
class Comment:
    """`# text` (the text includes the `#`); `trailing` when code precedes it on its line."""

    pos: Pos
    text: str
    trailing: bool


# --------------------------------------------------------------------------- literals


@dataclass(frozen=True, slots=True)
class NumberLit:
    """`10`, `4.2`; `text` keeps the digits as written."""

    pos: Pos
    value: int | float
    text: str


@dataclass(frozen=True, slots=True)
class MoneyLit:
    """`25k`, `1.5m`: an amount; `value` is multiplied out (25000)."""

    pos: Pos
    value: int | float
    text: str


@dataclass(frozen=True, slots=True)
class PercentLit:
    """`40%`: `value` is 40."""

    pos: Pos
    value: int | float
    text: str


@dataclass(frozen=True, slots=True)
class TextLit:
    """`"smb"`: `value` is the text without quotes, escapes resolved."""

    pos: Pos
    value: str


@dataclass(frozen=True, slots=True)
class BoolLit:
    """`true`, `false`."""

    pos: Pos
    value: bool


@dataclass(frozen=True, slots=True)
class DateLit:
    """`2026-04-15`."""

    pos: Pos
    value: str


@dataclass(frozen=True, slots=True)
class TimeOfDay:
    """`09:00`: `value` is normalised to "HH:MM"."""

    pos: Pos
    value: str


DurationUnit = Literal["minutes", "hours", "days", "weeks", "business_days"]


@dataclass(frozen=True, slots=True)
class Duration:
    """`30m`, `48h`, `7d`, `2w`, `2 days`, `1 day`, `3 weeks`, `2 business days`, `90 minutes`."""

    pos: Pos
    amount: int
    unit: DurationUnit
    text: str


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
    """`seen EVENT`, `seen EVENT within 7 days`, `seen EVENT more than 30 days ago`."""

    pos: Pos
    event: Name
    within: Duration | None = None
    older_than: Duration | None = None


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


PolicyItem = QuietHours | FrequencyCap


@dataclass(frozen=True, slots=True)
class Policy:
    """`policy:` followed by an indented block of rules."""

    pos: Pos
    items: tuple[PolicyItem, ...]


# --------------------------------------------------------------------------- triggers


@dataclass(frozen=True, slots=True)
class EventTrigger:
    """`event signed`, `event nps_response where score >= 9`."""

    pos: Pos
    event: Name
    where: Expr | None = None


@dataclass(frozen=True, slots=True)
class BecomesTrigger:
    """`health becomes red`."""

    pos: Pos
    score: Name
    band: Name


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


Trigger = EventTrigger | BecomesTrigger | ConditionTrigger | DateTrigger | ScheduleTrigger | TrendTrigger


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class SendEmail:
    """`send email welcome`, `send email welcome to primary_contact`."""

    pos: Pos
    template: Name
    to: Path | None = None


@dataclass(frozen=True, slots=True)
class SendInApp:
    """`send in_app core_workflows_tutorial`."""

    pos: Pos
    template: Name


@dataclass(frozen=True, slots=True)
class CreateTask:
    """`create task "Outreach: {{ account.name }}" for csm.manager due 48h priority urgent`.

    `due` and `priority` are optional and may come in either order.
    """

    pos: Pos
    title: TextLit
    owner: Path
    due: Duration | None = None
    priority: Name | None = None


@dataclass(frozen=True, slots=True)
class SetField:
    """`set lifecycle_stage = "adopting"`."""

    pos: Pos
    field: Name
    value: Expr


@dataclass(frozen=True, slots=True)
class UpdateScore:
    """`update score health`."""

    pos: Pos
    score: Name


@dataclass(frozen=True, slots=True)
class DoParam:
    """`channel="#cs-alerts"` in a `do` statement; the value is a literal or a field path."""

    pos: Pos
    name: Name
    value: Expr


@dataclass(frozen=True, slots=True)
class Do:
    """`do slack.notify channel="#cs-alerts" text="Red: {{ account.name }}"`."""

    pos: Pos
    activity: Path
    params: tuple[DoParam, ...] = ()


@dataclass(frozen=True, slots=True)
class Wait:
    """`wait 3 days`."""

    pos: Pos
    duration: Duration


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """`wait until event project_created or 7 days`, `wait until task done or 48h`.

    Alternatives are joined by `or`; the last one is the time limit.
    """

    pos: Pos
    events: tuple[Name, ...]
    task_done: bool
    timeout: Duration


@dataclass(frozen=True, slots=True)
class If:
    """`if EXPR:` block, optionally `else:` block; `unless EXPR:` is the same with `negated`."""

    pos: Pos
    condition: Expr
    then: tuple[Statement, ...]
    otherwise: tuple[Statement, ...] = ()
    negated: bool = False
    else_pos: Pos | None = None  # where `else:` is written, if it is


@dataclass(frozen=True, slots=True)
class SplitArm:
    """`a:` followed by an indented block, inside a `split`."""

    pos: Pos
    label: Name
    body: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class Split:
    """`split 50% / 50%:` followed by one labelled block per share (`a:`, `b:`), in order."""

    pos: Pos
    shares: tuple[PercentLit, ...]
    arms: tuple[SplitArm, ...]


Statement = SendEmail | SendInApp | CreateTask | SetField | UpdateScore | Do | Wait | WaitUntil | If | Split


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
class EventAlternative:
    """`event churned` as one alternative of `exit:` or `goal:`."""

    pos: Pos
    event: Name


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


Clause = TriggerClause | AudienceClause | ExitClause | GoalClause | ReentryClause


@dataclass(frozen=True, slots=True)
class DayStep:
    """`day 7:` followed by an indented block."""

    pos: Pos
    day: int
    body: tuple[Statement, ...]


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
        kinds = (TriggerClause, AudienceClause, ExitClause, GoalClause, ReentryClause)
        return tuple(item for item in self.items if isinstance(item, kinds))

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(item for item in self.items if isinstance(item, DayStep | DateStep))

    @property
    def statements(self) -> tuple[Statement, ...]:
        """The statements written directly under the playbook (they run at entry)."""
        kinds = (TriggerClause, AudienceClause, ExitClause, GoalClause, ReentryClause, DayStep, DateStep)
        return tuple(item for item in self.items if not isinstance(item, kinds))

    @property
    def trigger(self) -> TriggerClause | None:
        return next((c for c in self.items if isinstance(c, TriggerClause)), None)


FileItem = AccountFields | Events | Metric | Score | Policy | Playbook


@dataclass(slots=True)
class File:
    """A whole `.play` file: its top-level items in order, and every comment in it."""

    pos: Pos
    path: str
    items: tuple[FileItem, ...]
    comments: list[Comment] = field(default_factory=list)
    line_count: int = 0
