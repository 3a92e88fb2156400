"""Which stored events have been routed: so an event stored while the engine was down is not lost.

Ingestion stores first and routes second. A change is marked routed once its journeys were
started or signalled; `unrouted()` lists the ones that never were (the process stopped, Temporal
was unreachable), oldest first, for a sweep to route again. Routing is idempotent, so a change
routed twice starts nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from engine.records import Change
from engine.store.database import StoreSection
from engine.store.schema import events
from engine.store.types import to_utc

__all__ = ["RoutingSection"]


class RoutingSection(StoreSection):
    def mark_routed(self, seqs: Sequence[int], at: datetime) -> None:
        if not seqs:
            return
        with self._db.write() as conn:
            conn.execute(update(events).where(events.c.seq.in_(list(seqs))).values(routed_at=to_utc(at)))

    def unrouted(self, limit: int = 1000, *, received_before: datetime | None = None) -> list[Change]:
        """Stored changes never marked routed, oldest first (the traits as they were sent)."""
        query = select(events).where(events.c.routed_at.is_(None)).order_by(events.c.seq).limit(limit)
        if received_before is not None:
            query = query.where(events.c.received_at < to_utc(received_before))
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [Change(seq=row.seq, event_id=row.id, account=row.account, at=row.at, event=row.name,
                       data=dict(row.data or {}), traits=dict(row.traits or {}), source=row.source)
                for row in rows]
