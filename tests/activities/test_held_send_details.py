"""A held or deferred send names the moment worth trying again in its error's details, and the
journey reads it from there (never from the message)."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.exceptions import ActivityError, ApplicationError

from activities.send_gate import SendDeferred, SendHeld
from engine.workflows.journey_calls import held_until
from engine.workflows.payloads import SEND_DEFERRED, SEND_HELD

MOMENT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _failed(cause: BaseException) -> ActivityError:
    error = ActivityError("activity failed", scheduled_event_id=1, started_event_id=2, identity="worker",
                          activity_type="message.send", activity_id="1", retry_state=None)
    error.__cause__ = cause
    return error


def test_held_and_deferred_sends_carry_their_type_and_retry_moment_as_details() -> None:
    held, deferred = SendHeld("the send stop", MOMENT), SendDeferred("the relay's limit", MOMENT)
    assert (held.type, deferred.type) == (SEND_HELD, SEND_DEFERRED)
    assert held.details == deferred.details == ({"retry_at": "2026-01-05T09:30:00+00:00"},)
    assert held.retry_at == MOMENT and not held.non_retryable


def test_the_journey_reads_the_retry_moment_from_the_details_not_the_message() -> None:
    reworded = ApplicationError("held for a while", {"retry_at": MOMENT.isoformat()}, type=SEND_HELD)
    assert held_until(_failed(reworded)) == MOMENT
    assert held_until(_failed(ApplicationError("held; try again from 2026-01-05T09:30:00", type=SEND_HELD))) is None
    assert held_until(_failed(ApplicationError("no such template", type="RenderError"))) is False
