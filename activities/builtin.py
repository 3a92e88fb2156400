"""The built-in activities, registered through the same entry-point path as any plugin."""

from __future__ import annotations

from datetime import timedelta

from activities.fields import set_field, update_score
from activities.journey_ops import end_journey, enter_journey, note_journey, record_failure, take_snapshot
from activities.messages import send_message
from activities.registry import ActivitySpec, Registry
from activities.rendering import RenderError
from activities.smtp_mailer import PermanentDeliveryError
from activities.tasks import OwnerMissing, create_task
from activities.time_triggers import next_due, run_due, scheduler_cursor
from activities.timeline_ops import advance
from engine.records import Snapshot
from engine.workflows.messages import (
    EmailParams,
    EndParams,
    EnterParams,
    FailedParams,
    NoteParams,
    ScoreParams,
    SetParams,
    SnapshotParams,
    TaskParams,
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

    internal("journey.enter", enter_journey, EnterParams,
             "Record an account entering a playbook; read the account as of the entry.", timeout=BOOKKEEPING)
    internal("journey.end", end_journey, EndParams,
             "Record a journey's end (completed, exited or goal reached) after its last decisions.",
             timeout=BOOKKEEPING)
    internal("journey.note", note_journey, NoteParams,
             "Log the decisions a journey took; in a simulation, note when it next acts.", timeout=BOOKKEEPING)
    internal("journey.snapshot", take_snapshot, SnapshotParams, "Read an account as of a moment.",
             timeout=BOOKKEEPING)
    internal("journey.failed", record_failure, FailedParams, "Log a step that failed for good.")
    internal("message.send", send_message, EmailParams,
             "Send an email or in-app message under the send policy.",
             permanent_errors=(RenderError, PermanentDeliveryError))
    internal("task.create", create_task, TaskParams, "Open a task for the account's owner.",
             permanent_errors=(RenderError, OwnerMissing))
    internal("field.set", set_field, SetParams, "Set an account field from a playbook.",
             permanent_errors=(ValueError,))
    internal("score.update", update_score, ScoreParams, "Recompute an account's score now.")
    internal("timeline.advance", advance, AdvanceParams,
             "Take a simulation's events and time triggers up to a moment; say what comes next.",
             timeout=timedelta(minutes=10))
    internal("triggers.due", run_due, DueParams, "Fire the time-based triggers due in a window.",
             timeout=timedelta(minutes=10))
    internal("triggers.next_due", next_due, NextDueParams, "When the next time-based trigger is due.")
    internal("triggers.cursor", scheduler_cursor, NextDueParams, "Where the scheduler of time triggers stopped.")
