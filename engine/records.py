"""Records that cross the engine's boundaries: between ingestion, the store, the router, the
journey workflow and the activities.

They are pydantic models so they travel through Temporal's pydantic data converter unchanged and
land in workflow histories as plain JSON. Times are timezone-aware UTC datetimes in the
*timeline's* time (for a simulation, the timeline's own clock; in production, wall time).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActionRecord",
    "Change",
    "Decision",
    "DraftRecord",
    "DraftState",
    "IngestResult",
    "Intent",
    "JourneySignal",
    "Rejection",
    "ScoreState",
    "STRUCTURED_FIELDS",
    "Snapshot",
    "StartJourney",
    "TaskBinding",
    "TaskRecord",
    "TaskStep",
]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Change(_Record):
    """One accepted input object, as stored: a trait update, an event, or both.

    `traits` holds only the fields whose value changed (new values); `previous` their old values
    (absent key: the field was missing before). `seq` is the store's insertion order. The store
    applies the reserved events in the same transaction (`task_completed` closes tasks, listed in
    `closed_tasks`; `unsubscribed` and `bounced` suppress `data.email`).
    """

    seq: int
    event_id: str | None = None
    account: str
    at: datetime
    event: str | None = None
    data: dict[str, Any] = {}
    traits: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    # "ingest"; "backfill": history, which starts and signals no journey; "playbook:<id>": a `set`
    source: str = "ingest"
    closed_tasks: list[str] = []  # ids of the tasks a `task_completed` event closed, when stored
    received_at: datetime | None = None  # when the engine stored it (its arrival moment)

    @property
    def is_history(self) -> bool:
        """Back-fill: it updates fields and scores but starts, signals and sends nothing."""
        return self.source == "backfill"


class Rejection(_Record):
    line: int
    reason: str


class IngestResult(_Record):
    accepted: list[Change] = []
    duplicates: int = 0
    rejected: list[Rejection] = []
    backfill: int = 0  # accepted objects stored as history (back-fill): they trigger nothing


class ScoreState(_Record):
    """A score as it stands: `value`/`band` None when unscored, with the missing inputs."""

    name: str
    value: float | None = None
    band: str | None = None
    breakdown: dict[str, float] = {}
    missing: list[str] = []


class TaskStep(_Record):
    """A step of a task's checklist: its title (rendered), when it is due, when it was ticked."""

    title: str
    due: datetime | None = None
    done_at: datetime | None = None


class TaskBinding(_Record):
    """A journey bound to a deduped work item another journey opened: it waits on that item."""

    playbook: str | None
    journey: str | None
    key: str  # the idempotency key of its `create task`
    at: datetime


class TaskRecord(_Record):
    id: str
    account: str
    playbook: str | None
    title: str
    owner: str
    due: datetime | None
    priority: str
    status: Literal["open", "done"] = "open"
    created_at: datetime
    completed_at: datetime | None = None
    task_type: str | None = None  # one of the folder's `task types`
    reason: str | None = None
    description: str | None = None  # rendered
    checklist: list[TaskStep] = []
    outcome: str | None = None  # how it was closed
    bound: list[TaskBinding] = []  # the journeys bound to it after the one that opened it
    team: str | None = None  # the team it was assigned among (`for smb_csms by round robin`)
    snoozed_until: datetime | None = None  # not overdue before then
    snooze_reason: str | None = None
    escalated_to: str | None = None  # overdue past its SLA: handed to this owner (`escalate to manager …`)
    escalated_at: datetime | None = None

    def waiting_playbooks(self) -> list[str]:
        """The playbooks whose journeys wait on this task: the one that opened it, then those bound to it."""
        found = [self.playbook, *(binding.playbook for binding in self.bound)]
        return list(dict.fromkeys(playbook for playbook in found if playbook))


DraftState = Literal["pending", "approved", "edited", "discarded", "sent_unreviewed", "dropped_unreviewed",
                     "withdrawn"]


class DraftRecord(_Record):
    """An email kept for a person's review before it goes (`send email … review by csm within …`):
    rendered when drafted, sent as approved (or edited), or discarded; unanswered by `review_by`,
    sent or dropped as its `policy` says."""

    id: str
    key: str  # the send's idempotency key
    account: str
    playbook: str | None
    journey: str | None  # the workflow id of the journey waiting on it
    template: str
    to: str
    to_name: str = ""
    subject: str
    text: str
    html: str | None = None
    reviewer: str  # an email address
    review_by: datetime
    policy: Literal["send", "drop"]
    state: DraftState = "pending"
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None  # why it was discarded

    @property
    def goes_out(self) -> bool:
        """Whether, decided or settled, it is sent."""
        return self.state in ("approved", "edited", "sent_unreviewed")


