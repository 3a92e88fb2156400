"""Conditions on events: whether an event a journey heard is the one its exit, goal or wait names.

`exit: event ticket_closed where priority == "p1"`, `goal: event nps_response where score >= 7`,
`wait until event nps_response where score >= 7 or 3 days`: the condition reads the event's
payload keys first, then the account as it stood at the event's moment. A condition that reads
only the payload is judged from the signal alone; one that reads the account reads a snapshot at
the event's moment (one local activity). Exits and goals so named wait in `JourneyState.pending`
until the journey next looks (before each statement and whenever it waits): `judge` takes them in
the order they were heard, and an exit or goal it finds ends the journey at the event's moment.
"""

from __future__ import annotations

from datetime import datetime

import dsl.ir as ir
from dsl.ir_expressions import parts
from dsl.ir_text import describe_event_match
from engine.records import JourneySignal, Snapshot
from engine.semantics import evaluator
from engine.workflows.journey_calls import JourneyCalls
from engine.workflows.journey_state import Ended, JourneyState

__all__ = ["EventJudge", "reads_account"]

_PAYLOAD_ONLY = (ir.Literal_, ir.EventField, ir.Compare, ir.Logic, ir.Not, ir.Arith, ir.PercentOf, ir.CountTrue)


def reads_account(expr: ir.Expr) -> bool:
    """Whether `expr` reads anything beyond an event's payload and literals."""
    return not all(isinstance(node, _PAYLOAD_ONLY) for node in parts(expr))


class EventJudge:
    def __init__(self, state: JourneyState, calls: JourneyCalls) -> None:
        self._state, self._calls = state, calls

    async def holds(self, where: ir.Expr | None, signal: JourneySignal) -> bool:
        """Whether the event meets the condition on it (none: every such event does)."""
        if where is None:
            return True
        state = self._state
        if reads_account(where):
            snap = await self._calls.snapshot(max(signal.at, state.inp.entry_at))
        else:
            snap = Snapshot(account=state.inp.account, at=signal.at)
        value = evaluator.evaluate(where, snap, event_data=signal.data, entered_at=state.inp.entry_at)
        return evaluator.truthy(value)

    async def judge(self) -> None:
        """Judge the events heard that an exit or goal names with a condition, in the order heard."""
        state = self._state
        playbook = state.inp.playbook
        while state.pending:
            signal = state.pending.pop(0)
            if state.ending is not None and state.ending.at <= signal.at:
                continue  # the journey had ended by then
            event = str(signal.event)
            ended: Ended | None = None
            for rule in playbook.exits:
                if rule.event == event and await self.holds(rule.where, signal):
                    ended = Ended("exited", describe_event_match(event, rule.where), signal.at)
                    break
            where = playbook.goal_where.get(event)
            if ended is None and where is not None and await self.holds(where, signal):
                ended = Ended("goal_reached", describe_event_match(event, where), signal.at)
            if ended is not None:
                state.end(ended)

    def unjudged_by(self, moment: datetime) -> bool:
        """Whether an event dated at or before `moment` still waits to be judged."""
        return any(signal.at <= moment for signal in self._state.pending)
