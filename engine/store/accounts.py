"""Accounts, their trait history and their events.

Traits follow the last writer by time: a value observed at `at` replaces the current one unless
the field was already observed later (a late, older value then goes only into the history, so
`fields_at` for past times sees it). The history records changes, not repeats of the same value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from engine.records import Change
from engine.store.database import StoreSection, dialect_insert
from engine.store.reserved import apply_reserved_event
from engine.store.schema import accounts, events, trait_history
from engine.store.types import to_utc

__all__ = ["AccountSection", "same_value"]

_MISSING = object()


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON values: `1 == 1.0`, but `True` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


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
        at = to_utc(at)
        now = datetime.now(UTC)
        with self._db.write(account) as conn:
            row = {"id": event_id, "account": account, "name": event, "at": at, "data": data,
                   "traits": traits, "source": source, "received_at": now}
            inserting = dialect_insert(conn, events).values(**row).on_conflict_do_nothing()
            seq = conn.execute(inserting.returning(events.c.seq)).scalar_one_or_none()
            if seq is None:  # the id was stored before
                return None
            changed, previous = self._apply_traits(conn, account, at, traits, seq, source, now)
            closed = apply_reserved_event(conn, account, event, data, at)
        return Change(seq=seq, event_id=event_id, account=account, at=at, event=event, data=data,
                      traits=changed, previous=previous, source=source, closed_tasks=closed)

    def _apply_traits(
        self, conn: Connection, account: str, at: datetime, traits: dict[str, Any], seq: int,
        source: str, now: datetime,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        stored = conn.execute(
            select(accounts.c.traits, accounts.c.traits_at).where(accounts.c.id == account)
        ).first()
        if stored is None:
            conn.execute(accounts.insert().values(id=account, traits={}, traits_at={}, created_at=now,
                                                  updated_at=now))
            current: dict[str, Any] = {}
            observed: dict[str, str] = {}
        else:
            current, observed = dict(stored.traits), dict(stored.traits_at)
        changed: dict[str, Any] = {}
        previous: dict[str, Any] = {}
        history: list[dict[str, Any]] = []
        for field, value in traits.items():
            last = observed.get(field)
            if last is not None and at < datetime.fromisoformat(last):
                in_effect = self._value_at(conn, account, field, at)
                if (in_effect is _MISSING and value is None) or same_value(in_effect, value):
                    continue
                history.append({"field": field, "value": value})
                continue
            observed[field] = at.isoformat()
            old = current.get(field, _MISSING)
            if (old is _MISSING and value is None) or same_value(old, value):
                continue
            changed[field] = value
            if old is not _MISSING:
                previous[field] = old
            if value is None:
                del current[field]
            else:
                current[field] = value
            history.append({"field": field, "value": value})
        if history:
            conn.execute(trait_history.insert(), [
                {**entry, "account": account, "at": at, "seq": seq, "source": source} for entry in history
            ])
        if traits:
            conn.execute(update(accounts).where(accounts.c.id == account)
                         .values(traits=current, traits_at=observed, updated_at=now))
        return changed, previous

    @staticmethod
    def _value_at(conn: Connection, account: str, field: str, at: datetime) -> Any:
        rows = conn.execute(
            select(trait_history.c.value)
            .where(trait_history.c.account == account, trait_history.c.field == field,
                   trait_history.c.at <= at)
            .order_by(trait_history.c.at.desc(), trait_history.c.id.desc())
            .limit(1)
        ).all()
        if not rows or rows[0].value is None:
            return _MISSING
        return rows[0].value

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
        fields: dict[str, Any] = {}
        with self._db.read() as conn:
            rows = conn.execute(
                select(trait_history.c.field, trait_history.c.value)
                .where(trait_history.c.account == account, trait_history.c.at <= to_utc(at))
                .order_by(trait_history.c.at, trait_history.c.id)
            )
            for row in rows:
                if row.value is None:
                    fields.pop(row.field, None)
                else:
                    fields[row.field] = row.value
        return fields

    def events_until(
        self, account: str, at: datetime, names: set[str] | None = None
    ) -> list[tuple[str, datetime, dict[str, Any]]]:
        """The account's named events at or before `at`, oldest first."""
        query = (
            select(events.c.name, events.c.at, events.c.data)
            .where(events.c.account == account, events.c.name.is_not(None), events.c.at <= to_utc(at))
            .order_by(events.c.at, events.c.seq)
        )
        if names is not None:
            query = query.where(events.c.name.in_(sorted(names)))
        with self._db.read() as conn:
            return [(row.name, row.at, dict(row.data)) for row in conn.execute(query)]
