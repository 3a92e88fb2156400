"""What a drain does with an intent Temporal refused for a reason that is not an outage
(`server.api.routing_status.refusal_of`): the same for the single process's drain
(`server.api.routing_drain`) and for routing shared by several processes
(`server.api.routing_shared`).

The refusal is noted in the store (`ParkedIntentSection.refused`: attempts, last error). Before
`REFUSALS` refusals, the intent's account is *held*: its later intents wait and the intent is tried
again after a pause that doubles from `retry_min_seconds` to `retry_max_seconds`; other accounts go
on. At `REFUSALS`, the intent is *parked* (kept, not tried again), a decision in the account's log
says so, and the account's later intents go on.

The holds are this process's (another process sharing the routing may try the intent sooner);
the count of refusals is the store's, so an intent is parked after `REFUSALS` refusals whoever
carried it out.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from engine import decision_text
from engine.records import ActionRecord, Decision
from engine.store import Store
from engine.store.routing_queue import StoredIntent
from server.web.limits import Limits

__all__ = ["REFUSALS", "Holds"]

log = logging.getLogger("playbook.api")

REFUSALS = 5  # times an intent refused by Temporal (not an outage) is tried before it is parked


class Holds:
    """The accounts whose refused intent waits for its next try, and until when (monotonic)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._until: dict[str, float] = {}

    def held(self, account: str) -> bool:
        return self._until.get(account, 0.0) > time.monotonic()

    def accounts(self) -> list[str]:
        """The accounts held now: a drain's read leaves their intents out."""
        now = time.monotonic()
        for account in [account for account, until in self._until.items() if until <= now]:
            del self._until[account]
        return sorted(self._until)

    def release(self, account: str) -> None:
        self._until.pop(account, None)

    def refused(self, store: Store, stored: StoredIntent, reason: str, at: datetime) -> bool:
        """Note Temporal's refusal of `stored` (store calls: from a worker thread); hold its account
        until the next try, or park it after `REFUSALS`: True when parked. Raises `SQLAlchemyError`
        when the refusal could not be noted."""
        park = stored.attempts + 1 >= REFUSALS
        attempts = store.refused(stored.id, reason, at, park=park)
        if not park:
            pause = min(self.limits.retry_min_seconds * 2 ** (attempts - 1), self.limits.retry_max_seconds)
            self._until[stored.account] = time.monotonic() + pause
            log.warning("Temporal refused intent %d of account %s (attempt %d of %d), trying again in %g s: %s",
                        stored.id, stored.account, attempts, REFUSALS, pause, reason)
            return False
        self.release(stored.account)
        log.error("intent %d of account %s parked after %d refusals: %s", stored.id, stored.account, attempts, reason)
        kind, playbook = stored.intent.get("kind"), stored.intent.get("playbook")
        decision = decision_text.decided(Decision(
            at=at, account=stored.account, playbook=playbook, what="intent_parked", outcome="parked",
            subject=f"the {'start' if kind == 'start' else 'signal'} of journey {playbook}", reason=reason,
            reads={"intent": stored.id, "attempts": attempts, "change": stored.change}))
        with contextlib.suppress(SQLAlchemyError):
            store.log_action(ActionRecord(
                at=at, account=stored.account, playbook=playbook, kind="decided", data=decision.logged(),
                key=f"intent/{stored.id}/parked/{at.isoformat()}"))
        return True
