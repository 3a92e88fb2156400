"""How many open work items an owner (or everyone) has, and how many are overdue: the figures of
the dashboard's home page.

A count over the tasks' `(owner, status, due, id)` or `(status, due, id)` index, capped at
`cap` (the page says "200+"), so it costs at most that many index entries however much work is
open. Overdue is `engine.read_model.tasks.is_overdue`'s rule: open, past its due time, and not
snoozed past now.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, literal, or_, select

from engine.store import Store
from engine.store.schema import tasks
from engine.store.types import to_utc

__all__ = ["DEFAULT_CAP", "open_work_count"]

DEFAULT_CAP = 200


def open_work_count(store: Store, now: datetime, *, owner: str | None = None, overdue: bool = False,
                    cap: int = DEFAULT_CAP) -> int:
    """The open items (of `owner`; everyone's when None; only the overdue ones with `overdue`), at most `cap`."""
    moment = to_utc(now)
    inner = select(literal(1).label("one")).where(tasks.c.status == "open")
    if owner is not None:
        inner = inner.where(tasks.c.owner == owner.strip().lower())
    if overdue:
        inner = inner.where(tasks.c.due < moment,
                            or_(tasks.c.snoozed_until.is_(None), tasks.c.snoozed_until <= moment))
    counted = select(func.count()).select_from(inner.limit(max(1, cap)).subquery())
    with store.database.read() as conn:
        return int(conn.execute(counted).scalar_one())
