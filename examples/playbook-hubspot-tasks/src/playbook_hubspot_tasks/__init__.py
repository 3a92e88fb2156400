"""playbook-hubspot-tasks: `do hubspot.create_task` opens a task in HubSpot for the account's owner.

The package joins playbook through the entry-point group `playbook.activities` (see
pyproject.toml); playbook calls `register(registry)` when it loads its plugins.
"""

from __future__ import annotations

from datetime import timedelta

from activities.registry import ActivitySpec, Registry
from playbook_hubspot_tasks.create_task import (
    HubSpotConfig,
    HubSpotConfigError,
    HubSpotRejected,
    HubSpotTaskParams,
    HubSpotUnavailable,
    create_task_activity,
)

__all__ = ["HubSpotConfig", "HubSpotConfigError", "HubSpotRejected", "HubSpotTaskParams", "HubSpotUnavailable",
           "register"]


def register(registry: Registry) -> None:
    registry.add(ActivitySpec(
        name="hubspot.create_task",
        fn=create_task_activity,
        params=HubSpotTaskParams,
        description="Create a task in HubSpot, owned by the CSM, due a number of days after the step.",
        config=HubSpotConfig,  # [plugins.hubspot] in playbook.toml: checked when a worker starts
        timeout=timedelta(minutes=1),
        heartbeat=timedelta(seconds=10),  # a killed worker's call is retried within 10 s
        backoff=timedelta(seconds=2),
        # Retrying cannot fix these: the journey records the step as `failed` and goes on.
        permanent_errors=(HubSpotRejected, HubSpotConfigError),
    ))
