"""The store of a simulation: each account's rows kept in memory between reads.

Routing reads an account's fields and events as of a moment, its active journeys, the states of
its condition triggers and its score history, several times per change (one read per playbook
whose trigger it concerns, per score, per instant of a time trigger); the timeline routes the
same accounts step after step, and journeys read the same accounts' fields and events for every
snapshot and message. `TimelineStore` reads each kind of row of an account once and answers from
memory while nothing else writes the store, which holds in a simulation (its store is its own):
every write of the simulation goes through this object and keeps memory in step.

- stored changes (`add_changes`: the timeline's events, a playbook's `set`) are added to the
  account's history in memory, or the history is read again when they do not come in order;
- condition states and scores are written to the store and to memory alike;
- a journey entered or ended makes the account's active journeys be read again.

Reads and writes of other kinds go to the store as usual.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from engine.records import ActionRecord, Change, ScoreState
from engine.store import JourneyRow, NewChange, Store
from engine.store.types import to_utc

__all__ = ["TimelineStore"]

BATCH_FROM = 8  # accounts to read at once from which their active journeys are read in one query
_ALL = datetime(9999, 12, 31, tzinfo=UTC)


class _Rows:
    """One account's rows as last read (None: not read yet)."""

    __slots__ = ("active", "conditions", "events", "latest", "scores", "traits")

    def __init__(self) -> None:
        self.traits: list[tuple[str, Any, datetime]] | None = None
        self.events: list[tuple[str, datetime, dict[str, Any]]] | None = None
        self.latest: datetime | None = None  # the latest time in `traits` and `events`
        self.active: list[JourneyRow] | None = None
        self.conditions: dict[str, tuple[bool | None, datetime]] | None = None
        self.scores: dict[str, list[tuple[datetime, ScoreState]]] | None = None


