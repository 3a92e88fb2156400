"""What the operator watches of the sends, counted in the store: messages by status, emails not
yet handed to the relay, and sends held or deferred (for `/healthz` and `/metrics`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from engine.store.database import Database
from engine.store.schema import actions, messages

__all__ = ["SendCounts", "SendCountSection"]


@dataclass(frozen=True)
class SendCounts:
    sent: int  # recorded as sent (emails and in-app messages)
    failed: int  # refused by the relay for good
    suppressed: int  # not sent: suppression list, frequency cap, no address
    undelivered: int  # emails recorded as sent and not yet handed to the relay
    held: int  # steps held by a pause or the send stop (each counted once)
    deferred: int  # sends deferred: by the relay's send-rate limit (once per step), over the cap (each time)


class SendCountSection:
    _db: Database

    def send_counts(self) -> SendCounts:
        with self._db.read() as conn:
            statuses = select(messages.c.status, func.count()).group_by(messages.c.status)
            by_status: dict[str, int] = dict(conn.execute(statuses).all())
            undelivered = conn.execute(select(func.count()).where(
                messages.c.status == "sent", messages.c.channel == "email", messages.c.delivered_at.is_(None))).scalar()
            by_kind: dict[str, int] = dict(conn.execute(select(actions.c.kind, func.count()).where(
                actions.c.kind.in_(["held", "deferred"])).group_by(actions.c.kind)).all())
        return SendCounts(sent=int(by_status.get("sent", 0)), failed=int(by_status.get("failed", 0)),
                          suppressed=int(by_status.get("suppressed", 0)), undelivered=int(undelivered or 0),
                          held=int(by_kind.get("held", 0)), deferred=int(by_kind.get("deferred", 0)))
