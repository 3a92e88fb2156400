"""What the operator has stopped, shared by every process on the store: paused playbooks, the
global send stop, the relay's send-rate window, and dashboard sessions signed out before they expire.

A paused playbook takes no new entries (admission asks `paused_playbooks`), and its journeys'
customer-facing sends are held (the send activity asks `send_hold`). The send stop holds every
customer-facing send of every playbook. Both take effect at the next decision; neither loses
anything: held sends are recorded and go out when resumed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from engine.store.database import Database
from engine.store.schema import controls, relay_sends, revoked_sessions

__all__ = ["SENDS", "ControlSection", "playbook_control"]

SENDS = "sends"  # the control that holds every send


def playbook_control(playbook: str) -> str:
    return f"playbook:{playbook}"


class ControlSection:
    _db: Database

    def set_control(self, name: str, reason: str, at: datetime) -> bool:
        """Stop what `name` names; False when it was stopped already (its first reason is kept)."""
        with self._db.write() as conn:
            if conn.execute(select(controls.c.name).where(controls.c.name == name)).first() is not None:
                return False
            conn.execute(controls.insert().values(name=name, reason=reason[:500], at=at))
            return True

    def clear_control(self, name: str) -> bool:
        """Undo `set_control`; False when `name` was not stopped."""
        with self._db.write() as conn:
            return bool(conn.execute(delete(controls).where(controls.c.name == name)).rowcount)

    def controls(self) -> dict[str, tuple[str, datetime]]:
        """Every control in force: name to (reason, since when)."""
        with self._db.read() as conn:
            return {row.name: (row.reason, row.at) for row in conn.execute(select(controls))}

    def paused_playbooks(self) -> set[str]:
        prefix = playbook_control("")
        return {name[len(prefix):] for name in self.controls() if name.startswith(prefix)}

    def send_hold(self, playbook: str) -> str | None:
        """Why a send of `playbook` must wait now (the send stop, or the playbook paused); None: it may go."""
        with self._db.read() as conn:
            rows = conn.execute(select(controls.c.name, controls.c.reason).where(
                controls.c.name.in_([SENDS, playbook_control(playbook)]))).all()
        for name, reason in sorted(rows):
            what = "every send is stopped" if name == SENDS else f"playbook {playbook} is paused"
            return f"{what}: {reason}" if reason else what
        return None

    def take_send_slot(self, now: datetime, limit: int, window: timedelta) -> datetime | None:
        """Claim one of the relay's `limit` sends a `window`, shared by every worker: None when
        claimed (the send may go now), else the moment a slot frees up. One transaction under
        the write lock, so two workers cannot both take the last slot."""
        since = now - window
        with self._db.write("relay-send-rate") as conn:
            conn.execute(delete(relay_sends).where(relay_sends.c.at <= since))
            taken, oldest = conn.execute(select(func.count(), func.min(relay_sends.c.at))).one()
            if taken >= limit:
                return oldest + window if oldest is not None else now + window
            conn.execute(relay_sends.insert().values(at=now))
            return None

    def revoke_session(self, session: str, expires: datetime) -> None:
        with self._db.write() as conn:
            if conn.execute(select(revoked_sessions.c.session).where(
                    revoked_sessions.c.session == session)).first() is None:
                conn.execute(revoked_sessions.insert().values(session=session, expires=expires))

    def session_revoked(self, session: str) -> bool:
        with self._db.read() as conn:
            return conn.execute(select(revoked_sessions.c.session).where(
                revoked_sessions.c.session == session)).first() is not None
