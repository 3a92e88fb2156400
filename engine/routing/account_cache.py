"""The one read cache of routing: each account's rows in memory, in front of a store.

Routing reads an account's fields and events as of a moment, its active journeys, the states of
its condition triggers and its score history, several times per change (once per playbook whose
trigger it concerns, per score, per instant of a time trigger). `AccountCache` reads each kind of
row of an account once, when first asked, and answers from memory; it is kept in step by its
write-through methods, which write to the store and to memory alike:

- `set_condition`, `record_score`: the router's own writes;
- `add_change`, `add_changes` (and `changes_stored`, for changes an `Ingestor` stored): a stored
  change is added to the account's history in memory, or the history is read again when it does
  not come in time order;
- `journey_entered_logged`, `journey_ended_logged`: the account's active journeys are read again.

Everything else is forwarded to the store as it is. How long memory is kept is its `Lifetime`:

- `PER_RUN` (live routing, where other processes write the store): only the accounts of the run
  under way (`begin_run`), only up to the run's latest moment, and forgotten at `end_run`; so
  what a worker, a `set` statement or a rescore writes meanwhile is seen from the next run on,
  as by a change routed a moment later. Outside a run every read goes to the store.
- `PRIVATE_STORE` (a simulation, whose store is its own and written only through this cache):
  every account, kept for as long as the cache lives.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from engine.records import ActionRecord, Change, ScoreState, TaskRecord
from engine.routing.account_histories import AccountHistories, History
from engine.store import JourneyRow, NewChange, Store
from engine.store.routing import event_data
from engine.store.types import to_utc

__all__ = ["AccountCache", "Lifetime"]

BATCH_FROM = 8  # accounts whose active journeys a private cache reads in one query rather than one by one
_ALL = datetime(9999, 12, 31, tzinfo=UTC)


class Lifetime(Enum):
    PER_RUN = "per run"
    PRIVATE_STORE = "private store"


class _Rows:
    """One account's rows as last read (None: not read yet). Histories are in time order."""

    __slots__ = ("active", "conditions", "entries", "history", "scores", "scores_latest")

    def __init__(self) -> None:
        self.history: History | None = None
        self.active: list[JourneyRow] | None = None
        self.entries: dict[str, datetime] | None = None  # the latest entry of each playbook entered
        self.conditions: dict[str, tuple[bool | None, datetime]] | None = None
        self.scores: dict[str, list[tuple[datetime, ScoreState]]] | None = None
        self.scores_latest = False  # `scores` holds each score's latest recordings only (read ahead)


