"""Accounts, their trait history and their events: the store's section that writes input
objects (in batches, `engine.store.trait_batch`) and reads fields and events back.

Traits follow the last writer by time: a value observed at `at` replaces the current one unless
the field was already observed later (a late, older value then goes only into the history, so
`fields_at` for past times sees it). The history records changes, not repeats of the same value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select

from engine.records import Change
from engine.store.database import StoreSection
from engine.store.driver import Driver
from engine.store.rows import NewChange
from engine.store.schema import accounts, events
from engine.store.trait_batch import TraitBatch, same_value
from engine.store.types import to_utc

__all__ = ["AccountSection", "same_value"]


# Built once, run with parameters (see `engine.store.database`).
_EVENTS_UNTIL = (
    select(events.c.name, events.c.at, events.c.data)
    .where(events.c.account == bindparam("account"), events.c.name.is_not(None),
           events.c.at <= bindparam("at"))
    .order_by(events.c.at, events.c.seq)
)
_NAMED_EVENTS_UNTIL = _EVENTS_UNTIL.where(events.c.name.in_(bindparam("names", expanding=True)))


class AccountSection(StoreSection):
    def add_change(
        self,
        account: str,
        at: datetime,
        *,
        event: str | None,
        data: dict[str, Any],
        traits: dict[str, Any],
        event_id: str | None,
        source: str = "ingest",
    ) -> Change | None:
        """Store one input object; None when `event_id` was stored before (nothing changes).

        One transaction: the event row, the traits that changed (with their history), and the
        effect of a reserved event (`engine.store.reserved`).
        """
        new = NewChange(account=account, at=at, event=event, data=data, traits=traits, event_id=event_id,
                        source=source)
        return self.add_changes([new])[0]

    def add_changes(self, changes: Sequence[NewChange], received_at: datetime | None = None) -> list[Change | None]:
        """`add_change` for each, in order, in one transaction: set-based (see `TraitBatch`).

        The result has one entry per input: the stored `Change`, or None for an `event_id` stored
        before or repeated earlier in the same batch. `received_at` is the arrival moment stored
        with them (default: the wall clock; a simulation or a process on another clock gives its own).
        """
        if not changes:
            return []
        now = to_utc(received_at) if received_at is not None else datetime.now(UTC)
        with self._db.write(*{new.account for new in changes}) as conn:
            return TraitBatch(conn, now).store(changes)


    def account_ids(self) -> list[str]:
        with self._db.read() as conn:
            return list(conn.execute(select(accounts.c.id).order_by(accounts.c.id)).scalars())

    def current_fields(self, account: str) -> dict[str, Any]:
        """The account's fields now; an unknown account has none."""
        with self._db.read() as conn:
            traits = conn.execute(select(accounts.c.traits).where(accounts.c.id == account)).scalar()
        return dict(traits or {})

    def all_fields(self) -> dict[str, dict[str, Any]]:
        """Every account's current fields, by account id."""
        with self._db.read() as conn:
            rows = conn.execute(select(accounts.c.id, accounts.c.traits).order_by(accounts.c.id))
            return {row.id: dict(row.traits) for row in rows}

    def fields_at(self, account: str, at: datetime) -> dict[str, Any]:
        """The account's fields as they stood at `at`, from the trait history."""
        with self._db.read() as conn:
            return _fields_at(Driver(conn), account, at)

    def fields_and_event_stamps(self, account: str, at: datetime) -> tuple[dict[str, Any], list[tuple[str, datetime]]]:
        """`fields_at` and `event_stamps_until`, read together: what a snapshot is made of."""
        with self._db.read() as conn:
            driver = Driver(conn)
            return _fields_at(driver, account, at), _event_stamps_until(driver, account, at)

    def events_until(
        self, account: str, at: datetime, names: set[str] | None = None
    ) -> list[tuple[str, datetime, dict[str, Any]]]:
        """The account's named events at or before `at`, oldest first."""
        parameters: dict[str, Any] = {"account": account, "at": to_utc(at)}
        if names is not None:
            parameters["names"] = sorted(names)
        with self._db.read() as conn:
            rows = conn.execute(_EVENTS_UNTIL if names is None else _NAMED_EVENTS_UNTIL, parameters)
            return [(row.name, row.at, dict(row.data)) for row in rows]

    def event_stamps_until(self, account: str, at: datetime) -> list[tuple[str, datetime]]:
        """The names and times of the account's events at or before `at`, oldest first: what a
        snapshot reads of them (`events_until` without the payloads)."""
        with self._db.read() as conn:
            return _event_stamps_until(Driver(conn), account, at)


# A snapshot's reads: on the driver's cursor (`engine.store.driver`), once per journey step.
_FIELDS_AT_SQL = "SELECT field, value FROM trait_history WHERE account = ? AND at <= ? ORDER BY at, seq"
_EVENT_STAMPS_SQL = ("SELECT name, at FROM events WHERE account = ? AND name IS NOT NULL AND at <= ? "
                     "ORDER BY at, seq")


def _fields_at(driver: Driver, account: str, at: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for field, stored in driver.execute(_FIELDS_AT_SQL, (account, driver.time(at))).fetchall():
        value = driver.read_json(stored)
        if value is None:
            fields.pop(field, None)
        else:
            fields[field] = value
    return fields


def _event_stamps_until(driver: Driver, account: str, at: datetime) -> list[tuple[str, datetime]]:
    rows = driver.execute(_EVENT_STAMPS_SQL, (account, driver.time(at))).fetchall()
    return [(name, driver.read_time(stamp)) for name, stamp in rows]
