"""The messages a journey workflow exchanges with Temporal and its activities.

Kept apart from the workflow so activities, the starter and tests can import them without the
workflow's sandbox concerns. Every model is plain pydantic and travels as JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

import dsl.ir as ir
from engine.records import Decision, Snapshot

__all__ = [
    "ActionParams",
    "ActivityOptions",
    "DraftParams",
    "EffectParams",
    "EmailParams",
    "EndParams",
    "EnterParams",
    "EnterResult",
    "EscalateParams",
    "FailedParams",
    "JOURNEY_GENERATION",
    "NoteParams",
    "PlanParams",
    "JourneyInput",
    "JourneyOutcome",
    "MessagesParams",
    "PluginParams",
    "SEND_DEFERRED",
    "SEND_HELD",
    "ScoreParams",
    "SetParams",
    "SnapshotParams",
    "TaskParams",
    "TaskStepParams",
    "deferred_result",
    "deferred_until",
    "journey_id",
]

# The journey workflow's generation: raised whenever a change to the workflow's code would not
# replay the histories of journeys already running (other commands, in another order). The
# workflow type carries it, so a journey always runs on the code of its own generation: workers
# of the previous release keep serving the journeys they started until those end, while new
# entries go to the new type (docs/operations.md, "Upgrading the engine").
JOURNEY_GENERATION = 3
WORKFLOW_NAME = f"journey.g{JOURNEY_GENERATION}"
SIGNAL_NAME = "notify"

# The errors of a send the operator holds (a pause, the send stop) or the relay's rate limit
# defers (`activities/send_gate.py`): their type, and as their details one mapping whose
# `retry_at` is the moment worth trying again (ISO 8601).
SEND_HELD, SEND_DEFERRED = "SendHeld", "SendDeferred"


# A send over the cap under `over the cap: defer` returns this prefix and the moment the cap next
# allows one (ISO 8601), instead of "sent" or "suppressed".
_DEFERRED = "deferred until "


def deferred_result(free_at: datetime) -> str:
    """The send activity's result for a send deferred over the cap until `free_at`."""
    return _DEFERRED + free_at.isoformat()


def deferred_until(result: object) -> datetime | None:
    """The moment a send's result defers it to; None when it was sent or suppressed."""
    if isinstance(result, str) and result.startswith(_DEFERRED):
        return datetime.fromisoformat(result.removeprefix(_DEFERRED))
    return None


def journey_id(playbook: str, account: str) -> str:
    """The workflow id of an account's journey in a playbook: one at a time per pair."""
    return f"journey/{playbook}/{account}"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JourneyInput(_Message):
    """Everything a journey needs, fixed at entry: the playbook's IR travels with it."""

    playbook: ir.Playbook
    version: str
    templates: dict[str, ir.Template] = {}
    policy: ir.Policy = ir.Policy()
    account: str
    entry_at: datetime
    reason: str
    event: str | None = None
    data: dict[str, Any] = {}
    clock_offset_seconds: float = 0.0  # server time minus timeline time (0 outside simulations)
    report_agenda: bool = False  # a simulation's timeline wants to know when the journey next acts
    horizon_seconds: float = 86400.0  # a step later than this when reached is skipped (`engine.semantics.time_rules`)
    origin: str | None = None  # the routing intent that started it (`change/position`): a repeat finds it


class JourneyOutcome(_Message):
    status: str  # completed | exited | goal_reached | failed
    reason: str = ""
    at: datetime


class ActionParams(_Message):
    """Fields every effect carries: who, where in the journey, when, and its idempotency key."""

    account: str
    playbook: str
    workflow_id: str
    key: str
    at: datetime


class EndParams(ActionParams):
    run_id: str
    status: str
    reason: str = ""
    decisions: list[Decision] = []  # logged before the end
    keys: list[str] = []


class EffectParams(ActionParams):
    """An effect's params: with the decisions the journey took since it last logged any, which the
    activity logs before it acts (so the log keeps their order). `sent_at` is the moment the
    journey really acts when that is later than `at` (a step run late): a send's cap is judged
    then, and the action records it; `at` stays the moment the rules gave it."""

    sent_at: datetime | None = None

    decisions: list[Decision] = []
    decision_keys: list[str] = []
    # The journey's end, when this effect is its last action (nothing can follow it): the
    # activity records it once the effect is done, instead of a `journey.end` of its own.
    end: EndParams | None = None


