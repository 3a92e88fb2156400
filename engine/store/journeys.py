"""Journeys as the store sees them: who entered which playbook, when, and how it ended.

Temporal holds a journey's state; these rows answer the router's questions (is one active? when
did the account last enter?) and the CSM's (which journeys is this account in?).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from engine.records import ActionRecord
from engine.store.actions import insert_action
from engine.store.database import StoreSection
from engine.store.driver import Driver
from engine.store.playbook_tallies import count_ended, count_entered
from engine.store.rows import JourneyRow
from engine.store.schema import journeys
from engine.store.types import to_utc

__all__ = ["JourneySection"]

ENDINGS: frozenset[str] = frozenset({"completed", "exited", "goal_reached", "failed"})
_ACCOUNTS_CHUNK = 500  # accounts per `IN (…)`
_ACTIVE_SQL = ("SELECT workflow_id, run_id, playbook, account, version, entered_at, ended_at, reason FROM journeys "
               "WHERE account IN ({marks}) AND status = 'active' ORDER BY entered_at, playbook")
_LAST_ENTRIES_SQL = ("SELECT account, playbook, max(entered_at) FROM journeys WHERE account IN ({marks}) "
                     "GROUP BY account, playbook")


# Entering and ending, on the driver's cursor (`engine.store.driver`): once per journey each.
# Each counts itself in `journey_counts` when it changed a row (`engine.store.playbook_tallies`).
_ENTERED_SQL = ("INSERT INTO journeys (workflow_id, run_id, playbook, account, version, entered_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, 'active') ON CONFLICT DO NOTHING RETURNING run_id")
_ENDED_SQL = ("UPDATE journeys SET ended_at = ?, status = ?, reason = ? "
              "WHERE workflow_id = ? AND run_id = ? AND status = 'active' RETURNING playbook, account, version")


def _entered(driver: Driver, workflow_id: str, run_id: str, playbook: str, account: str, version: str,
             at: datetime) -> None:
    if driver.execute(_ENTERED_SQL, (workflow_id, run_id, playbook, account, version, driver.time(at))).fetchall():
        count_entered(driver, playbook, version)


def _ended(driver: Driver, workflow_id: str, run_id: str, at: datetime, status: str, reason: str | None) -> None:
    if status not in ENDINGS:
        raise ValueError(f"a journey ends as one of {', '.join(sorted(ENDINGS))}, not {status!r}")
    for playbook, account, version in driver.execute(_ENDED_SQL, (driver.time(at), status, reason, workflow_id,
                                                                 run_id)).fetchall():
        count_ended(driver, playbook, account, version, run_id, status, reason)


def _row(row: Any) -> JourneyRow:
    return JourneyRow.model_validate(row._asdict())


class JourneySection(StoreSection):
    def journey_entered(
        self, workflow_id: str, run_id: str, playbook: str, account: str, version: str, at: datetime
    ) -> None:
        """Record an entry; recording the same run twice keeps the first."""
        with self._db.write(account) as conn:
            _entered(Driver(conn), workflow_id, run_id, playbook, account, version, at)

    def journey_ended(
        self, workflow_id: str, run_id: str, at: datetime, status: str, reason: str | None
    ) -> None:
        """Record how an active run ended (`completed`, `exited`, `goal_reached` or `failed`);
        a run that already ended keeps its first ending."""
        with self._db.write() as conn:
            _ended(Driver(conn), workflow_id, run_id, at, status, reason)

    def journey_entered_logged(
        self, workflow_id: str, run_id: str, playbook: str, account: str, version: str, at: datetime,
        action: ActionRecord,
    ) -> None:
        """`journey_entered`, then `log_action(action)`, in one transaction."""
        with self._db.write(account) as conn:
            driver = Driver(conn)
            _entered(driver, workflow_id, run_id, playbook, account, version, at)
            insert_action(driver, action)

    def journey_ended_logged(
        self, workflow_id: str, run_id: str, at: datetime, status: str, reason: str | None,
        before: list[ActionRecord], action: ActionRecord,
    ) -> None:
        """`log_action` for each of `before`, `journey_ended`, then `log_action(action)`, in one transaction."""
        with self._db.write(action.account) as conn:  # an unknown ending raises: nothing is written
            driver = Driver(conn)
            for earlier in before:
                insert_action(driver, earlier)
            _ended(driver, workflow_id, run_id, at, status, reason)
            insert_action(driver, action)

    def active_journey(self, playbook: str, account: str) -> JourneyRow | None:
        query = (
            select(journeys)
            .where(journeys.c.playbook == playbook, journeys.c.account == account,
                   journeys.c.status == "active")
            .order_by(journeys.c.entered_at.desc())
            .limit(1)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _row(row)

    def active_journeys(self, account: str) -> list[JourneyRow]:
        query = (
            select(journeys)
            .where(journeys.c.account == account, journeys.c.status == "active")
            .order_by(journeys.c.entered_at, journeys.c.playbook)
        )
        with self._db.read() as conn:
            return [_row(row) for row in conn.execute(query)]

    def active_journeys_of(self, accounts: Collection[str]) -> dict[str, list[JourneyRow]]:
        """`active_journeys` for many accounts in one read: every account given has an entry."""
        names = sorted(set(accounts))
        found: dict[str, list[JourneyRow]] = {name: [] for name in names}
        with self._db.read() as conn:
            driver = Driver(conn)  # on the driver's cursor: routing reads it for every run
            for first in range(0, len(names), _ACCOUNTS_CHUNK):
                chunk = names[first:first + _ACCOUNTS_CHUNK]
                cursor = driver.execute(_ACTIVE_SQL.format(marks=", ".join("?" * len(chunk))), chunk)
                for workflow_id, run_id, playbook, account, version, entered_at, ended_at, reason in cursor.fetchall():
                    found[account].append(JourneyRow(
                        workflow_id=workflow_id, run_id=run_id, playbook=playbook, account=account, version=version,
                        entered_at=driver.read_time(entered_at), reason=reason,
                        ended_at=None if ended_at is None else driver.read_time(ended_at)))
        return found

    def running_versions(self) -> dict[tuple[str, str], list[JourneyRow]]:
        """The active journeys by (playbook, version): which playbook versions are still running."""
        query = (select(journeys).where(journeys.c.status == "active")
                 .order_by(journeys.c.playbook, journeys.c.version, journeys.c.entered_at))
        found: dict[tuple[str, str], list[JourneyRow]] = {}
        with self._db.read() as conn:
            for row in conn.execute(query):
                found.setdefault((row.playbook, row.version), []).append(_row(row))
        return found

    def journeys(self, account: str | None = None, playbook: str | None = None) -> list[JourneyRow]:
        """Every journey, active or ended, oldest entry first."""
        query = select(journeys).order_by(journeys.c.entered_at, journeys.c.playbook, journeys.c.account)
        if account is not None:
            query = query.where(journeys.c.account == account)
        if playbook is not None:
            query = query.where(journeys.c.playbook == playbook)
        with self._db.read() as conn:
            return [_row(row) for row in conn.execute(query)]

    def last_entry(self, playbook: str, account: str) -> datetime | None:
        query = select(func.max(journeys.c.entered_at)).where(
            journeys.c.playbook == playbook, journeys.c.account == account
        )
        with self._db.read() as conn:
            value = conn.execute(query).scalar()
        if value is None:
            return None
        if isinstance(value, str):  # SQLite returns an aggregate's value untyped
            value = datetime.fromisoformat(value)
        return to_utc(value)

    def last_entries_of(self, accounts: Collection[str]) -> dict[tuple[str, str], datetime]:
        """`last_entry` of every playbook the accounts ever entered, in one read: (account, playbook)
        -> the latest entry; a pair never entered is absent."""
        names = sorted(set(accounts))
        found: dict[tuple[str, str], datetime] = {}
        with self._db.read() as conn:
            driver = Driver(conn)  # on the driver's cursor: routing reads it for every run
            for first in range(0, len(names), _ACCOUNTS_CHUNK):
                chunk = names[first:first + _ACCOUNTS_CHUNK]
                cursor = driver.execute(_LAST_ENTRIES_SQL.format(marks=", ".join("?" * len(chunk))), chunk)
                for account, playbook, value in cursor.fetchall():
                    found[(account, playbook)] = driver.read_time(value)
        return found

    def ever_entered(self, playbook: str, account: str) -> bool:
        return self.last_entry(playbook, account) is not None
