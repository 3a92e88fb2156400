"""The messages a journey workflow exchanges with Temporal and its activities.

Kept apart from the workflow so activities, the starter and tests can import them without the
workflow's sandbox concerns. Every model is plain pydantic and travels as JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

import dsl.ir as ir
from engine.records import Decision

__all__ = [
    "ActionParams",
    "AgendaParams",
    "DecisionBatch",
    "EmailParams",
    "EndParams",
    "EnterParams",
    "FailedParams",
    "JourneyInput",
    "JourneyOutcome",
    "PluginParams",
    "ScoreParams",
    "SetParams",
    "SnapshotParams",
    "TaskParams",
    "journey_id",
]

WORKFLOW_NAME = "journey"
SIGNAL_NAME = "notify"


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


class EnterParams(ActionParams):
    run_id: str
    version: str
    reason: str


class EndParams(ActionParams):
    run_id: str
    status: str
    reason: str = ""


class FailedParams(ActionParams):
    step: str
    error: str


class AgendaParams(_Message):
    workflow_id: str
    at: datetime | None  # when the journey next acts; None when it has ended


class SnapshotParams(_Message):
    account: str
    at: datetime
    task_ids: list[str] = []


class EmailParams(ActionParams):
    channel: str  # email | in_app
    template: ir.Template
    to: list[str] = []  # contact field path (email only)
    cap_count: int | None = None
    cap_seconds: int | None = None
    event: str | None = None
    data: dict[str, Any] = {}
    playbook_title: str = ""


class TaskParams(ActionParams):
    title: str  # a template string
    owner: list[str]
    due: datetime | None
    priority: str
    playbook_title: str = ""


class SetParams(ActionParams):
    field: str
    value: Any
    clock_offset_seconds: float = 0.0


class ScoreParams(ActionParams):
    score: str
    clock_offset_seconds: float = 0.0


class PluginParams(ActionParams):
    activity: str
    params: dict[str, Any] = {}


class DecisionBatch(_Message):
    decisions: list[Decision]
    keys: list[str]