class ActivityOptions(_Message):
    """How one activity runs, as the worker's registry declares it."""

    timeout_seconds: float  # start-to-close: how long one attempt may take
    max_attempts: int  # attempts in all, the first one included
    # an attempt that has not reported it is alive for this long is taken as lost and retried
    # (a killed worker's call then retries in seconds, not after the whole timeout); None: no limit
    heartbeat_seconds: float | None = None
    backoff_seconds: float = 1.0  # the wait before the second attempt, doubling after each one
    max_backoff_seconds: float = 60.0  # the longest wait between two attempts


class EnterParams(ActionParams):
    run_id: str
    version: str
    reason: str
    activities: list[str] = []  # the activities whose options the journey asks for


class EnterResult(_Message):
    """What a journey learns as it enters: the account at the entry, and how its activities run."""

    snapshot: Snapshot
    options: dict[str, ActivityOptions] = {}
    # The worker records the journey's end with its last effect (`EffectParams.end`). Recorded
    # in the history with the entry, so a journey that entered before workers did so replays
    # with the `journey.end` it had.
    end_with_last_effect: bool = False
    # It sends a run of in-app messages in one activity (`message.send_all`), recorded likewise.
    in_app_runs: bool = False


class FailedParams(EffectParams):
    step: str
    error: str
    activity: str = ""  # the activity that failed
    attempts: int | None = None  # how many attempts it had, when known


class NoteParams(_Message):
    """The journey's bookkeeping before it waits: decisions to log and, in a simulation, its new
    plan: the moments it may next act at, in order (empty: the plan stays as it was)."""

    workflow_id: str
    account: str
    decisions: list[Decision] = []
    keys: list[str] = []
    plan: list[datetime] = []


class SnapshotParams(_Message):
    account: str
    at: datetime
    task_ids: list[str] = []


class EmailParams(EffectParams):
    channel: str  # email | in_app
    template: ir.Template
    to: list[str] = []  # contact field path (email only)
    cap_count: int | None = None
    cap_seconds: int | None = None
    event: str | None = None
    data: dict[str, Any] = {}
    playbook_title: str = ""
    snapshot: str | None = None  # the token of the journey's snapshot as of `at` (`Snapshot.token`)
    defer_over_cap: bool = False  # `over the cap: defer`: over the cap, wait for the next slot (not drop)
    sender: list[str] = []  # `from csm`: the owner field path it goes out from (`activities.sender_identity`)
    draft: str | None = None  # a reviewed email: the draft it sends as decided (or drops), not a new rendering


class DraftParams(EmailParams):
    """`send email … review by csm within 1 business day then send`: render the email and keep it as
    a draft for the owner at `reviewer` until `review_by`; with `withdraw`, take back the draft kept
    under this key (the journey ended before anyone answered)."""

    reviewer: list[str]  # an owner field path
    review_by: datetime
    policy: Literal["send", "drop"]
    withdraw: bool = False
    reason: str | None = None  # why it was withdrawn


class MessagesParams(_Message):
    """A run of in-app messages of one step, at one moment: sent in order by one activity."""

    messages: list[EmailParams]


class TaskStepParams(_Message):
    title: str  # a template string
    due: datetime | None = None


class TaskParams(EffectParams):
    title: str  # a template string
    owner: list[str]
    due: datetime | None
    priority: str
    playbook_title: str = ""
    task_type: str | None = None
    reason: str | None = None
    description: str | None = None  # a template string
    checklist: list[TaskStepParams] = []
    dedupe: bool = False  # one open item per account, type and reason
    assign: str | None = None  # round_robin | least_loaded: `owner` is [team]
    path: str | None = None  # the statement, for the decision that assigns it


class EscalateParams(EffectParams):
    """A work item's SLA at `at`: `overdue` records it overdue (past its due time or snooze) unless
    it is done by then; `escalate` hands it to the owner at `to` (`escalate to manager after ...`)."""

    task: str
    stage: Literal["overdue", "escalate"]
    to: list[str]  # an owner field path: ["csm", "manager"]


class PlanParams(EffectParams):
    """A success plan's progress at `at`, to log (and, for a milestone reached or a status changed,
    to route as the event of that name): `started`, `reached`, `late`, `status`, `ended`."""

    plan: str
    what: Literal["started", "reached", "late", "status", "ended"]
    data: dict[str, Any] = {}
    clock_offset_seconds: float = 0.0


class SetParams(EffectParams):
    field: str
    value: Any
    clock_offset_seconds: float = 0.0


class ScoreParams(EffectParams):
    score: str
    clock_offset_seconds: float = 0.0


class PluginParams(EffectParams):
    activity: str
    params: dict[str, Any] = {}
    run_id: str = ""  # the journey's run, and the step's path in its playbook (`day 0/1`)
    step: str = ""

