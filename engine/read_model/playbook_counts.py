"""Each deployed playbook's journeys by how they stand: entered, active, completed, goal reached,
exited and failed. The list of playbooks shows these; a playbook's own page adds its funnel
(`engine.insight.funnel`).

One grouped read of the journeys over their `(playbook, status, reason)` index: it costs the
journeys, never the action log.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select

from dsl import ir
from engine.store import Store
from engine.store.schema import journeys

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
    query = select(journeys.c.playbook, journeys.c.status, func.count().label("n")).group_by(
        journeys.c.playbook, journeys.c.status)
    with store.database.read() as conn:
        rows = conn.execute(query).all()
    for row in rows:
        counts = found.get(row.playbook)
        if counts is None:
            continue
        counts.entered += int(row.n)
        if row.status in ("active", "completed", "goal_reached", "exited", "failed"):
            setattr(counts, row.status, getattr(counts, row.status) + int(row.n))
    return list(found.values())
