"""A journey's held emails: the ones that fell in quiet hours or outside the send window, or that
the cap deferred, each sent at its moment, in order.

An email that falls in quiet hours or outside the send window is *held*: it waits for the moment
both allow it on its own while the journey goes on (a task, a `set`, a score update or a plugin
call after it is not delayed); the journey's later emails queue behind it in order. An email over
the cap under `over the cap: defer` is held the same way until the cap's next slot. Each goes out
at its moment, quiet hours, the window and the cap judged again then (a slot taken meanwhile
defers it again). A journey that exits or reaches its goal before a held email's moment drops it,
recorded (`send_dropped`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow

import dsl.ir as ir
from engine.semantics import send_window
from engine.workflows.decision_log import DecisionLog
from engine.workflows.event_judge import EventJudge
from engine.workflows.journey_calls import JourneyCalls
from engine.workflows.journey_state import HeldEmail, JourneyState

__all__ = ["HeldEmails"]

Deliver = Callable[[ir.SendEmail, str, datetime], Awaitable[datetime | None]]


class HeldEmails:
    def __init__(self, state: JourneyState, calls: JourneyCalls, log: DecisionLog, deliver: Deliver,
                 judge: EventJudge) -> None:
        self._state, self._calls, self._log, self._deliver = state, calls, log, deliver
        self._judge = judge
        self._sending: asyncio.Task[None] | None = None
        self.last_sent_at = state.inp.entry_at  # the moment of the last held email sent

    @property
    def idle(self) -> bool:
        """No email was ever held: nothing goes out after the journey's last statement."""
        return self._sending is None

    def hold(self, held: HeldEmail) -> None:
        """Hold an email until its moment (behind the ones already held)."""
        emails = self._state.held
        if emails:
            held.until = max(held.until, emails[-1].until)
        emails.append(held)
        if self._sending is None or self._sending.done():
            self._sending = asyncio.create_task(self._send_all())

    async def finish(self) -> bool:
        """Wait until the held emails went out or stopped at an exit; False when none was ever held."""
        if self._sending is None:
            return False
        await self._sending
        return True

    async def _send_all(self) -> None:
        """Send the held emails in order, each at its moment (after quiet hours, judged again then);
        stop at an exit or goal dated at or before the next one's moment."""
        state = self._state
        policy = state.inp.policy
        while state.held:
            held = state.held[0]
            moment = held.until
            remaining = (moment - state.now()).total_seconds()
            if remaining > 0:
                await self._calls.note(moment)
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda at=moment: state.ended_by(at),  # type: ignore[misc]
                                                  timeout=timedelta(seconds=remaining))
            if self._judge.unjudged_by(moment):
                await self._judge.judge()  # an exit or goal with a condition, heard before this moment
            if state.ended_by(moment):
                return
            again = send_window.send_hold(max(moment, state.now()), held.timezone, policy, held.holidays)
            if again is not None:
                held.until = again.until
                continue
            deferred = await self._deliver(held.st, held.path, moment)
            if deferred is not None:  # the slot was taken meanwhile: the next one
                held.until = deferred
                continue
            state.held.pop(0)
            self.last_sent_at = moment

    def drop(self) -> None:
        """The journey ended before these held emails' moments: they are not sent, and say so."""
        ending = self._state.ending
        for held in self._state.held:
            self._log.decide(held.until, "send_dropped", held.path, {}, outcome="dropped", subject=held.st.template,
                             until=held.until, reason=ending.reason if ending else None,
                             ended_at=ending.at if ending else None)
        self._state.held.clear()
