"""The action log: everything the engine did to or for an account (contracts.md, "Actions out")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from engine.records import ActionRecord
from engine.store.database import StoreSection, insert_ignoring
from engine.store.schema import actions
from engine.store.types import to_utc

__all__ = ["ActionSection", "insert_action"]


def insert_action(conn: Connection, action: ActionRecord) -> bool:
    """Append an action within the caller's write transaction; False when its key was logged before."""
    values = action.model_dump()
    values["at"] = to_utc(action.at)
    if action.key is None:
        conn.execute(actions.insert().values(**values))
        return True
    return insert_ignoring(conn, actions, values) is not None


class ActionSection(StoreSection):
    def log_action(self, action: ActionRecord) -> bool:
        """Append an action; False (and nothing written) when its key was logged before."""
        # datetimes inside `data` are written as `isoformat()` text, as `to_contract` prints them
        values = action.model_dump()
        values["at"] = to_utc(action.at)
        with self._db.write(action.account) as conn:
            if action.key is None:
                conn.execute(actions.insert().values(**values))
                return True
            return insert_ignoring(conn, actions, values) is not None

    def log_actions(self, logged: Sequence[ActionRecord]) -> list[bool]:
        """`log_action` for each, in order, in one transaction."""
        if not logged:
            return []
        with self._db.write(*{action.account for action in logged}) as conn:
            return [insert_action(conn, action) for action in logged]

    def actions(
        self, account: str | None = None, playbook: str | None = None, since: datetime | None = None
    ) -> list[ActionRecord]:
        """Logged actions ordered by (at, order of logging); `since` includes its own instant."""
        query = select(actions).order_by(actions.c.at, actions.c.seq)
        if account is not None:
            query = query.where(actions.c.account == account)
        if playbook is not None:
            query = query.where(actions.c.playbook == playbook)
        if since is not None:
            query = query.where(actions.c.at >= to_utc(since))
        with self._db.read() as conn:
            return [
                ActionRecord(at=row.at, account=row.account, playbook=row.playbook, kind=row.kind,
                             data=dict(row.data), key=row.key)
                for row in conn.execute(query)
            ]
