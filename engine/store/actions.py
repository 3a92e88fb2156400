"""The action log: everything the engine did to or for an account (docs/events-and-actions.md, "Actions out")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update

from engine.records import ActionRecord
from engine.store.database import StoreSection
from engine.store.driver import Driver
from engine.store.playbook_tallies import count_split
from engine.store.schema import actions
from engine.store.types import to_utc

__all__ = ["ActionSection", "insert_action"]

# A key logged before is skipped (a NULL key never conflicts).
_INSERT = ("INSERT INTO actions (at, account, playbook, kind, data, key) VALUES (?, ?, ?, ?, ?j, ?) "
           "ON CONFLICT DO NOTHING RETURNING seq")


def insert_action(conn: Connection | Driver, action: ActionRecord) -> bool:
    """Append an action within the caller's write transaction; False when its key was logged before.
    Datetimes inside `data` are written as `isoformat()` text, as `to_contract` prints them."""
    driver = conn if isinstance(conn, Driver) else Driver(conn)
    rows = driver.execute(_INSERT, (driver.time(action.at), action.account, action.playbook, action.kind,
                                    driver.json(action.data), action.key)).fetchall()  # all: the statement ends
    if rows and action.kind == "decided":  # a split's decision counts in `arm_counts`
        count_split(driver, action.playbook, action.account, action.key, action.data)
    return bool(rows)


class ActionSection(StoreSection):
    def log_action(self, action: ActionRecord) -> bool:
        """Append an action; False (and nothing written) when its key was logged before."""
        with self._db.write(action.account) as conn:
            return insert_action(conn, action)

    def log_actions(self, logged: Sequence[ActionRecord]) -> list[bool]:
        """`log_action` for each, in order, in one transaction."""
        if not logged:
            return []
        with self._db.write(*{action.account for action in logged}) as conn:
            driver = Driver(conn)
            return [insert_action(driver, action) for action in logged]

    def count_history(self, *, account: str, playbook: str, at: datetime, seq: int, trigger: str,
                      detail: str) -> ActionRecord | None:
        """Count one trigger that history (back-fill) would have fired: one `decided` action per
        account and playbook (`what: backfill`) carries the count, the first and the last moment,
        so a year of history adds one line, not one per object. Counting the same change again
        (routing is at-least-once) changes nothing. The action when it is new, else None."""
        key = f"backfill/{playbook}/{account}"
        moment = to_utc(at).isoformat()
        with self._db.write(account) as conn:
            row = conn.execute(select(actions.c.seq, actions.c.data).where(actions.c.key == key)).first()
            if row is None:
                action = ActionRecord(at=at, account=account, playbook=playbook, kind="decided", key=key, data={
                    "what": "backfill", "detail": detail, "reads": {}, "trigger": trigger, "count": 1,
                    "first_at": moment, "last_at": moment, "through_seq": seq})
                insert_action(conn, action)
                return action
            data = dict(row.data)
            if int(data.get("through_seq", 0)) >= seq:
                return None
            data.update(count=int(data.get("count", 0)) + 1, through_seq=seq, detail=detail,
                        last_at=max(str(data.get("last_at", moment)), moment))
            conn.execute(update(actions).where(actions.c.seq == row.seq).values(data=data))
            return None

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