class TimelineStore(Store):
    def __init__(self, store: Store) -> None:
        super().__init__(store.database)
        self._rows: dict[str, _Rows] = {}

    def _of(self, account: str) -> _Rows:
        rows = self._rows.get(account)
        if rows is None:
            rows = self._rows[account] = _Rows()
        return rows

    # ------------------------------------------------------------------ keeping up

    def add_changes(self, changes: Sequence[NewChange], received_at: datetime | None = None) -> list[Change | None]:
        """Store the changes, and add them to the histories in memory (in order: a change older
        than the latest one kept has the account's history read again)."""
        stored = super().add_changes(changes, received_at)
        for new, change in zip(changes, stored, strict=True):
            rows = self._rows.get(new.account)
            if rows is None or rows.traits is None or rows.events is None:
                continue
            at = to_utc(new.at)
            if rows.latest is not None and at < rows.latest:
                rows.traits = rows.events = None  # not in order: read the history again
                continue
            rows.latest = at
            if change is None:
                continue
            rows.traits.extend((name, value, at) for name, value in change.traits.items())
            if change.event is not None:
                rows.events.append((change.event, at, dict(change.data)))
        return stored

    def _journeys_changed(self, account: str | None) -> None:
        if account is not None:
            rows = self._rows.get(account)
            if rows is not None:
                rows.active = None
            return
        for rows in self._rows.values():
            rows.active = None

    def journey_entered(
        self, workflow_id: str, run_id: str, playbook: str, account: str, version: str, at: datetime
    ) -> None:
        super().journey_entered(workflow_id, run_id, playbook, account, version, at)
        self._journeys_changed(account)

    def journey_entered_logged(
        self, workflow_id: str, run_id: str, playbook: str, account: str, version: str, at: datetime,
        action: ActionRecord,
    ) -> None:
        super().journey_entered_logged(workflow_id, run_id, playbook, account, version, at, action)
        self._journeys_changed(account)

    def journey_ended(
        self, workflow_id: str, run_id: str, at: datetime, status: str, reason: str | None
    ) -> None:
        super().journey_ended(workflow_id, run_id, at, status, reason)
        self._journeys_changed(None)

    def journey_ended_logged(
        self, workflow_id: str, run_id: str, at: datetime, status: str, reason: str | None,
        before: list[ActionRecord], action: ActionRecord,
    ) -> None:
        super().journey_ended_logged(workflow_id, run_id, at, status, reason, before, action)
        self._journeys_changed(action.account)

    def prefetch(self, accounts: Collection[str]) -> None:
        """Read the active journeys of many accounts at once (nearly every change asks for them)."""
        missing = [account for account in accounts if self._of(account).active is None]
        if len(missing) >= BATCH_FROM:
            for account, found in self.active_journeys_of(missing).items():
                self._of(account).active = found

    # ------------------------------------------------------------------ fields and events

    def _history(self, account: str) -> _Rows:
        rows = self._of(account)
        if rows.traits is None or rows.events is None:
            traits, events = self.histories_of([account], _ALL)
            rows.traits, rows.events = traits[account], events[account]
            stamps = [entry[2] for entry in rows.traits] + [entry[1] for entry in rows.events]
            rows.latest = max(stamps, default=None)
        return rows

    def fields_at(self, account: str, at: datetime) -> dict[str, Any]:
        traits = self._history(account).traits
        assert traits is not None
        moment = to_utc(at)
        fields: dict[str, Any] = {}
        for name, value, when in traits:
            if when > moment:
                break
            if value is None:
                fields.pop(name, None)
            else:
                fields[name] = value
        return fields

    def events_until(
        self, account: str, at: datetime, names: set[str] | None = None
    ) -> list[tuple[str, datetime, dict[str, Any]]]:
        events = self._history(account).events
        assert events is not None
        moment = to_utc(at)
        return [(name, when, dict(data)) for name, when, data in events
                if when <= moment and (names is None or name in names)]

    def event_stamps_until(self, account: str, at: datetime) -> list[tuple[str, datetime]]:
        events = self._history(account).events
        assert events is not None
        moment = to_utc(at)
        return [(name, when) for name, when, _ in events if when <= moment]

    # ------------------------------------------------------------------ journeys

    def _journeys(self, account: str) -> list[JourneyRow]:
        rows = self._of(account)
        if rows.active is None:
            rows.active = super().active_journeys(account)
        return rows.active

    def active_journeys(self, account: str) -> list[JourneyRow]:
        return list(self._journeys(account))

    def active_journey(self, playbook: str, account: str) -> JourneyRow | None:
        return next((row for row in reversed(self._journeys(account)) if row.playbook == playbook), None)

    # ------------------------------------------------------------------ conditions and scores

    def _conditions_of(self, account: str) -> dict[str, tuple[bool | None, datetime]]:
        rows = self._of(account)
        if rows.conditions is None:
            rows.conditions = {key: state for (_, key), state in self.conditions_of([account]).items()}
        return rows.conditions

    def get_condition(self, account: str, key: str) -> bool | None:
        state = self._conditions_of(account).get(key)
        return None if state is None else state[0]

    def condition_since(self, account: str, key: str) -> datetime | None:
        state = self._conditions_of(account).get(key)
        return None if state is None else state[1]

    def set_condition(self, account: str, key: str, value: bool | None, at: datetime) -> None:
        super().set_condition(account, key, value, at)
        self._conditions_of(account)[key] = (value, to_utc(at))

    def _scores_of(self, account: str) -> dict[str, list[tuple[datetime, ScoreState]]]:
        rows = self._of(account)
        if rows.scores is None:
            rows.scores = {name: found for (_, name), found in self.score_histories_of([account]).items()}
        return rows.scores

    def score_at(self, account: str, name: str, at: datetime) -> ScoreState | None:
        history = self._scores_of(account).get(name, [])
        index = bisect_right([when for when, _ in history], to_utc(at))
        return history[index - 1][1] if index else None

    def record_score(self, account: str, state: ScoreState, at: datetime) -> None:
        super().record_score(account, state, at)
        history = self._scores_of(account).setdefault(state.name, [])
        history.append((to_utc(at), state))
        history.sort(key=lambda entry: entry[0])
