"""The built-in activities, registered through the same entry-point path as any plugin."""

from __future__ import annotations

from datetime import timedelta

from activities.drafting import draft_message
from activities.escalation import escalate_task
from activities.fields import set_field, update_score
from activities.journey_ops import end_journey, enter_journey, note_journey, record_failure, take_snapshot
from activities.message_runs import send_messages
from activities.plan_progress import plan_progress
from activities.registry import ActivitySpec, Registry
from activities.rendering import RenderError
from activities.sending import send_message
from activities.smtp_mailer import PermanentDeliveryError
from activities.tasks import OwnerMissing, create_task
from activities.time_triggers import next_due, run_due, scheduler_cursor
from activities.timeline_ops import advance
from engine.records import Snapshot
from engine.workflows.effects import (
    BUILTIN_PARAMS,
    FIELD_SET,
    JOURNEY_END,
    JOURNEY_ENTER,
    JOURNEY_FAILED,
    JOURNEY_NOTE,
    JOURNEY_SNAPSHOT,
    MESSAGE_DRAFT,
    MESSAGE_SEND,
    MESSAGE_SEND_ALL,
    PLAN_PROGRESS,
    SCORE_UPDATE,
    TASK_CREATE,
    TASK_ESCALATE,
)
from engine.workflows.timeline import AdvanceParams, DueParams, NextDueParams

__all__ = ["register"]

_ = Snapshot

# The journey's bookkeeping runs as local activities: short, so a short timeout.
BOOKKEEPING = timedelta(seconds=30)


def register(registry: Registry) -> None:
    def internal(name: str, fn: object, params: type, description: str, **options: object) -> None:
        registry.add(ActivitySpec(name=name, fn=fn, params=params, description=description,  # type: ignore[arg-type]
                                  internal=True, **options))  # type: ignore[arg-type]

    def journey(name: str, fn: object, description: str, **options: object) -> None:
        """An activity the journey calls by `name` (`engine/workflows/effects.py`), with its params."""
        internal(name, fn, BUILTIN_PARAMS[name], description, **options)

    journey(JOURNEY_ENTER, enter_journey, "Record an account entering a playbook; read the account as of the entry.",
            timeout=BOOKKEEPING)
    journey(JOURNEY_END, end_journey,
            "Record a journey's end (completed, exited or goal reached) after its last decisions.",
            timeout=BOOKKEEPING)
    journey(JOURNEY_NOTE, note_journey, "Log the decisions a journey took; in a simulation, note when it next acts.",
            timeout=BOOKKEEPING)
    journey(JOURNEY_SNAPSHOT, take_snapshot, "Read an account as of a moment.", timeout=BOOKKEEPING)
    journey(JOURNEY_FAILED, record_failure, "Log a step that failed for good.")
    journey(MESSAGE_SEND, send_message, "Send an email or in-app message under the send policy.",
            permanent_errors=(RenderError, PermanentDeliveryError))
    journey(MESSAGE_SEND_ALL, send_messages,
            "Send a run of in-app messages of one step, in order (each as message.send would).")
    journey(MESSAGE_DRAFT, draft_message, "Keep an email as a draft for an owner's review before it goes.",
            permanent_errors=(RenderError, OwnerMissing))
    journey(TASK_CREATE, create_task, "Open a task for the account's owner.",
            permanent_errors=(RenderError, OwnerMissing))
    journey(TASK_ESCALATE, escalate_task, "Mark an open work item overdue, then escalate it (its SLA).")
    journey(PLAN_PROGRESS, plan_progress, "Log a success plan's progress; route a milestone reached, a status changed.")
    journey(FIELD_SET, set_field, "Set an account field from a playbook.", permanent_errors=(ValueError,))
    journey(SCORE_UPDATE, update_score, "Recompute an account's score now.")
    internal("timeline.advance", advance, AdvanceParams,
             "Take a simulation's events and time triggers up to a moment; say what comes next.",
             timeout=timedelta(minutes=10))
    internal("triggers.due", run_due, DueParams, "Fire the time-based triggers due in a window.",
             timeout=timedelta(minutes=10))
    internal("triggers.next_due", next_due, NextDueParams, "When the next time-based trigger is due.")
    internal("triggers.cursor", scheduler_cursor, NextDueParams, "Where the scheduler of time triggers stopped.")
