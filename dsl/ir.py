"""The intermediate representation: everything the engine needs to run a folder of playbooks.

The IR is the contract between the language (`dsl/`) and the engine (`engine/`). It is a tree of
small pydantic models, serialised as JSON, that travels in a journey workflow's input: a running
journey keeps the exact version it entered with. Names in the IR are already checked and resolved;
the engine never sees source text, positions or the AST.

Conventions
- Percentages are numbers from 0 to 100 (`40%` is `40`), as in events (docs/events-and-actions.md).
- Money is a plain number in the account's currency (`25k` is `25000`).
- Times of day are "HH:MM" in the account's time zone.
- Every union is discriminated by a `kind` field, so JSON round-trips exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

__all__ = [
    "Action",
    "Arith",
    "AudienceRef",
    "BUILT_IN_EVENTS",
    "Band",
    "BandIs",
    "Bundle",
    "ChangeTrigger",
    "Compare",
    "Component",
    "ConditionTrigger",
    "CountTrue",
    "ChecklistStep",
    "CreateTask",
    "DateTrigger",
    "Do",
    "Duration",
    "Escalation",
    "EventDef",
    "EventField",
    "EventTrigger",
    "ExitRule",
    "Expr",
    "FieldRef",
    "FieldType",
    "FrequencyCap",
    "If",
    "Literal_",
    "Logic",
    "MetricDef",
    "MetricRef",
    "Milestone",
    "Model",
    "Not",
    "ParamValue",
    "PercentOf",
    "Playbook",
    "PointRule",
    "Policy",
    "QuietHours",
    "Reentry",
    "ScheduleTrigger",
    "ScoreModel",
    "ScoreRef",
    "Seen",
    "Review",
    "SendEmail",
    "SendInApp",
    "SendWindow",
    "SetField",
    "Split",
    "SplitArm",
    "Statement",
    "StartPlan",
    "Step",
    "TaskState",
    "SuccessPlan",
    "Template",
    "TemplateText",
    "TrendTrigger",
    "Trigger",
    "UpdateScore",
    "Wait",
    "WaitUntil",
]


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- values


DurationUnit = Literal["minutes", "hours", "days", "weeks", "business_days"]

_UNIT_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 7 * 86400}


class Duration(_Node):
    """`30m`, `48h`, `2 days`, `3 weeks`, `2 business days`."""

    amount: int
    unit: DurationUnit

    @property
    def is_business(self) -> bool:
        return self.unit == "business_days"

    def seconds(self) -> int:
        """Length in seconds; business days count as calendar days here (the engine skips weekends)."""
        if self.unit == "business_days":
            return self.amount * 86400
        return self.amount * _UNIT_SECONDS[self.unit]


ValueType = Literal[
    "text", "number", "money", "percent", "boolean", "date", "datetime", "duration", "owner", "contact", "enum"
]


class FieldType(_Node):
    """The declared type of an account field or event payload key."""

    type: ValueType
    values: tuple[str, ...] = ()  # for `enum`: the allowed values, in declared order


# --------------------------------------------------------------------------- expressions


class Literal_(_Node):
    kind: Literal["literal"] = "literal"
    type: ValueType
    value: str | float | int | bool | None


class FieldRef(_Node):
    """An account field, possibly a path into an owner or contact: `csm.manager.email`."""

    kind: Literal["field"] = "field"
    path: tuple[str, ...]


class EventField(_Node):
    """A key of an event's payload: in a `where`, that event's (`where score >= 9`); elsewhere in a
    journey, the triggering event's (`set nps = event.data.score`, `prefixed`, as written)."""

    kind: Literal["event_field"] = "event_field"
    name: str
    prefixed: bool = False


class ScoreRef(_Node):
    """A score's value (`health`, `health.score`) or its band (`health.band`)."""

    kind: Literal["score"] = "score"
    score: str
    part: Literal["value", "band"] = "value"


class MetricRef(_Node):
    kind: Literal["metric"] = "metric"
    metric: str


class TaskState(_Node):
    """`task open` / `task done`: the state of the last task this journey created."""

    kind: Literal["task_state"] = "task_state"
    state: Literal["open", "done"]


class Compare(_Node):
    kind: Literal["compare"] = "compare"
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Expr
    right: Expr


class Logic(_Node):
    kind: Literal["logic"] = "logic"
    op: Literal["and", "or"]
    args: tuple[Expr, ...]


class Not(_Node):
    kind: Literal["not"] = "not"
    arg: Expr


