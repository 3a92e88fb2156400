"""Journeys of an earlier engine generation, met by the dev stack when it resumes.

The journey workflow's type carries its generation (`journey.g3`; the first generation was plain
`journey`). A cluster upgrades across generations by keeping a worker of the previous release
until its journeys end (docs/operations.md, "Upgrading the engine"). The dev stack has no such
worker: its resumed state would hold journeys that no worker can run, retried forever. So
`playbook dev` ends them when it starts, says so, and records each as `exited` with the reason;
the accounts enter again on their next trigger, as the playbooks' re-entry rules allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.client import Client

from engine.store import Store
from engine.workflows.payloads import WORKFLOW_NAME

__all__ = ["EarlierJourney", "end_earlier_generations", "is_earlier_generation"]

_FIRST_GENERATION = "journey"
_GENERATION_PREFIX = "journey.g"


@dataclass(frozen=True)
class EarlierJourney:
    workflow_id: str
    run_id: str
    workflow_type: str


def is_earlier_generation(workflow_type: str) -> bool:
    """A journey's workflow type of another generation than this release's."""
    if workflow_type == WORKFLOW_NAME:
        return False
    return workflow_type == _FIRST_GENERATION or workflow_type.startswith(_GENERATION_PREFIX)


async def end_earlier_generations(client: Client, store: Store, now: datetime) -> list[EarlierJourney]:
    """End the running journeys of other generations, in Temporal and in the store."""
    found: list[EarlierJourney] = []
    async for execution in client.list_workflows('ExecutionStatus="Running"'):
        if is_earlier_generation(execution.workflow_type):
            found.append(EarlierJourney(execution.id, execution.run_id, execution.workflow_type))
    for journey in found:
        reason = (f"ended when the engine was upgraded: a journey of type {journey.workflow_type!r} runs only "
                  f"on the release that started it (this one runs {WORKFLOW_NAME!r})")
        await client.get_workflow_handle(journey.workflow_id, run_id=journey.run_id).terminate(reason=reason)
        store.journey_ended(journey.workflow_id, journey.run_id, now, "exited", reason)
    return found
