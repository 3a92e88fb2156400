"""A journey's drafted emails: `send email check_in to primary_contact from csm review by csm within
1 business day then send`.

The email is rendered and kept as a draft for the reviewer (`message.draft`); the journey waits at
that statement for the reviewer's answer (approve, edit or discard: the API signals it) or the
deadline (`within`, in the account's time: business days skip weekends), whichever comes first,
and then sends the draft as decided, or, unanswered, as its policy says (`then send` or `then
drop`); an answer in quiet hours or outside the send window goes when they allow. It waits on the
signal, never polls; the store decides between a last-second answer and
the deadline, so only one of them wins. An exit or goal while it waits withdraws the draft.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

import dsl.ir as ir
from engine.semantics import calendar
from engine.workflows.effects import MESSAGE_DRAFT
from engine.workflows.journey_calls import JourneyCalls
from engine.workflows.journey_state import JourneyState
from engine.workflows.payloads import DraftParams, EmailParams

__all__ = ["Reviews"]


class Reviews:
    def __init__(self, state: JourneyState, calls: JourneyCalls) -> None:
        self._state, self._calls = state, calls
        self.settled_at: datetime | None = None  # when the last review was answered or ran out

    async def review(self, review: ir.Review, email: EmailParams, path: str, timezone: str,
                     hold: Callable[[datetime], datetime | None]) -> EmailParams | None:
        """Draft `email` (the send of statement `path`) for its reviewer and wait for the answer or
        the deadline: the send of the draft as decided, at the moment it was (later when `hold`
        says quiet hours or the send window hold it then), or None when no
        draft was made (the recipient cannot be mailed, the reviewer is missing) or the journey
        ended first (the draft withdrawn)."""
        state = self._state
        deadline = calendar.add_duration(email.at, review.within, timezone)
        params = email.model_dump(exclude={"decisions", "decision_keys"})
        draft = await self._calls.call(MESSAGE_DRAFT, DraftParams(  # the decisions taken so far go with it
            **params, decisions=email.decisions, decision_keys=email.decision_keys, reviewer=list(review.by),
            review_by=deadline, policy=review.then))
        draft_id = draft.get("draft") if isinstance(draft, dict) else None
        if not isinstance(draft_id, str):
            return None
        if draft.get("state", "pending") != "pending":  # tried again (a deferred send): decided already
            return email.model_copy(update={**self._calls.effect(path, email.at), "draft": draft_id})
        state.sla_moments[path] = deadline
        remaining = (deadline - state.now()).total_seconds()
        if remaining > 0 and draft_id not in state.drafts_decided:
            await self._calls.note(deadline)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: draft_id in state.drafts_decided or state.ended_by(deadline),
                    timeout=timedelta(seconds=remaining))
        state.sla_moments.pop(path, None)
        answered = state.drafts_decided.get(draft_id)
        moment = max(min(answered, deadline) if answered is not None else deadline, email.at)
        until = hold(moment)  # answered at night: it goes when quiet hours and the send window allow
        if until is not None and until > moment and not state.ended_by(moment):
            remaining = (until - state.now()).total_seconds()
            if remaining > 0:
                await self._calls.note(until)
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: state.ended_by(until), timeout=timedelta(seconds=remaining))
            moment = until
        self.settled_at = moment
        if state.ended_by(moment):
            ending = state.ending
            await self._calls.call(MESSAGE_DRAFT, DraftParams(
                **{**params, "at": ending.at if ending else moment}, reviewer=list(review.by), review_by=deadline,
                policy=review.then, withdraw=True, reason=f"the journey ended: {ending.reason}" if ending else None))
            return None
        return email.model_copy(update={**self._calls.effect(path, moment), "draft": draft_id})
