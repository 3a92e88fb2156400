"""Runs of in-app messages: consecutive `send in_app` statements of one block go out together.

An onboarding step often shows several in-app messages at once. Sent one by one, each is an
activity of its own and a round trip through Temporal; a *run* of them (two or more in a row,
nothing between them) goes in one activity, `message.send_all`, which sends each in order as
`message.send` would, under the key of its own statement, after logging the decisions taken
before it. The action log, `why` and `stats` read the same as for the messages one by one.

A message that fails for good stops the run there: the journey sends it and the ones after it
each on its own (`message.send`, recording the failure as for any send; those the run sent are
found under their keys and not sent twice). A run the operator's brakes hold waits for them to
lift as a single send does. A worker that does not send runs (it did not say so as the journey
entered: `EnterResult.in_app_runs`) gets the messages one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import dsl.ir as ir
from engine.workflows.decision_log import DecisionLog
from engine.workflows.journey_calls import JourneyCalls
from engine.workflows.journey_state import JourneyState
from engine.workflows.payloads import EmailParams

__all__ = ["InAppRuns", "message_params"]


def message_params(state: JourneyState, calls: JourneyCalls, st: ir.SendEmail | ir.SendInApp, path: str,
                   at: datetime, to: tuple[str, ...], *, last: bool = False) -> EmailParams:
    """The params of one message of `st` at `path` to `to` (an email's contact field; () in-app),
    with the decisions taken so far; with `last`, the journey's end travels with it."""
    inp = state.inp
    channel = "email" if isinstance(st, ir.SendEmail) else "in_app"
    transactional = channel == "email" and inp.playbook.send_policy == "transactional"
    cap = None if transactional else next((c for c in inp.policy.caps if c.channel == channel), None)
    cached = state.snapshot  # the account as the journey read it at this moment, if unchanged since
    token = cached.token if cached is not None and cached.at == at and state.changed_at is None else None
    return EmailParams(
        **calls.effect(path, at, last=last), channel=channel, template=inp.templates[st.template], to=list(to),
        sender=list(st.sender) if isinstance(st, ir.SendEmail) else [],
        cap_count=cap.count if cap else None, cap_seconds=cap.per.seconds() if cap else None,
        event=inp.event, data=inp.data, playbook_title=inp.playbook.title, snapshot=token,
        defer_over_cap=cap is not None and channel == "email" and inp.policy.over_cap == "defer")


class InAppRuns:
    def __init__(self, state: JourneyState, calls: JourneyCalls, log: DecisionLog) -> None:
        self._state, self._calls, self._log = state, calls, log

    def length(self, body: tuple[ir.Statement, ...], index: int) -> int:
        """How many `send in_app` statements follow in a row from `body[index]` when they make a
        run (two or more, on a worker that sends runs); 0 otherwise."""
        if not self._calls.in_app_runs:
            return 0
        end = index
        while end < len(body) and isinstance(body[end], ir.SendInApp):
            end += 1
        return end - index if end - index > 1 else 0

    async def send(self, body: tuple[ir.Statement, ...], path: str, first: int, cursor: datetime,
                   last: Callable[[str], bool]) -> None:
        """Send the run `body[first:]` (statements at `path/first`, ...) at `cursor`; the journey's
        end travels with a message when `last` says it is the journey's last action."""
        messages: list[EmailParams] = []
        for index, st in enumerate(body[first:], start=first):
            assert isinstance(st, ir.SendInApp)
            self._log.restart_count()  # the decisions so far go with this message
            here = f"{path}/{index}"
            messages.append(message_params(self._state, self._calls, st, here, cursor, (), last=last(here)))
        await self._calls.send_all(messages)