class Arith(_Node):
    kind: Literal["arith"] = "arith"
    op: Literal["+", "-", "*", "/"]
    left: Expr
    right: Expr


class PercentOf(_Node):
    """`80% of seats_licensed`: percent / 100 * value."""

    kind: Literal["percent_of"] = "percent_of"
    percent: Expr
    of: Expr


class BandIs(_Node):
    """`health is red` (and, as a trigger, `health becomes red`)."""

    kind: Literal["band_is"] = "band_is"
    score: str
    band: str


class Seen(_Node):
    """`seen EVENT`, `seen EVENT within 7 days`, `seen EVENT more than 30 days ago`,
    `seen EVENT since entry`.

    True when the account has an event of that name at or before the evaluation time and, with
    `within`, no older than the duration; with `older_than`, at least one occurrence older than it;
    with `since_entry`, one after the moment the journey entered (the event that started the
    journey, stored at that moment, does not count).
    """

    kind: Literal["seen"] = "seen"
    event: str
    within: Duration | None = None
    older_than: Duration | None = None
    since_entry: bool = False


class CountTrue(_Node):
    """`exactly 2 of (a, b, c)`, `at least 2 of (a, b, c)`: how many conditions hold."""

    kind: Literal["count_true"] = "count_true"
    op: Literal["exactly", "at_least", "at_most"]
    count: int
    args: tuple[Expr, ...]


class AudienceRef(_Node):
    """A named audience (`enterprise_at_risk`), declared once for the folder: true when its
    condition holds. The condition travels with it, so a journey keeps the one it entered with."""

    kind: Literal["audience"] = "audience"
    name: str
    condition: Expr