class AccountCache:
    def __init__(self, store: Store, *, lifetime: Lifetime) -> None:
        self.store = store
        self.lifetime = lifetime
        self._rows: dict[str, _Rows] = {}
        # PER_RUN: the run's accounts and latest moment (None: no run under way)
        self._accounts: set[str] = set()
        self._until: datetime | None = None
        self._paused: set[str] | None = None  # PER_RUN: the operator's pauses as the run began
        # PER_RUN: the histories kept from one run to the next
        self.histories = AccountHistories(store)
        # In a run: the scores recorded whose account cards are not updated yet (`flush_cards`)
        self._in_run = False
        self._cards: list[tuple[str, ScoreState, datetime]] = []
        # In a run: the scores recorded whose rows are not written yet (`flush_cards`), in order
        self._scores: list[tuple[str, ScoreState, datetime]] = []
        # In a run: the condition states set whose rows are not written yet (`flush_cards`), the last by key
        self._conditions: dict[tuple[str, str], tuple[bool | None, datetime]] = {}

    # ------------------------------------------------------------------ runs

    def begin_run(self, accounts: Collection[str], until: datetime | None, changes: Sequence[Change] = (),
                  scored: Collection[str] | None = None, conditioned: Collection[str] | None = None) -> None:
        """A run of routing for these accounts, up to `until` (None: no change of theirs; a per-run
        cache then keeps nothing), routing `changes`, begins: read their active journeys (and, per
        run, their last entries, conditions and scores, a few queries for the whole run, and their
        histories brought up to date, `engine.routing.account_histories`; score histories only for
        `scored` when given, those whose changes move a score, and condition states only for
        `conditioned` when given; the others' read if asked for)."""
        if self.lifetime is Lifetime.PER_RUN:
            self.end_run()
        self._in_run = True
        if self.lifetime is Lifetime.PER_RUN:
            if until is None:
                return
            self._accounts, self._until = set(accounts), until
        missing = [account for account in accounts if self._of(account).active is None]
        if missing and (self.lifetime is Lifetime.PER_RUN or len(missing) >= BATCH_FROM):
            for account, found in self.store.active_journeys_of(missing).items():
                self._of(account).active = found
        if self.lifetime is Lifetime.PER_RUN and missing:
            self._read_ahead(missing, changes, missing if scored is None else [a for a in missing if a in scored],
                             missing if conditioned is None else [a for a in missing if a in conditioned])

    def _read_ahead(self, accounts: list[str], changes: Sequence[Change], scored: list[str],
                    conditioned: list[str]) -> None:
        """Everything a run reads of its accounts, a few queries for them all."""
        assert self._until is not None
        entries: dict[str, dict[str, datetime]] = {account: {} for account in accounts}
        for (account, playbook), at in self.store.last_entries_of(accounts).items():
            entries[account][playbook] = at
        conditions: dict[str, dict[str, tuple[bool | None, datetime]]] = {account: {} for account in conditioned}
        for (account, key), state in self.store.conditions_of(conditioned).items():
            conditions[account][key] = state
        scores: dict[str, dict[str, list[tuple[datetime, ScoreState]]]] = {account: {} for account in scored}
        for (account, name), latest in self.store.latest_scores_of(scored).items():
            scores[account][name] = [latest]  # the rest read if a score before it is asked for
        histories = self.histories.for_run(accounts, changes)
        for account in accounts:
            rows = self._of(account)
            rows.entries, rows.conditions, rows.scores = entries[account], conditions.get(account), scores.get(account)
            rows.scores_latest = rows.scores is not None
            rows.history = histories[account]
        self._paused = self.store.paused_playbooks()

    def end_run(self) -> None:
        """The run is over: the account cards take the scores it recorded (`flush_cards`), and a
        per-run cache forgets everything."""
        self._in_run = False
        self.flush_cards()
        if self.lifetime is Lifetime.PER_RUN:
            self._rows, self._accounts, self._until, self._paused = {}, set(), None, None

    def _kept(self, account: str, at: datetime | None = None) -> bool:
        """Whether memory answers for the account (as of `at`)."""
        if self.lifetime is Lifetime.PRIVATE_STORE:
            return True
        return self._until is not None and account in self._accounts and (at is None or at <= self._until)

    def _of(self, account: str) -> _Rows:
        rows = self._rows.get(account)
        if rows is None:
            rows = self._rows[account] = _Rows()
        return rows

    # ------------------------------------------------------------------ fields and events

    def _history(self, account: str) -> History:
        rows = self._of(account)
        if rows.history is None:
            traits, events = self.store.histories_of([account], self._until or _ALL)
            history = History(traits=traits[account], trait_times=[at for _, _, at in traits[account]],
                              events=events[account], event_times=[at for _, at, _ in events[account]])
            history.latest = max(history.trait_times[-1:] + history.event_times[-1:], default=None)
            history.fields = _fields(history.traits)
            rows.history = history
        return rows.history

    def fields_at(self, account: str, at: datetime) -> dict[str, Any]:
        if not self._kept(account, at):
            return self.store.fields_at(account, at)
        history = self._history(account)
        when = to_utc(at)
        if history.latest is None or when >= history.latest:
            return dict(history.fields)
        return _fields(history.traits[:bisect_right(history.trait_times, when)])

    def events_until(self, account: str, at: datetime,
                     names: set[str] | None = None) -> list[tuple[str, datetime, dict[str, Any]]]:
        if not self._kept(account, at):
            return self.store.events_until(account, at, names)
        history = self._history(account)
        return [(name, when, event_data(data))
                for name, when, data in history.events[:bisect_right(history.event_times, to_utc(at))]
                if names is None or name in names]

    def event_index(self, account: str, at: datetime
                    ) -> tuple[list[tuple[str, datetime]], dict[str, list[datetime]]] | None:
        """The account's events (name, at) up to `at`, and all its event times by name (kept, not
        copied: `History.stamp_index`), when memory answers; else None."""
        if not self._kept(account, at):
            return None
        history = self._history(account)
        stamps, times_by_name = history.stamp_index()
        when = to_utc(at)
        if history.latest is not None and when < history.latest:
            stamps = stamps[:bisect_right(history.event_times, when)]
        return stamps, times_by_name

    def event_stamps_until(self, account: str, at: datetime) -> list[tuple[str, datetime]]:
        if not self._kept(account, at):
            return self.store.event_stamps_until(account, at)
        history = self._history(account)
        return [(name, when) for name, when, _ in history.events[:bisect_right(history.event_times, to_utc(at))]]

    def fields_and_event_stamps(self, account: str, at: datetime
                                ) -> tuple[dict[str, Any], list[tuple[str, datetime]]]:
        if not self._kept(account, at):
            return self.store.fields_and_event_stamps(account, at)
        return self.fields_at(account, at), self.event_stamps_until(account, at)

    def account_ids(self) -> list[str]:
        return self.store.account_ids()

    def all_fields(self) -> dict[str, dict[str, Any]]:
        return self.store.all_fields()

    def add_change(self, account: str, at: datetime, *, event: str | None, data: dict[str, Any],
                   traits: dict[str, Any], event_id: str | None, source: str = "ingest") -> Change | None:
        """`Store.add_change`, kept in memory."""
        return self.add_changes([NewChange(account=account, at=at, event=event, data=data, traits=traits,
                                           event_id=event_id, source=source)])[0]

    def add_changes(self, changes: Sequence[NewChange], received_at: datetime | None = None) -> list[Change | None]:
        """`Store.add_changes`, kept in memory."""
        stored = self.store.add_changes(changes, received_at)
        self.changes_stored(change for change in stored if change is not None)
        return stored

    def changes_stored(self, changes: Iterable[Change]) -> None:
        """Changes just stored (in order): added to the histories in memory; one older than the
        latest kept has the account's history read again."""
        for change in changes:
            rows = self._rows.get(change.account)
            if rows is not None and rows.history is not None and not rows.history.add(change):
                rows.history = None  # not in order: read the history again

    # ------------------------------------------------------------------ journeys

    def _journeys(self, account: str) -> list[JourneyRow]:
        rows = self._of(account)
        if rows.active is None:
            rows.active = self.store.active_journeys(account)
        return rows.active

    def active_journeys(self, account: str) -> list[JourneyRow]:
        if not self._kept(account):
            return self.store.active_journeys(account)
        return list(self._journeys(account))

    def active_journey(self, playbook: str, account: str) -> JourneyRow | None:
        if not self._kept(account):
            return self.store.active_journey(playbook, account)
        return next((row for row in reversed(self._journeys(account)) if row.playbook == playbook), None)

    def last_entry(self, playbook: str, account: str) -> datetime | None:
        rows = self._rows.get(account)
        if self.lifetime is Lifetime.PER_RUN and self._kept(account) and rows is not None and rows.entries is not None:
            return rows.entries.get(playbook)
        return self.store.last_entry(playbook, account)

    def paused_playbooks(self) -> set[str]:
        """The operator's pauses: the store's word (another process sets them), read once per run."""
        if self._paused is not None:
            return set(self._paused)
        return self.store.paused_playbooks()

    def _journeys_changed(self, account: str) -> None:
        rows = self._rows.get(account)
        if rows is not None:
            rows.active = rows.entries = None

    def journey_entered_logged(self, workflow_id: str, run_id: str, playbook: str, account: str, version: str,
                               at: datetime, action: ActionRecord) -> None:
        """`Store.journey_entered_logged`; the account's active journeys are read again."""
        self.store.journey_entered_logged(workflow_id, run_id, playbook, account, version, at, action)
        self._journeys_changed(account)

    def journey_ended_logged(self, workflow_id: str, run_id: str, at: datetime, status: str, reason: str | None,
                             before: list[ActionRecord], action: ActionRecord) -> None:
        """`Store.journey_ended_logged`; the account's active journeys are read again."""
        self.store.journey_ended_logged(workflow_id, run_id, at, status, reason, before, action)
        self._journeys_changed(action.account)

    # ------------------------------------------------------------------ conditions and scores

    def _conditions_of(self, account: str) -> dict[str, tuple[bool | None, datetime]]:
        rows = self._of(account)
        if rows.conditions is None:
            rows.conditions = {key: state for (_, key), state in self.store.conditions_of([account]).items()}
        return rows.conditions

    def get_condition(self, account: str, key: str) -> bool | None:
        if not self._kept(account):
            return self.store.get_condition(account, key)
        state = self._conditions_of(account).get(key)
        return None if state is None else state[0]

    def condition_since(self, account: str, key: str) -> datetime | None:
        if not self._kept(account):
            return self.store.condition_since(account, key)
        state = self._conditions_of(account).get(key)
        return None if state is None else state[1]

    def set_condition(self, account: str, key: str, value: bool | None, at: datetime) -> None:
        """`Store.set_condition`; in a run, for an account whose states memory answers for, written
        at `flush_cards` with the run's others (one statement for them all)."""
        rows = self._rows.get(account)
        if rows is not None and rows.conditions is not None:
            rows.conditions[key] = (value, to_utc(at))
            if self._in_run and self._kept(account):
                self._conditions[(account, key)] = (value, at)
                return
        self.store.set_condition(account, key, value, at)

    def _scores_of(self, account: str, before: datetime | None = None) -> dict[str, list[tuple[datetime, ScoreState]]]:
        """The account's score histories: whole, or (read ahead) the latest recordings only, which
        answer for any moment but one `before` the first of them."""
        rows = self._of(account)
        if rows.scores is not None and rows.scores_latest and before is not None and any(
                history and before < history[0][0] for history in rows.scores.values()):
            rows.scores = None  # a moment before the latest recordings: the whole histories
        if rows.scores is None:
            self._write_scores()  # the store answers: with the run's scores
            rows.scores = {name: found for (_, name), found in self.store.score_histories_of([account]).items()}
            rows.scores_latest = False
        return rows.scores

    def score_at(self, account: str, name: str, at: datetime) -> ScoreState | None:
        if not self._kept(account):
            self._write_scores()
            return self.store.score_at(account, name, at)
        when = to_utc(at)
        history = self._scores_of(account, when).get(name, [])
        index = bisect_right([time for time, _ in history], when)
        return history[index - 1][1] if index else None

    def record_score(self, account: str, state: ScoreState, at: datetime) -> None:
        """`Store.record_score`; in a run, the account's card takes it at `flush_cards`."""
        rows = self._rows.get(account)
        if self._in_run:
            if rows is not None and rows.scores is not None and self._kept(account):
                self._scores.append((account, state.model_copy(), at))  # memory answers until it is written
            else:
                self._write_scores()  # those before it first: their ids in the order of recording
                self.store.record_score(account, state, at, card=False)
            self._cards.append((account, state.model_copy(), at))
        else:
            self.store.record_score(account, state, at)
        if rows is not None and rows.scores is not None:
            history = rows.scores.setdefault(state.name, [])
            when = to_utc(at)
            if rows.scores_latest and history and when < history[0][0]:
                rows.scores = None  # not after the latest recordings: the whole histories read when asked for
                return
            history.insert(bisect_right([time for time, _ in history], when), (when, state.model_copy()))

    def drop_writes(self) -> None:
        """Forget the scores and condition states not written yet: their transaction was rolled back."""
        self._scores, self._conditions = [], {}

    def _write_scores(self) -> None:
        if self._scores:
            recorded, self._scores = self._scores, []
            self.store.record_scores(recorded)

    def flush_cards(self) -> None:
        """Write the scores recorded and the condition states set in the run so far, and put the scores
        on the account cards: one statement for the scores, one for the states, one read and one write
        for the cards, instead of each for each change (the end of a routing transaction, and of a run)."""
        self._write_scores()
        if self._conditions:
            states, self._conditions = self._conditions, {}
            self.store.set_conditions([(account, key, value, at) for (account, key), (value, at) in states.items()])
        if self._cards:
            pending, self._cards = self._cards, []
            self.store.score_cards(pending)

    # ------------------------------------------------------------------ forwarded to the store

    def log_action(self, action: ActionRecord) -> bool:
        return self.store.log_action(action)

    def count_history(self, *, account: str, playbook: str, at: datetime, seq: int, trigger: str,
                      detail: str) -> ActionRecord | None:
        return self.store.count_history(account=account, playbook=playbook, at=at, seq=seq, trigger=trigger,
                                        detail=detail)

    def complete_tasks(self, account: str, at: datetime, *, task_id: str | None = None,
                       playbook: str | None = None, outcome: str | None = None) -> list[TaskRecord]:
        return self.store.complete_tasks(account, at, task_id=task_id, playbook=playbook, outcome=outcome)

    def task(self, id: str) -> TaskRecord | None:
        return self.store.task(id)

    def suppress(self, email: str, reason: str, at: datetime) -> None:
        self.store.suppress(email, reason, at)


def _fields(traits: Iterable[tuple[str, Any, datetime]]) -> dict[str, Any]:
    """The fields a trait history leaves (a None value removes a field)."""
    fields: dict[str, Any] = {}
    for name, value, _ in traits:
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields
