"""The index of each account's next time-trigger moment: the store's section the scheduler reads
instead of every account (`engine.routing.due_index` keeps it).

One row per account in `next_due`: `at`, a lower bound on the next instant at which one of its
time triggers may fire (None: none will, until a change says otherwise), and `version`, bumped by
every mark. The rules that keep it a lower bound:

- `mark_due` only ever moves a row earlier (or creates it): a change to a date field or the time
  zone, or a new account, marks it due from the change's moment;
- `advance` moves rows later, after a pass computed their next instant, and only the rows whose
  `version` is still the one the pass read: a mark made meanwhile wins, and the account stays due.

Which plan of time triggers the rows were computed for is kept as the cursor `next_due:<plan>`;
`reset_next_due` marks every account due when the plan changes (a new playbook version).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, delete, func, insert, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.store.database import StoreSection
from engine.store.schema import accounts, cursors, next_due
from engine.store.types import to_utc

__all__ = ["DueRow", "NextDueSection"]

DueRow = tuple[str, datetime | None, int]  # (account, at, version)
CHUNK = 500  # accounts per statement
PLAN_PREFIX = "next_due:"

_ADVANCE = (update(next_due)
            .where(and_(next_due.c.account == bindparam("who"), next_due.c.version == bindparam("seen")))
            .values(at=bindparam("next")))


def _marking(dialect: str) -> Any:
    """Insert a row at `at`, or move an existing one to `at` when that is earlier; bump `version`."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(next_due)
    earlier = case((next_due.c.at.is_(None), statement.excluded.at),
                   (statement.excluded.at < next_due.c.at, statement.excluded.at), else_=next_due.c.at)
    return statement.on_conflict_do_update(index_elements=["account"],
                                           set_={"at": earlier, "version": next_due.c.version + 1})


class NextDueSection(StoreSection):
    def mark_due(self, marks: Mapping[str, datetime]) -> None:
        """Each account is due at its moment at the latest (its row created or moved earlier)."""
        if not marks:
            return
        rows = [{"account": account, "at": to_utc(at), "version": 0} for account, at in sorted(marks.items())]
        with self._db.write() as conn:
            statement = _marking(conn.dialect.name)
            for first in range(0, len(rows), CHUNK):
                conn.execute(statement, rows[first:first + CHUNK])

    def due_rows(self, until: datetime, limit: int | None = None) -> list[DueRow]:
        """The accounts due at or before `until`, earliest first: (account, at, version)."""
        query = (select(next_due.c.account, next_due.c.at, next_due.c.version)
                 .where(next_due.c.at <= to_utc(until)).order_by(next_due.c.at, next_due.c.account))
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            return [(row.account, row.at, row.version) for row in conn.execute(query)]

    def earliest_due(self) -> datetime | None:
        """The earliest moment in the index (None: no account is due ever)."""
        with self._db.read() as conn:
            return conn.execute(select(func.min(next_due.c.at))).scalar()

    def advance(self, rows: Iterable[tuple[DueRow, datetime | None]]) -> int:
        """Move each row read by a pass (account, at, version) to its next moment, unless it was
        marked since (its version changed): how many rows moved."""
        params = [{"who": account, "seen": version, "next": None if after is None else to_utc(after)}
                  for (account, _, version), after in rows]
        if not params:
            return 0
        moved = 0
        with self._db.write() as conn:
            for first in range(0, len(params), CHUNK):
                moved += conn.execute(_ADVANCE, params[first:first + CHUNK]).rowcount or 0
        return moved

    def fields_of(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The current fields of these accounts (those the store knows)."""
        found: dict[str, dict[str, Any]] = {}
        with self._db.read() as conn:
            for first in range(0, len(names), CHUNK):
                rows = conn.execute(select(accounts.c.id, accounts.c.traits)
                                    .where(accounts.c.id.in_(list(names[first:first + CHUNK]))))
                found.update((row.id, dict(row.traits)) for row in rows)
        return found

    def next_due_plan(self) -> str | None:
        """The plan of time triggers the index was computed for (None: never computed)."""
        with self._db.read() as conn:
            name = conn.execute(select(cursors.c.name).where(cursors.c.name.startswith(PLAN_PREFIX))).scalar()
        return None if name is None else name.removeprefix(PLAN_PREFIX)

    def reset_next_due(self, plan: str, at: datetime) -> None:
        """Every account due at `at`, for a new plan of time triggers (one statement)."""
        with self._db.write() as conn:
            _reset(conn, plan, to_utc(at))


def _reset(conn: Connection, plan: str, at: datetime) -> None:
    """Every stored account due at `at` (an upsert: a mark made meanwhile cannot collide with it)."""
    conn.execute(delete(cursors).where(cursors.c.name.startswith(PLAN_PREFIX)))
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    # `WHERE true`: SQLite reads an upsert's SELECT without a WHERE as a join's ON
    statement = module.insert(next_due).from_select(
        ["account", "at", "version"],
        select(accounts.c.id, literal(at, next_due.c.at.type), literal(0)).where(true()))
    conn.execute(statement.on_conflict_do_update(
        index_elements=["account"], set_={"at": statement.excluded.at, "version": next_due.c.version + 1}))
    conn.execute(insert(cursors).values(name=PLAN_PREFIX + plan, at=at))
