"""Accounts, their trait history and their events.

Traits follow the last writer by time: a value observed at `at` replaces the current one unless
the field was already observed later (a late, older value then goes only into the history, so
`fields_at` for past times sees it). The history records changes, not repeats of the same value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from engine.records import Change
from engine.store.database import StoreSection, insert_ignoring
from engine.store.reserved import apply_reserved_event
from engine.store.rows import NewChange
from engine.store.schema import accounts, events, trait_history
from engine.store.types import to_utc

__all__ = ["AccountSection", "same_value"]

_MISSING = object()

# Built once, run with parameters (see `engine.store.database`).
_ACCOUNT_TRAITS = select(accounts.c.traits, accounts.c.traits_at).where(accounts.c.id == bindparam("account"))
_UPDATE_TRAITS = (
    update(accounts)
    .where(accounts.c.id == bindparam("account"))
    .values(traits=bindparam("traits"), traits_at=bindparam("traits_at"), updated_at=bindparam("now"))
)
_VALUE_AT = (
    select(trait_history.c.value)
    .where(trait_history.c.account == bindparam("account"), trait_history.c.field == bindparam("field"),
           trait_history.c.at <= bindparam("at"))
    .order_by(trait_history.c.at.desc(), trait_history.c.id.desc())
    .limit(1)
)
_FIELDS_AT = (
    select(trait_history.c.field, trait_history.c.value)
    .where(trait_history.c.account == bindparam("account"), trait_history.c.at <= bindparam("at"))
    .order_by(trait_history.c.at, trait_history.c.id)
)
_EVENTS_UNTIL = (
    select(events.c.name, events.c.at, events.c.data)
    .where(events.c.account == bindparam("account"), events.c.name.is_not(None),
           events.c.at <= bindparam("at"))
    .order_by(events.c.at, events.c.seq)
)
_NAMED_EVENTS_UNTIL = _EVENTS_UNTIL.where(events.c.name.in_(bindparam("names", expanding=True)))


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
        new = NewChange(account=account, at=at, event=event, data=data, traits=traits, event_id=event_id,
                        source=source)
        with self._db.write(account) as conn:
            return self._add(conn, new, datetime.now(UTC))

    def add_changes(self, changes: Sequence[NewChange]) -> list[Change | None]:
        """`add_change` for each, in order, in one transaction (much faster for a batch)."""
        now = datetime.now(UTC)
        with self._db.write(*(new.account for new in changes)) as conn:
            return [self._add(conn, new, now) for new in changes]

    def _add(self, conn: Connection, new: NewChange, now: datetime) -> Change | None:
        at = to_utc(new.at)
        row = {"id": new.event_id, "account": new.account, "name": new.event, "at": at, "data": new.data,
               "traits": new.traits, "source": new.source, "received_at": now}
        seq = insert_ignoring(conn, events, row)
        if seq is None:  # the id was stored before
            return None
        changed, previous = self._apply_traits(conn, new.account, at, new.traits, seq, new.source, now)
        closed = apply_reserved_event(conn, new.account, new.event, new.data, at)
        return Change(seq=seq, event_id=new.event_id, account=new.account, at=at, event=new.event,
                      data=new.data, traits=changed, previous=previous, source=new.source,
                      closed_tasks=closed)

    def _apply_traits(
        self, conn: Connection, account: str, at: datetime, traits: dict[str, Any], seq: int,
        source: str, now: datetime,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        stored = conn.execute(_ACCOUNT_TRAITS, {"account": account}).first()
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
            conn.execute(_UPDATE_TRAITS, {"account": account, "traits": current, "traits_at": observed,
                                          "now": now})
        return changed, previous

    @staticmethod
    def _value_at(conn: Connection, account: str, field: str, at: datetime) -> Any:
        rows = conn.execute(_VALUE_AT, {"account": account, "field": field, "at": at}).all()
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
            rows = conn.execute(_FIELDS_AT, {"account": account, "at": to_utc(at)})
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
        parameters: dict[str, Any] = {"account": account, "at": to_utc(at)}
        if names is not None:
            parameters["names"] = sorted(names)
        with self._db.read() as conn:
            rows = conn.execute(_EVENTS_UNTIL if names is None else _NAMED_EVENTS_UNTIL, parameters)
            return [(row.name, row.at, dict(row.data)) for row in rows]