class Snapshot(_Record):
    """What a journey may read about an account at a moment: the input of every decision.

    `events` lists (name, at) of the account's events up to `at`, newest last, so that `seen`
    and metrics are pure functions of the snapshot.
    """

    account: str
    at: datetime
    fields: dict[str, Any] = {}
    scores: dict[str, ScoreState] = {}
    metrics: dict[str, float] = {}
    events: list[tuple[str, datetime]] = []
    timezone: str = "UTC"
    tasks: dict[str, TaskRecord] = {}  # this journey's tasks by id
    # Set by the worker that read it (`activities/snapshot_cache.py`): an effect of the same journey
    # at the same moment hands it back, and that worker answers from memory instead of re-reading.
    token: str | None = None


class ActionRecord(_Record):
    """One line of the action log (docs/events-and-actions.md, "Actions out").

    `data` holds the kind's own keys (`template`, `to`, `subject`, `title`, `owner`, `due`,
    `priority`, `reason`, …). `key` is the idempotency key: the store records an action once.
    """

    at: datetime
    account: str
    playbook: str | None = None
    kind: str
    data: dict[str, Any] = {}
    key: str | None = None

    def to_contract(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "at": self.at.isoformat(),
            "account": self.account,
            "playbook": self.playbook,
            "kind": self.kind,
        }
        for name, value in self.data.items():
            line[name] = value.isoformat() if isinstance(value, datetime) else value
        return line


class Decision(_Record):
    """Why something did or did not happen: logged as kind `decided`.

    Programs read the structured fields (`path`, `outcome`, `block`, `subject`, `until`,
    `reason`; which of them a kind sets: docs/events-and-actions.md, "The decision log"). `detail`
    is the same decision as one sentence for people, rendered by `engine.decision_text` and never
    read back. Decisions logged by releases before the structured fields carry `detail` alone.
    """

    at: datetime
    account: str
    playbook: str | None
    what: str  # "not_admitted", "already_active", "reentry_blocked", "branch", "split", ...
    detail: str = ""
    reads: dict[str, Any] = {}
    path: str | None = None  # the statement (or step) of the journey it is about: `day 7/0`
    outcome: str | None = None  # what came of it, per kind: `true`, `timeout`, an arm's label …
    block: str | None = None  # a branch's block that ran: then | else | none | skipped
    subject: str | None = None  # what it is about: the condition as written, a template, a field …
    until: datetime | None = None  # the moment it waits for (quiet hours, a held email, a re-entry)
    reason: str | None = None  # why, in the rule's own terms (an audience's unmet part, an exit …)

    def logged(self) -> dict[str, Any]:
        """The `decided` action's data: `what`, `detail`, `reads` and the structured fields set."""
        data: dict[str, Any] = {"what": self.what, "detail": self.detail, "reads": self.reads}
        for name in STRUCTURED_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = value.isoformat() if isinstance(value, datetime) else value
        return data


# The fields of a decision a program reads (an action's data has those the decision sets).
STRUCTURED_FIELDS = ("path", "outcome", "block", "subject", "until", "reason")


class StartJourney(_Record):
    kind: Literal["start"] = "start"
    playbook: str
    account: str
    entry_at: datetime
    reason: str  # "event signed", "health becomes red", "90 days before renewal_date"
    event: str | None = None
    data: dict[str, Any] = {}
    # The routing intent carried out (`change/position`), kept in the journey's input: a start repeated
    # after a crash finds its journey entered already (`JourneyStarter.started_by`)
    origin: str | None = None


class JourneySignal(_Record):
    """Something a running journey listens for: an event, a task done, a changed field."""

    kind: Literal["signal"] = "signal"
    playbook: str
    account: str
    at: datetime
    event: str | None = None
    data: dict[str, Any] = {}
    task_done: str | None = None  # a task id
    draft_decided: str | None = None  # a draft id: a person approved, edited or discarded it
    fields_changed: list[str] = []
    # Where a signal drained from the routing intents comes from: the routed change's seq and its
    # place among that change's intents. A journey ignores a signal at or before the last it heard
    # (one carried out again after a crash); None: told directly, always heard.
    change: int | None = None
    position: int = 0


Intent = StartJourney | JourneySignal


class RouteResult(_Record):
    intents: list[Intent] = Field(default_factory=list)
    actions: list[ActionRecord] = Field(default_factory=list)  # scores, decisions already logged
