"""Intents the drain could not carry out: refused by Temporal for a reason that is not an outage
(an invalid argument, a payload too large, a bug), tried a bounded number of times, then *parked*:
kept in `routing_intents` with their last error, not tried again, so that their account's later
intents go on. An operator lists them and retries or drops each (`GET /v1/intents?state=parked`,
`POST /v1/intents/{id}/retry|drop`, `playbook intents`).

A parked intent counts in no drain backlog (`RoutingQueueSection.drain_backlog`) and holds back
no `?wait=true`; `parked_count` is what `/healthz`, `/v1/status` and `/metrics` show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, update

from engine.store.database import StoreSection
from engine.store.schema import routing_intents
from engine.store.types import to_utc

__all__ = ["ParkedIntent", "ParkedIntentSection"]

_ERROR_CHARS = 2_000  # a refusal's reason as kept (Temporal's messages can carry a whole payload)


class ParkedIntent(NamedTuple):
    id: int
    account: str
    change: int
    position: int
    intent: dict[str, Any]
    attempts: int
    last_error: str | None
    created_at: datetime
    parked_at: datetime

    def listed(self) -> dict[str, Any]:
        """As `GET /v1/intents` lists it."""
        return {"id": self.id, "account": self.account, "kind": self.intent.get("kind"),
                "playbook": self.intent.get("playbook"), "change": self.change, "position": self.position,
                "attempts": self.attempts, "last_error": self.last_error,
                "created_at": self.created_at.isoformat(), "parked_at": self.parked_at.isoformat()}


class ParkedIntentSection(StoreSection):
    def refused(self, intent_id: int, error: str, at: datetime, *, park: bool) -> int:
        """Note that Temporal refused an intent (`error`), and `park` it: its attempts so far."""
        values: dict[str, Any] = {"attempts": routing_intents.c.attempts + 1, "last_error": error[:_ERROR_CHARS]}
        if park:
            values["parked_at"] = to_utc(at)
        with self._db.engine.begin() as conn:
            conn.execute(update(routing_intents).where(routing_intents.c.id == intent_id).values(**values))
            attempts = conn.execute(select(routing_intents.c.attempts)
                                    .where(routing_intents.c.id == intent_id)).scalar()
        return int(attempts or 0)

    def parked_intents(self, limit: int = 100, account: str | None = None) -> list[ParkedIntent]:
        """The parked intents (of `account`), oldest first."""
        query = (select(routing_intents).where(routing_intents.c.parked_at.is_not(None),
                                               routing_intents.c.drained_at.is_(None))
                 .order_by(routing_intents.c.id).limit(limit))
        if account is not None:
            query = query.where(routing_intents.c.account == account)
        with self._db.read() as conn:
            return [ParkedIntent(row.id, row.account, row.change, row.position, dict(row.intent), row.attempts,
                                 row.last_error, to_utc(row.created_at), to_utc(row.parked_at))
                    for row in conn.execute(query)]

    def parked_count(self) -> int:
        query = select(func.count()).where(routing_intents.c.parked_at.is_not(None),
                                           routing_intents.c.drained_at.is_(None))
        with self._db.read() as conn:
            return int(conn.execute(query).scalar() or 0)

    def retry_parked(self, intent_id: int) -> bool:
        """Give a parked intent back to the drain, its attempts counted afresh: False when no intent
        of that id is parked."""
        return self._unpark(intent_id, {"parked_at": None, "attempts": 0})

    def drop_parked(self, intent_id: int, at: datetime) -> bool:
        """Give up on a parked intent (marked drained: never carried out, pruned with the drained):
        False when no intent of that id is parked."""
        return self._unpark(intent_id, {"drained_at": to_utc(at)})

    def _unpark(self, intent_id: int, values: dict[str, Any]) -> bool:
        with self._db.engine.begin() as conn:
            done = conn.execute(update(routing_intents).where(routing_intents.c.id == intent_id,
                                                              routing_intents.c.parked_at.is_not(None),
                                                              routing_intents.c.drained_at.is_(None))
                                .values(**values))
            return bool(done.rowcount)
