"""`message.send_all`: a run of in-app messages of one step, sent in order in one activity.

The journey sends consecutive in-app messages of a block together (`engine/workflows/in_app_runs.py`).
Each goes exactly as `message.send` would send it, under the key of its own statement, after the
decisions taken before it are logged; the journey's end, when it travels with the run's last
message, is recorded once that message is sent. A message that fails for good stops the run:
the activity answers with the outcomes of those before it, and the journey sends the rest one by
one (the failure recorded as for any send). A retried run finds the messages it sent under their
keys and does not send them twice; the operator's brakes hold the run as they hold one send.
"""

from __future__ import annotations

from activities.context import ActivityContext
from activities.journey_ops import end_journey, log_decisions
from activities.rendering import RenderError
from activities.sending import send_message
from activities.smtp_mailer import PermanentDeliveryError
from engine.workflows.payloads import MessagesParams

__all__ = ["send_messages"]


async def send_messages(p: MessagesParams, ctx: ActivityContext) -> list[str]:
    """The outcome of each message sent, in order; shorter when one failed for good."""
    outcomes: list[str] = []
    for message in p.messages:
        log_decisions(ctx, message.decisions, message.decision_keys)
        try:
            outcomes.append(await send_message(message, ctx))
        except (RenderError, PermanentDeliveryError):
            break  # the journey sends it on its own, where the failure is recorded
        if message.end is not None:
            await end_journey(message.end, ctx)
    return outcomes
