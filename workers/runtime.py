"""Building a Temporal worker that runs journeys: the one place workflows and activities meet.

Every process that runs journeys (`playbook simulate`, `playbook dev`, `playbook worker`)
builds its worker here, so they all run the same workflows with the same activities and the
same sandbox rules.
"""

from __future__ import annotations

import logging
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.context import ActivityContext
from activities.registry import Registry
from activities.temporal_adapter import temporal_activities
from engine.workflows.journey import JourneyWorkflow
from engine.workflows.scheduler import SchedulerWorkflow
from engine.workflows.timeline import TimelineWorkflow

__all__ = ["DATA_CONVERTER", "WORKFLOWS", "build_worker", "quiet_runtime", "workflow_runner"]

DATA_CONVERTER: DataConverter = pydantic_data_converter
WORKFLOWS: list[type[Any]] = [JourneyWorkflow, SchedulerWorkflow, TimelineWorkflow]

# Modules the workflows use that are deterministic and safe to share with the sandbox: passing
# them through avoids re-importing them (and pydantic) for every workflow run.
PASSTHROUGH = ("dsl", "engine.semantics.evaluator", "engine.semantics.calendar", "engine.records",
               "engine.workflows.payloads", "pydantic", "pydantic_core", "annotated_types", "lark", "jinja2")


_RUNTIME: Runtime | None = None


def quiet_runtime() -> Runtime:
    """A Temporal runtime whose core logs go to Python's logging (stderr), never to stdout.

    The SDK's core writes its own log lines to stdout by default, which would mix with the
    actions `playbook simulate --json` prints there.
    """
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(
            filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"),
            forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")))))
    return _RUNTIME


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))


def build_worker(client: Client, task_queue: str, registry: Registry, context: ActivityContext, *,
                 sandboxed: bool = True, **options: Any) -> Worker:
    """A worker of the journey, scheduler and timeline workflows and the registry's activities.

    `sandboxed=False` (`playbook simulate` only) runs the workflows without Temporal's sandbox: the
    interpreter's modules are passed through it anyway, so it guards only the workflow classes'
    own few lines, and re-importing them for every journey costs a fifth of a simulation's CPU.
    Workers of running journeys keep it, and the replay tests run the simulations' histories
    through the sandboxed replayer.
    """
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=temporal_activities(registry, context),
        workflow_runner=workflow_runner() if sandboxed else UnsandboxedWorkflowRunner(),
        **options,
    )
