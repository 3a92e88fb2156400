"""Each deployed playbook's journeys by how they stand: entered, active, completed, goal reached,
exited and failed. The list of playbooks shows these; a playbook's own page adds its funnel
(`engine.insight.funnel`).

Read from the journeys' counts kept as journeys enter and end (`engine.store.playbook_tallies`):
a few rows per playbook, however many journeys ran.
"""

from __future__ import annotations

from pydantic import BaseModel

from dsl import ir
from engine.store import Store

__all__ = ["PlaybookCounts", "playbook_counts"]


class PlaybookCounts(BaseModel):
    id: str
    title: str
    entered: int = 0
    active: int = 0
    completed: int = 0
    goal_reached: int = 0
    exited: int = 0
    failed: int = 0


def playbook_counts(store: Store, bundle: ir.Bundle) -> list[PlaybookCounts]:
    """The bundle's playbooks by id, each with its journeys counted by status."""
    found = {id: PlaybookCounts(id=id, title=spec.title) for id, spec in sorted(bundle.playbooks.items())}
    for row in store.journey_tallies(sorted(found)):
        counts = found[row.playbook]
        counts.entered += row.n
        if row.status in ("active", "completed", "goal_reached", "exited", "failed"):
            setattr(counts, row.status, getattr(counts, row.status) + row.n)
    return list(found.values())