Expr = Annotated[
    Literal_
    | FieldRef
    | EventField
    | ScoreRef
    | MetricRef
    | TaskState
    | Compare
    | Logic
    | Not
    | Arith
    | PercentOf
    | BandIs
    | Seen
    | CountTrue
    | AudienceRef,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- model


class EventDef(_Node):
    name: str
    payload: dict[str, FieldType] = {}


_TEXT = FieldType(type="text")

# The events every folder knows without declaring them, with their payload: the language types
# `where` and `event.data` with it (`dsl.scope`), the engine applies the reserved ones and takes
# the engagement ones in without a declaration (`engine.store.reserved`).
BUILT_IN_EVENTS: dict[str, EventDef] = {
    "task_completed": EventDef(name="task_completed", payload={
        "task": _TEXT, "playbook": _TEXT, "outcome": _TEXT, "type": _TEXT, "reason": _TEXT}),
    "unsubscribed": EventDef(name="unsubscribed", payload={"email": _TEXT}),
    "bounced": EventDef(name="bounced", payload={"email": _TEXT}),
    # engagement with a sent email (the tracking pixel, a rewritten link): events like any other
    "email_opened": EventDef(name="email_opened", payload={"template": _TEXT, "key": _TEXT}),
    "email_clicked": EventDef(name="email_clicked", payload={"template": _TEXT, "url": _TEXT, "key": _TEXT}),
    # a success plan's progress (`start plan onboarding`): events like any other
    "milestone_reached": EventDef(name="milestone_reached", payload={
        "plan": _TEXT, "milestone": _TEXT, "late": FieldType(type="boolean")}),
    "plan_status_changed": EventDef(name="plan_status_changed", payload={
        "plan": _TEXT, "status": _TEXT, "previous": _TEXT, "milestone": _TEXT}),
}


class MetricDef(_Node):
    """`metric weekly_logins = count login over 7 days`."""

    name: str
    aggregate: Literal["count"] = "count"
    event: str
    window: Duration


class PointRule(_Node):
    """`40 if dau_pct >= 70% and feature_adoption >= 60%`; `when` None is `otherwise`."""

    points: float
    when: Expr | None = None


class Component(_Node):
    name: str
    max_points: float
    rules: tuple[PointRule, ...]
    inputs: tuple[str, ...]  # the account fields the rules read


class Band(_Node):
    name: str
    low: float
    high: float


class ScoreModel(_Node):
    name: str
    title: str = ""
    components: tuple[Component, ...]
    bands: tuple[Band, ...]

    @property
    def inputs(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for component in self.components:
            for name in component.inputs:
                seen.setdefault(name, None)
        return tuple(seen)


class QuietHours(_Node):
    start: str  # "20:00"
    end: str  # "08:00"


class FrequencyCap(_Node):
    channel: Literal["email", "in_app"] = "email"
    count: int
    per: Duration


class SendWindow(_Node):
    """`send on weekdays 09:00 to 17:00 account time` (`days` "every_day": `send every day …`).

    `holidays`, the account field listing the account's holidays (`holidays from FIELD`: a text of
    ISO dates separated by commas or spaces): no email goes on them.
    """

    days: Literal["weekdays", "every_day"] = "weekdays"
    start: str  # "09:00", opens
    end: str  # "17:00", closes (after `start`: a window does not span midnight)
    holidays: str | None = None


class Policy(_Node):
    quiet_hours: QuietHours | None = None
    caps: tuple[FrequencyCap, ...] = ()
    window: SendWindow | None = None
    over_cap: Literal["drop", "defer"] = "drop"  # `over the cap: defer`: wait for the next slot


class Model(_Node):
    fields: dict[str, FieldType] = {}
    events: dict[str, EventDef] = {}
    metrics: dict[str, MetricDef] = {}
    teams: dict[str, tuple[str, ...]] = {}  # team -> members' email addresses, in order

    @model_serializer(mode="wrap")
    def _without_empty_teams(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if key != "teams" or value}


# --------------------------------------------------------------------------- templates


class TemplateText(_Node):
    """One Jinja2 source, with the file it came from (for messages that name it)."""

    source: str
    path: str = ""


class Template(_Node):
    """An email (`subject`, `text`, `html`) or an in-app message (`subject` is its title)."""

    name: str
    channel: Literal["email", "in_app"]
    subject: TemplateText
    text: TemplateText
    html: TemplateText | None = None


# --------------------------------------------------------------------------- triggers


class EventTrigger(_Node):
    kind: Literal["event"] = "event"
    event: str
    where: Expr | None = None


class ConditionTrigger(_Node):
    """Fires on the edge: when `condition` goes from false or unknown to true.

    `health becomes red` is a ConditionTrigger on `BandIs`; `plan becomes enterprise` and
    `churn_risk becomes true` are ConditionTriggers on `field == value` with `becomes` set (so
    the trigger reads as written).
    """

    kind: Literal["condition"] = "condition"
    condition: Expr
    becomes: bool = False


class ChangeTrigger(_Node):
    """`exec_sponsor changes from true to false`, `csm changes`, `plan changes to "enterprise"`.

    Fires on a change of a known value of an account field: its previous value known, its new
    value known and different, and each of `before` / `after` (when given) equal to the value on
    its side. An account first seen, or a field first set, fires nothing.
    """

    kind: Literal["change"] = "change"
    field: str
    before: Literal_ | None = None
    after: Literal_ | None = None


class DateTrigger(_Node):
    """`90 days before renewal_date`: at `at` (account time) on the shifted date."""

    kind: Literal["date"] = "date"
    field: str
    offset_days: int  # negative: before
    at: str = "09:00"


class ScheduleTrigger(_Node):
    """`every month [on day D] [at HH:MM]`, `every quarter`, `every week on monday`."""

    kind: Literal["schedule"] = "schedule"
    every: Literal["week", "month", "quarter"]
    day: int = 1  # day of month (month, quarter) or ISO weekday 1-7 (week)
    at: str = "10:00"


class TrendTrigger(_Node):
    """`weekly_logins down 40% week over week for 3 weeks`, checked Mondays at `at`."""

    kind: Literal["trend"] = "trend"
    metric: str
    direction: Literal["down", "up"]
    percent: float
    weeks: int
    at: str = "09:00"


Trigger = Annotated[
    EventTrigger | ConditionTrigger | ChangeTrigger | DateTrigger | ScheduleTrigger | TrendTrigger,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- statements


class ParamValue(_Node):
    """A plugin parameter: a literal, an account field, or a template string."""

    kind: Literal["literal", "field", "template"]
    value: str | float | int | bool | None = None
    path: tuple[str, ...] = ()


class Review(_Node):
    """`review by csm within 1 business day then send`: kept as a draft the owner at `by`
    approves, edits or discards; unanswered by `within`, sent (`send`) or dropped (`drop`)."""

    by: tuple[str, ...]  # an owner field path
    within: Duration
    then: Literal["send", "drop"] = "drop"


class SendEmail(_Node):
    """`send email X to a, b`: one message to each recipient, each suppressed and capped on its own
    (the first under the statement's key, the next ones under `<path>/to2`, `<path>/to3` …)."""

    kind: Literal["send_email"] = "send_email"
    template: str
    to: tuple[str, ...] = ("primary_contact",)  # a contact field path
    also_to: tuple[tuple[str, ...], ...] = ()  # the recipients after the first
    # `from csm`: an owner field path; the email goes out as that owner when the policy's sender
    # domains allow the address, else from the engine's address with Reply-To the owner
    sender: tuple[str, ...] = ()
    review: Review | None = None  # a draft a person approves before it goes


class SendInApp(_Node):
    kind: Literal["send_in_app"] = "send_in_app"
    template: str


class ChecklistStep(_Node):
    """A step of a task's checklist, with its own due time from the task's creation."""

    title: str  # a Jinja2 template string
    due: Duration | None = None


class Escalation(_Node):
    """`escalate to manager after 1 business day`: an item still open `after` past its due time (or
    the end of a snooze) goes to the owner at `to` (`manager` lowered to the owner's `manager`)."""

    to: tuple[str, ...]  # an owner field path: ("csm", "manager")
    after: Duration


# The work-item keys of a task, left out of its JSON when unset: a playbook without them keeps its version.
_WORK_ITEM_KEYS = ("task_type", "reason", "description", "checklist", "template", "dedupe", "assign", "escalation")


class CreateTask(_Node):
    kind: Literal["create_task"] = "create_task"
    title: str  # a Jinja2 template string
    owner: tuple[str, ...]  # an owner field path: ("csm",), ("csm", "manager")
    due: Duration | None = None
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    task_type: str | None = None  # one of the folder's `task types`
    reason: str | None = None
    description: str | None = None  # a Jinja2 template string
    checklist: tuple[ChecklistStep, ...] = ()
    template: str | None = None  # the task template it was made from, if any
    dedupe: bool = False  # one open item per account, type and reason: a second one updates the first
    assign: Literal["round_robin", "least_loaded"] | None = None  # then `owner` is (team,): a team of the model
    escalation: Escalation | None = None  # overdue that long: escalated to another owner

    @model_serializer(mode="wrap")
    def _without_unset_work_item_keys(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if key not in _WORK_ITEM_KEYS or value}


class SetField(_Node):
    kind: Literal["set"] = "set"
    field: str
    value: Expr


class UpdateScore(_Node):
    kind: Literal["update_score"] = "update_score"
    score: str


class Do(_Node):
    """`do slack.notify channel="#cs" text="..."`: a plugin activity called by name; `otherwise`
    runs when the call fails for good (`do ... else: create task ...`)."""

    kind: Literal["do"] = "do"
    activity: str
    params: dict[str, ParamValue] = {}
    otherwise: tuple[Statement, ...] = ()
    attempts: int | None = None  # `at most N attempts`: at most the activity's own number


class Wait(_Node):
    kind: Literal["wait"] = "wait"
    duration: Duration


class WaitUntil(_Node):
    """`wait until event project_created or 7 days`, `wait until task done or 48h`,
    `wait until event nps_response where score >= 7 or 3 days`, `wait until event qbr_held since
    entry or 2 days`, `wait until health is green or 30 days`.

    An event in `where` counts only when its condition holds on it (its payload keys, and the
    account at the event's moment); one in `since_entry` counts from the journey's entry, so one
    that came before the wait ends it at once. `condition` ends the wait when it holds: checked when
    the wait starts and again at each change of what it reads (fields, scores, events), never by
    polling.
    """

    kind: Literal["wait_until"] = "wait_until"
    events: tuple[str, ...] = ()
    task_done: bool = False
    timeout: Duration
    where: dict[str, Expr] = {}
    since_entry: tuple[str, ...] = ()
    condition: Expr | None = None


class Milestone(_Node):
    """A milestone of a success plan: reached by `event` (with `where`) or when `condition` holds,
    due `within` the plan's start."""

    name: str
    event: str | None = None
    where: Expr | None = None
    condition: Expr | None = None
    within: Duration


class SuccessPlan(_Node):
    name: str
    title: str | None = None
    milestones: tuple[Milestone, ...]


class StartPlan(_Node):
    """`start plan onboarding`: the plan, whole, so a journey keeps the version it started."""

    kind: Literal["start_plan"] = "start_plan"
    plan: SuccessPlan


class If(_Node):
    """`if`, `else`; `unless X` is `If(Not(X))` with `negated` kept for the decision log."""

    kind: Literal["if"] = "if"
    condition: Expr
    then: tuple[Statement, ...]
    otherwise: tuple[Statement, ...] = ()
    negated: bool = False
    line: int = 0  # source line, for the decision log ("line 12 of onboarding.play")


class SplitArm(_Node):
    percent: float
    body: tuple[Statement, ...]
    label: str = ""  # the arm's name as written (`control:`), for the decision that picks it


class Split(_Node):
    """`split 50% / 50%`: a deterministic cohort from a hash of account and playbook; with
    `record arm as FIELD`, the label of the arm taken is set on that field (`record_as`)."""

    kind: Literal["split"] = "split"
    arms: tuple[SplitArm, ...]
    record_as: str | None = None


Action = SendEmail | SendInApp | CreateTask | SetField | UpdateScore | Do

Statement = Annotated[
    SendEmail | SendInApp | CreateTask | SetField | UpdateScore | Do | Wait | WaitUntil | If | Split | StartPlan,
    Field(discriminator="kind"),
]


class Step(_Node):
    """A timed block of statements.

    - `anchor == "entry"`: runs `offset` after the journey entered (`day 7:` is 7 days); with
      `day_at` (`day 3 at 10:00:`), at that time (account time) on the entry's date shifted by
      the offset's days, and never before the entry (`day 0 at 10:00` entered at 11:00 runs
      the next day at 10:00).
    - `anchor == FIELD`: runs on that date field shifted by `offset_days`, at `at` account time
      (`60 days before renewal_date:`); it follows the field if it changes mid-journey.
    Statements written outside any block form one step at `day 0`.
    """

    name: str  # "day 7", "60 days before renewal_date": also the step path's root
    anchor: str = "entry"
    offset: Duration = Duration(amount=0, unit="days")
    offset_days: int = 0
    at: str = "09:00"
    day_at: str | None = None
    body: tuple[Statement, ...]


# --------------------------------------------------------------------------- playbooks


class ExitRule(_Node):
    """`exit: event churned or health is red`: one rule per alternative; an event's rule may hold a
    condition on it (`event ticket_closed where priority == "p1"`)."""

    event: str | None = None
    condition: Expr | None = None
    where: Expr | None = None


class Reentry(_Node):
    mode: Literal["after_end", "never", "after"] = "after_end"
    after: Duration | None = None


class Playbook(_Node):
    id: str
    title: str = ""
    path: str = ""
    trigger: Trigger
    audience: Expr | None = None
    exits: tuple[ExitRule, ...] = ()
    goal: Expr | None = None
    goal_events: tuple[str, ...] = ()
    goal_where: dict[str, Expr] = {}  # goal events that count only when a condition holds on them
    reentry: Reentry = Reentry()
    # `send policy: transactional`: its emails skip quiet hours, the send window and the cap
    send_policy: Literal["standard", "transactional"] = "standard"
    priority: Literal["high", "normal", "low"] = "normal"  # first when deferred sends wait for one slot
    steps: tuple[Step, ...]
    templates: tuple[str, ...] = ()  # the templates it uses (part of its version)

    def content_hash(self, bundle: Bundle | None = None, template_digests: Mapping[str, str] | None = None) -> str:
        """The version of this playbook: its IR plus the templates it uses (not where they live).

        `template_digests`, the bundle's `template_digest` of each template by name, saves working
        them out again for every playbook of a bundle.
        """
        # Defaults are left out: a field the language gains later changes no existing version.
        digest = hashlib.sha256(self.model_dump_json(exclude={"path"}, exclude_defaults=True).encode())
        if bundle is not None:
            for name in self.templates:
                if name in bundle.templates:
                    known = template_digests.get(name) if template_digests is not None else None
                    digest.update(f"\x00{name}\x00{known or bundle.template_digest(name)}".encode())
        return digest.hexdigest()[:16]


class Bundle(_Node):
    """A compiled folder of `.play` files and templates: one deployable set."""

    model: Model
    audiences: dict[str, Expr] = {}  # the named audiences, for filters (`stats --audience`)
    scores: dict[str, ScoreModel] = {}
    policy: Policy = Policy()
    playbooks: dict[str, Playbook] = {}
    templates: dict[str, Template] = {}
    versions: dict[str, str] = {}  # playbook id -> content hash

    def template_digest(self, name: str) -> str:
        """A template's content, without the path of its file: moving a folder changes no version."""
        template = self.templates[name]
        parts = [template.name, template.channel] + [
            part.source for part in (template.subject, template.text, template.html) if part is not None]
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> Bundle:
        return cls.model_validate_json(text)


for _model in (Compare, Logic, Not, Arith, PercentOf, CountTrue, AudienceRef, PointRule, Component, ScoreModel,
               ConditionTrigger, EventTrigger, If, SplitArm, Split, SetField, WaitUntil, Step, ExitRule, Playbook,
               Bundle):
    _model.model_rebuild()
