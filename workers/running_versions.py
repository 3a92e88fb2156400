"""Before a worker starts: do the playbook versions still running fit the installed plugins?

A journey runs the IR of the playbook version it entered with. For every (playbook, version)
with active journeys in the store, the IR is the deployed bundle's when the version is current,
else the one the journey's workflow was started with (read from the first event of one of its
histories); each `do` in it is checked by `activities.param_versions.call_problems`. The worker
refuses to start on any problem, or only warns (`PLAYBOOK_PLUGIN_PARAMS_CHECK=warn`), with the
journeys affected.
"""

from __future__ import annotations

from temporalio.client import Client

from activities.param_versions import call_problems
from activities.registry import Registry
from dsl import ir
from engine.store import Store
from engine.store.rows import JourneyRow
from engine.workflows.payloads import JourneyInput

__all__ = ["running_version_problems"]

SHOWN_JOURNEYS = 10  # journey ids named per version; the others are counted


async def running_version_problems(client: Client, store: Store, registry: Registry, bundle: ir.Bundle) -> list[str]:
    """One line per running playbook version whose `do` steps the installed plugins would refuse."""
    lines: list[str] = []
    for (playbook, version), rows in store.running_versions().items():
        entered: ir.Playbook | None = None
        if bundle.versions.get(playbook) == version:
            entered = bundle.playbooks.get(playbook)
        if entered is None:
            entered = await _entered_with(client, rows[0])
        if entered is None:
            continue  # its history is gone (the journey ended meanwhile): nothing to check
        problems = call_problems(registry, entered)
        if problems:
            shown = ", ".join(row.workflow_id for row in rows[:SHOWN_JOURNEYS])
            more = f" and {len(rows) - SHOWN_JOURNEYS} more" if len(rows) > SHOWN_JOURNEYS else ""
            lines.append(f"playbook {playbook} version {version} ({len(rows)} running: {shown}{more}): "
                         + "; ".join(str(problem) for problem in problems))
    return lines


async def _entered_with(client: Client, row: JourneyRow) -> ir.Playbook | None:
    handle = client.get_workflow_handle(row.workflow_id, run_id=row.run_id or None)
    try:
        async for event in handle.fetch_history_events():
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            if not payloads:
                return None
            [found] = await client.data_converter.decode(payloads, [JourneyInput])
            return found.playbook if isinstance(found, JourneyInput) else None
    except Exception:  # no such workflow any more, or a history we cannot read: nothing to check
        return None
    return None
