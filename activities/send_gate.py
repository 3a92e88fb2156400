"""Whether a customer-facing send may go now: the operator's brakes and the relay's rate limit.

- `held_reason`, in the transaction that would record a message: with the send stop
  (`playbook pause --sends`) or its playbook paused (`playbook pause PLAYBOOK`) the send is held
  and nothing is recorded. A `held` action is logged once per step, with the reason;
- `take_relay_slot`, just before an email is handed to the relay: past the relay's send-rate
  limit (`PLAYBOOK_SMTP_MAX_SENDS` per `PLAYBOOK_SMTP_SEND_WINDOW_SECONDS`, one window shared by
  every worker through the store) the send is deferred to the moment a slot frees up. A
  `deferred` action is logged once per step, with that moment.

Either way the activity raises `SendHeld` / `SendDeferred`, which are retryable: Temporal tries
the step again with backoff (at most a minute apart), and the attempt after the resume, or after
the slot frees up, sends it. Nothing is lost and nothing is sent twice (the step's key).
The error carries `retry_at`, the moment worth trying again, in its details (for a workflow that
waits for it rather than backing off: `engine/workflows/payloads.py`, `SEND_HELD`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.exceptions import ApplicationError

from activities.context import ActivityContext
from engine.records import ActionRecord
from engine.settings import Settings
from engine.workflows.payloads import SEND_DEFERRED, SEND_HELD, EmailParams

__all__ = ["HOLD_RECHECK", "SendDeferred", "SendHeld", "held_reason", "hold_if_stopped", "send_rate", "take_relay_slot"]

HOLD_RECHECK = timedelta(minutes=1)  # how soon a held send is worth trying again


class SendHeld(ApplicationError):
    """The operator stopped this send for now (a pause, the send stop): try again later.

    Its type names it to the journey, and its details say when: `{"retry_at": <ISO 8601>}`."""

    error_type = SEND_HELD

    def __init__(self, reason: str, retry_at: datetime) -> None:
        moment = retry_at.isoformat(timespec="seconds")
        super().__init__(f"held: {reason}; try again from {moment}", {"retry_at": moment}, type=self.error_type)
        self.reason = reason
        self.retry_at = retry_at


class SendDeferred(SendHeld):
    """The relay's send-rate limit is reached: the send waits for a free slot."""

    error_type = SEND_DEFERRED


def send_rate(settings: Settings) -> tuple[int, timedelta] | None:
    """The relay's send-rate limit of `settings` (messages, window), or None for none."""
    if settings.smtp_max_sends is None:
        return None
    return settings.smtp_max_sends, timedelta(seconds=settings.smtp_send_window_seconds)


def _log_once(ctx: ActivityContext, p: EmailParams, kind: str, data: dict[str, Any]) -> None:
    ctx.store.log_action(ActionRecord(at=p.at, account=p.account, playbook=p.playbook, kind=kind,
                                      data={"template": p.template.name, "channel": p.channel, **data},
                                      key=f"{kind}/{p.key}"))


def held_reason(ctx: ActivityContext, p: EmailParams, now: datetime | None = None) -> SendHeld | None:
    """The `SendHeld` to raise when the send stop or a pause of its playbook holds the send `p`
    (its `held` action logged), else None. Inside the transaction that records the send, so the
    send reads the brakes and records itself at once."""
    reason = ctx.store.send_hold(p.playbook)
    if reason is None:
        return None
    _log_once(ctx, p, "held", {"reason": reason})
    return SendHeld(reason, (now or datetime.now(UTC)) + HOLD_RECHECK)


def hold_if_stopped(ctx: ActivityContext, p: EmailParams, now: datetime | None = None) -> None:
    """Raise `SendHeld` when the send stop or a pause of its playbook holds the send `p`."""
    held = held_reason(ctx, p, now)
    if held is not None:
        raise held


def take_relay_slot(ctx: ActivityContext, p: EmailParams, now: datetime | None = None) -> None:
    """Take a slot of the relay's send-rate window for `p`, or raise `SendDeferred` with when one frees up."""
    if ctx.send_rate is None:
        return
    moment = now or datetime.now(UTC)
    count, window = ctx.send_rate
    free_at = ctx.store.take_send_slot(moment, count, window)
    if free_at is not None:
        _log_once(ctx, p, "deferred", {"reason": f"the relay's limit of {count} messages per "
                                                  f"{window.total_seconds():g} s is reached",
                                       "until": free_at.isoformat()})
        raise SendDeferred(f"the relay's send-rate limit ({count} per {window.total_seconds():g} s)", free_at)
