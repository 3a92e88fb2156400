"""The activities a journey calls, by name: one table shared by the workflow and the registry.

Each effect of the IR runs as one activity (`send email` and `send in_app` as `message.send`, …;
`do X` as the plugin activity `X`), and the journey's own bookkeeping as a few more
(`journey.enter`, …). The journey calls them by these names and the built-in activities
(`activities/builtin.py`) register under the very same names with the params models listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

import dsl.ir as ir
from engine.workflows.payloads import (
    DraftParams,
    EffectParams,
    EmailParams,
    EndParams,
    EnterParams,
    EscalateParams,
    FailedParams,
    MessagesParams,
    NoteParams,
    PlanParams,
    PluginParams,
    ScoreParams,
    SetParams,
    SnapshotParams,
    TaskParams,
)

__all__ = [
    "BOOKKEEPING",
    "BUILTIN_PARAMS",
    "EFFECTS",
    "FIELD_SET",
    "JOURNEY_END",
    "JOURNEY_ENTER",
    "JOURNEY_FAILED",
    "JOURNEY_NOTE",
    "JOURNEY_SNAPSHOT",
    "MESSAGE_DRAFT",
    "MESSAGE_SEND",
    "MESSAGE_SEND_ALL",
    "PLAN_PROGRESS",
    "SCORE_UPDATE",
    "TASK_CREATE",
    "TASK_ESCALATE",
    "Effect",
    "effect_activities",
    "effect_of",
]

MESSAGE_SEND = "message.send"
MESSAGE_SEND_ALL = "message.send_all"  # a run of in-app messages (`engine/workflows/in_app_runs.py`)
PLAN_PROGRESS = "plan.progress"  # `start plan X`: a success plan's milestones and status
MESSAGE_DRAFT = "message.draft"  # `send email … review by csm …`: the draft a person approves first
TASK_CREATE = "task.create"
TASK_ESCALATE = "task.escalate"  # a work item's SLA: overdue, then escalated
FIELD_SET = "field.set"
SCORE_UPDATE = "score.update"

JOURNEY_ENTER = "journey.enter"
JOURNEY_SNAPSHOT = "journey.snapshot"
JOURNEY_NOTE = "journey.note"
JOURNEY_END = "journey.end"
JOURNEY_FAILED = "journey.failed"

# The journey's bookkeeping whose options it asks for as it enters (with `journey.failed`).
BOOKKEEPING = (JOURNEY_SNAPSHOT, JOURNEY_NOTE, JOURNEY_END)


@dataclass(frozen=True)
class Effect:
    """The activity an effect statement runs as, and the params it takes."""

    activity: str
    params: type[EffectParams]


EFFECTS: dict[type[ir.Statement], Effect] = {
    ir.SendEmail: Effect(MESSAGE_SEND, EmailParams),
    ir.SendInApp: Effect(MESSAGE_SEND, EmailParams),
    ir.CreateTask: Effect(TASK_CREATE, TaskParams),
    ir.SetField: Effect(FIELD_SET, SetParams),
    ir.UpdateScore: Effect(SCORE_UPDATE, ScoreParams),
}

# The params model of every built-in activity the journey calls, by name.
BUILTIN_PARAMS: dict[str, type[BaseModel]] = {
    **{effect.activity: effect.params for effect in EFFECTS.values()},
    JOURNEY_ENTER: EnterParams,
    JOURNEY_SNAPSHOT: SnapshotParams,
    JOURNEY_NOTE: NoteParams,
    JOURNEY_END: EndParams,
    JOURNEY_FAILED: FailedParams,
    MESSAGE_SEND_ALL: MessagesParams,
    TASK_ESCALATE: EscalateParams,
    MESSAGE_DRAFT: DraftParams,
    PLAN_PROGRESS: PlanParams,
}


def effect_of(statement: ir.Statement) -> Effect | None:
    """The activity an effect statement runs as; None for a statement that is no effect."""
    if isinstance(statement, ir.Do):
        return Effect(statement.activity, PluginParams)
    return EFFECTS.get(type(statement))


def effect_activities(playbook: ir.Playbook) -> list[str]:
    """The activities a playbook's statements may call, in a stable order."""
    names: set[str] = set()

    def walk(body: tuple[ir.Statement, ...]) -> None:
        for statement in body:
            if isinstance(statement, ir.If):
                walk(statement.then)
                walk(statement.otherwise)
            elif isinstance(statement, ir.Split):
                if statement.record_as is not None:
                    names.add(FIELD_SET)  # `record arm as FIELD` sets it
                for arm in statement.arms:
                    walk(arm.body)
            elif isinstance(statement, ir.StartPlan):
                names.add(PLAN_PROGRESS)
            elif (effect := effect_of(statement)) is not None:
                names.add(effect.activity)
                if isinstance(statement, ir.CreateTask) and statement.escalation is not None:
                    names.add(TASK_ESCALATE)
                if isinstance(statement, ir.SendEmail) and statement.review is not None:
                    names.add(MESSAGE_DRAFT)
                if isinstance(statement, ir.Do):
                    walk(statement.otherwise)

    for step in playbook.steps:
        walk(step.body)
    return sorted(names)
