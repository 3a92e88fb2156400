"""The index of next-due moments, kept in the store: the scheduler's pass reads the accounts due,
not every account.

Each account's row holds a lower bound on the next instant at which one of its time triggers may
fire (`engine.store.next_due`). It is kept so:

- routing a change marks the account due from the change's moment when the account is new to
  the index, or a field that moves a time trigger changed (a date field of a date trigger, the
  time zone); a mark only ever moves the row earlier (`note`);
- a pass of the scheduler over (after, until] fires the triggers of the accounts due by `until`
  (`due_rows`), then moves each to its next instant after `until`, computed from its current
  fields (`advance`);
- `next_due(after)` first moves the rows due by `after` (marked by changes, or reset) to their
  next instant after `after`, then answers the earliest row.

The plan of time triggers (each time-trigger playbook's trigger, and the spread of schedules)
is fingerprinted: when it changes (a new playbook version), every account is due again once.
So a pass costs in proportion to the accounts due, and a round with nothing due reads one row.

A simulation keeps its index in memory instead (`engine.routing.time_index`), over the same rules
of time (`engine.routing.schedule`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from dsl import ir
from engine.records import Change
from engine.routing.schedule import TimeTriggers
from engine.store import Store
from engine.store.next_due import DueRow

__all__ = ["DueIndex", "time_plan"]

SEEN_LIMIT = 200_000  # accounts remembered as indexed, per process (forgotten all at once beyond)
REFRESH_CHUNK = 5000  # rows moved per transaction when many are due at once
FLOOR = datetime(1970, 1, 1, tzinfo=UTC)  # the moment every account is due from after a reset


def time_plan(triggers: TimeTriggers) -> str:
    """A fingerprint of what decides the instants: the time triggers and the spread."""
    plan = [[playbook.id, playbook.trigger.model_dump(mode="json")] for playbook in triggers.playbooks]
    text = json.dumps([plan, triggers.spread.total_seconds()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class DueIndex:
    def __init__(self, store: Store, triggers: TimeTriggers) -> None:
        self.store = store
        self.triggers = triggers
        self.plan = time_plan(triggers)
        self.watched = {"timezone"} | {
            playbook.trigger.field for playbook in triggers.playbooks if isinstance(playbook.trigger, ir.DateTrigger)}
        self._seen: set[str] = set()  # accounts this process knows the index holds
        self._checked = False  # the stored plan was compared with this one

    # ------------------------------------------------------------------ changes

    def marks(self, changes: Iterable[Change]) -> dict[str, datetime]:
        """The accounts these changes make due, each from its earliest such change's moment."""
        found: dict[str, datetime] = {}
        if not self.triggers.playbooks:
            return found
        for change in changes:
            if change.account not in self._seen or self.watched & set(change.traits):
                earlier = found.get(change.account)
                found[change.account] = change.at if earlier is None else min(earlier, change.at)
        return found

    def note(self, changes: Iterable[Change]) -> int:
        """Mark due the accounts the routed changes make due (one statement): how many."""
        marks = self.marks(changes)
        if marks:
            self.store.mark_due(marks)
            if len(self._seen) + len(marks) > SEEN_LIMIT:
                self._seen.clear()
            self._seen.update(marks)
        return len(marks)

    # ------------------------------------------------------------------ the scheduler

    def next_due(self, after: datetime) -> datetime | None:
        """The earliest moment after `after` at which an account may be due (None: never)."""
        if not self.triggers.playbooks:
            return None
        self._check_plan()
        while rows := self.store.due_rows(after, limit=REFRESH_CHUNK):
            if self.advance(rows, after) == 0:
                break  # each was marked meanwhile: the next pass takes them
        return self.store.earliest_due()

    def due_rows(self, until: datetime) -> list[DueRow]:
        """The accounts due at or before `until` (account, at, version), earliest first."""
        if not self.triggers.playbooks:
            return []
        self._check_plan()
        return self.store.due_rows(until)

    def advance(self, rows: list[DueRow], after: datetime) -> int:
        """Move each row to its account's next instant strictly after `after`, from its current
        fields (rows marked since they were read stay): how many moved."""
        moved = 0
        for first in range(0, len(rows), REFRESH_CHUNK):
            chunk = rows[first:first + REFRESH_CHUNK]
            fields = self.store.fields_of([row[0] for row in chunk])
            moved += self.store.advance(
                (row, None if row[0] not in fields else self.triggers.next_for(row[0], fields[row[0]], after))
                for row in chunk)  # an account no longer stored (erased) is due never
        return moved

    def _check_plan(self) -> None:
        if self._checked:
            return
        if self.store.next_due_plan() != self.plan:
            self.store.reset_next_due(self.plan, FLOOR)
        self._checked = True
