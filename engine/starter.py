"""Carry out the router's intents on Temporal: start journeys, deliver signals to running ones.

One journey per (playbook, account): the workflow id is `journey/<playbook>/<account>` and a
start that finds one running fails on Temporal's side (`WorkflowAlreadyStartedError`), so two
triggers at the same moment, from two API calls or two workers, start one journey. That refusal
is logged as a decision. `reentry: never` also maps to Temporal's id reuse policy.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from dsl import ir
from engine.records import ActionRecord, Intent, JourneySignal, StartJourney
from engine.store import Store
from engine.workflows.messages import SIGNAL_NAME, WORKFLOW_NAME, JourneyInput, journey_id

__all__ = ["JourneyStarter"]

log = logging.getLogger(__name__)


class JourneyStarter:
    def __init__(self, client: Client, task_queue: str, store: Store, *, agenda: bool = False) -> None:
        self.client = client
        self.task_queue = task_queue
        self.store = store
        self.started: list[tuple[str, str]] = []  # (workflow id, run id) of every journey started here
        # With `agenda` (simulations): when each running journey next acts, as the journeys report it.
        self.agenda: dict[str, datetime] | None = {} if agenda else None

    async def execute(self, bundle: ir.Bundle, intents: list[Intent], clock_offset_seconds: float = 0.0) -> None:
        for intent in intents:
            if isinstance(intent, StartJourney):
                await self.start(bundle, intent, clock_offset_seconds)
            elif isinstance(intent, JourneySignal):
                await self.signal(intent)

    async def start(self, bundle: ir.Bundle, intent: StartJourney, clock_offset_seconds: float) -> bool:
        playbook = bundle.playbooks.get(intent.playbook)
        if playbook is None:
            return False
        inp = JourneyInput(
            playbook=playbook,
            version=bundle.versions.get(playbook.id, playbook.content_hash(bundle)),
            templates={name: bundle.templates[name] for name in playbook.templates if name in bundle.templates},
            policy=bundle.policy,
            account=intent.account,
            entry_at=intent.entry_at,
            reason=intent.reason,
            event=intent.event,
            data=intent.data,
            clock_offset_seconds=clock_offset_seconds,
            report_agenda=self.agenda is not None,
        )
        reuse = (WorkflowIDReusePolicy.REJECT_DUPLICATE if playbook.reentry.mode == "never"
                 else WorkflowIDReusePolicy.ALLOW_DUPLICATE)
        workflow_id = journey_id(playbook.id, intent.account)
        try:
            handle = await self.client.start_workflow(
                WORKFLOW_NAME, inp, id=workflow_id, task_queue=self.task_queue,
                id_reuse_policy=reuse, id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
        except WorkflowAlreadyStartedError:
            self.store.log_action(ActionRecord(
                at=intent.entry_at, account=intent.account, playbook=playbook.id, kind="decided",
                data={"what": "already_active", "detail": f"{intent.reason}: a journey is already running",
                      "reads": {}},
                key=f"{workflow_id}/already_active/{intent.entry_at.isoformat()}/{intent.reason}"))
            return False
        self.started.append((workflow_id, handle.result_run_id or ""))
        if self.agenda is not None:
            self.agenda[workflow_id] = intent.entry_at
        return True

    def horizon(self) -> datetime | None:
        """The earliest moment a running journey will act (simulations), or None when none runs."""
        if not self.agenda:
            return None
        return min(self.agenda.values())

    async def signal(self, intent: JourneySignal) -> None:
        handle: WorkflowHandle[object, object] = self.client.get_workflow_handle(
            journey_id(intent.playbook, intent.account))
        try:
            await handle.signal(SIGNAL_NAME, intent)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            log.debug("journey %s ended before the signal at %s",
                      handle.id, datetime.now(UTC).isoformat())
