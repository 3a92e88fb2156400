"""The journey workflow: one generic interpreter that runs any playbook's IR for one account.

A journey is started per (playbook, account) with the playbook's IR in its input, so it keeps the
version it entered with. It reads the clock only through Temporal, reads account data only
through the `journey.snapshot` activity, evaluates every condition as a pure function of those
snapshots, and performs every effect through an activity whose idempotency key is
`<workflow id>/<run id>/<step path>`.

The interpreter itself is `journey_interpreter.py` (the control flow), composed of small parts
by concept (its state, decision log, simulation agenda, activity calls, clock and held emails).
They are deterministic by construction and imported *passed through* the workflow sandbox: the
sandbox re-imports only this small module for each journey, not the interpreter.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from engine.records import JourneySignal
    from engine.workflows.journey_interpreter import JourneyInterpreter
    from engine.workflows.payloads import SIGNAL_NAME, WORKFLOW_NAME, JourneyInput, JourneyOutcome

__all__ = ["JourneyWorkflow"]


@workflow.defn(name=WORKFLOW_NAME)
class JourneyWorkflow:
    @workflow.init
    def __init__(self, inp: JourneyInput) -> None:
        self._journey = JourneyInterpreter(inp)

    @workflow.signal(name=SIGNAL_NAME)
    def notify(self, signal: JourneySignal) -> None:
        self._journey.notify(signal)

    @workflow.run
    async def run(self, inp: JourneyInput) -> JourneyOutcome:
        return await self._journey.run()
