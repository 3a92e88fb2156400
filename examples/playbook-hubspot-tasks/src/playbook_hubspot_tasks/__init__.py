"""playbook-hubspot-tasks: `do hubspot.create_task` opens a task in HubSpot for the account's owner.

The package joins playbook through the entry-point group `playbook.activities` (see
pyproject.toml); playbook calls `register(registry)` when it loads its plugins.
"""

from __future__ import annotations

from datetime import timedelta

from activities.registry import ActivitySpec, Registry
from playbook_hubspot_tasks.create_task import (
    HubSpotConfigError,
    HubSpotRejected,
    HubSpotTaskParams,
    HubSpotUnavailable,
    create_task_activity,
)

__all__ = ["HubSpotConfigError", "HubSpotRejected", "HubSpotTaskParams", "HubSpotUnavailable", "register"]


def register(registry: Registry) -> None:
    registry.add(ActivitySpec(
        name="hubspot.create_task",
        fn=create_task_activity,
        params=HubSpotTaskParams,
        description="Create a task in HubSpot, owned by the CSM, due a number of days after the step.",
        timeout=timedelta(minutes=1),
        # Retrying cannot fix these: the journey records the step as `failed` and goes on.
        permanent_errors=(HubSpotRejected, HubSpotConfigError),
    ))
