"""What a playbook does: send, create a task, set a field, update a score, call a plugin, wait, branch."""

from __future__ import annotations

from dataclasses import dataclass

from dsl.ast.expressions import Expr
from dsl.ast.literals import Duration, PercentLit, TextLit
from dsl.ast.places import Name, Path, Pos
from dsl.ast.work_items import Escalation

__all__ = [
    "StartPlan",
    "Review",
    "CreateTask",
    "EventAlternative",
    "Do",
    "DoParam",
    "If",
    "SendEmail",
    "SendInApp",
    "SetField",
    "Split",
    "SplitArm",
    "Statement",
    "UpdateScore",
    "Wait",
    "WaitUntil",
]


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class SendEmail:
    """`send email welcome`, `send email welcome to primary_contact`, `send email qbr_invite to
    exec_contact, champion_contact` (one message to each)."""

    pos: Pos
    template: Name
    to: Path | None = None
    also_to: tuple[Path, ...] = ()  # the recipients after the first
    sender: Path | None = None  # `from csm`: sent as that owner (when the policy allows its address)
    review: Review | None = None  # `review by csm within 1 business day then send`


@dataclass(frozen=True, slots=True)
class Review:
    """`review by csm within 1 business day then send`: the email is kept as a draft that owner
    approves, edits or discards; unanswered `within` that, it is sent (`then send`) or dropped
    (`then drop`, also when `then` is not written)."""

    pos: Pos
    by: Path
    within: Duration
    then: Name | None = None


@dataclass(frozen=True, slots=True)
class SendInApp:
    """`send in_app core_workflows_tutorial`."""

    pos: Pos
    template: Name


@dataclass(frozen=True, slots=True)
class CreateTask:
    """`create task "Outreach: {{ account.name }}" for csm.manager due 48h priority urgent`.

    `due`, `priority`, `type`, `reason` and `description` are optional and may come in any order.
    `title` is a Name when the task is made from a task template (`create task renewal_call for csm`).
    """

    pos: Pos
    title: TextLit | Name
    owner: Path
    due: Duration | None = None
    priority: Name | None = None
    task_type: Name | None = None
    reason: Name | None = None
    description: TextLit | None = None
    dedupe: Pos | None = None  # where `dedupe by type and reason` is written, if it is
    assignment: Name | None = None  # `round_robin` or `least_loaded` (`for smb_csms by round robin`): `owner` is a team
    escalation: Escalation | None = None  # `escalate to manager after 1 business day`


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
    """`do slack.notify channel="#cs-alerts" text="Red: {{ account.name }}"`, with what the journey
    does instead when the call fails for good (`else: create task ...`), if anything."""

    pos: Pos
    activity: Path
    params: tuple[DoParam, ...] = ()
    otherwise: tuple[Statement, ...] = ()
    else_pos: Pos | None = None
    attempts: int | None = None  # `at most 2 attempts`: fewer than the activity declares
    attempts_pos: Pos | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    """`wait 3 days`."""

    pos: Pos
    duration: Duration


@dataclass(frozen=True, slots=True)
class EventAlternative:
    """`event churned` as one alternative of `exit:`, `goal:` or `wait until`, with an optional
    condition on it (`event nps_response where score >= 7`) and, in a wait, `since entry`."""

    pos: Pos
    event: Name
    where: Expr | None = None
    since_entry: bool = False


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """`wait until event project_created or 7 days`, `wait until task done or 48h`,
    `wait until health is green or 30 days`.

    Alternatives are joined by `or`; the last one is the time limit. Conditions (every
    alternative that is neither an event nor `task done`) are kept as written, in order.
    """

    pos: Pos
    events: tuple[EventAlternative, ...]
    task_done: bool
    timeout: Duration
    conditions: tuple[Expr, ...] = ()


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
    record_as: Name | None = None  # `record arm as FIELD`: the label of the arm taken is stored there


@dataclass(frozen=True, slots=True)
class StartPlan:
    """`start plan onboarding`: the account's success plan starts now; its milestones are watched."""

    pos: Pos
    plan: Name


Statement = (SendEmail | SendInApp | CreateTask | SetField | UpdateScore | Do | Wait | WaitUntil | If | Split
             | StartPlan)
