"""Score history (every recomputation with its breakdown) and the state of edge-triggered
conditions (`X becomes true` fires only after X was false or unknown)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from engine.records import ScoreState
from engine.store.account_cards import score_card
from engine.store.database import StoreSection, upsert
from engine.store.schema import condition_state, score_history
from engine.store.types import to_utc

__all__ = ["ScoreSection"]

CHUNK = 500  # accounts per `IN (…)` of a read about many accounts
# Built once, run with parameters (see `engine.store.database`).
_HISTORIES_OF = (
    select(score_history)
    .where(score_history.c.account.in_(bindparam("accounts", expanding=True)))
    .order_by(score_history.c.account, score_history.c.score, score_history.c.at, score_history.c.id)
)
_CONDITIONS_OF = select(condition_state).where(condition_state.c.account.in_(bindparam("accounts", expanding=True)))


def _state(row: Any) -> ScoreState:
    return ScoreState(name=row.score, value=row.value, band=row.band, breakdown=dict(row.breakdown),
                      missing=list(row.missing))


class ScoreSection(StoreSection):
    def record_score(self, account: str, state: ScoreState, at: datetime) -> None:
        with self._db.write(account) as conn:
            conn.execute(score_history.insert().values(
                account=account, score=state.name, at=to_utc(at), value=state.value, band=state.band,
                breakdown=state.breakdown, missing=state.missing,
            ))
            score_card(conn, account, state, at)

    def score_at(self, account: str, name: str, at: datetime) -> ScoreState | None:
        """The score as last recorded at or before `at`."""
        query = (
            select(score_history)
            .where(score_history.c.account == account, score_history.c.score == name,
                   score_history.c.at <= to_utc(at))
            .order_by(score_history.c.at.desc(), score_history.c.id.desc())
            .limit(1)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _state(row)

    def score_history(self, account: str, name: str) -> list[tuple[datetime, ScoreState]]:
        query = (
            select(score_history)
            .where(score_history.c.account == account, score_history.c.score == name)
            .order_by(score_history.c.at, score_history.c.id)
        )
        with self._db.read() as conn:
            return [(row.at, _state(row)) for row in conn.execute(query)]

    def latest_scores(self, account: str) -> dict[str, ScoreState]:
        """Each score's latest recorded state, by score name."""
        query = (
            select(score_history)
            .where(score_history.c.account == account)
            .order_by(score_history.c.at, score_history.c.id)
        )
        with self._db.read() as conn:
            return {row.score: _state(row) for row in conn.execute(query)}

    def get_condition(self, account: str, key: str) -> bool | None:
        """The condition's last known value; None when unknown or never evaluated."""
        query = select(condition_state.c.value).where(
            condition_state.c.account == account, condition_state.c.key == key
        )
        with self._db.read() as conn:
            value = conn.execute(query).scalar()
        return None if value is None else bool(value)

    def condition_since(self, account: str, key: str) -> datetime | None:
        """When the condition's stored value was last set (None: never evaluated)."""
        query = select(condition_state.c.at).where(
            condition_state.c.account == account, condition_state.c.key == key
        )
        with self._db.read() as conn:
            return conn.execute(query).scalar()

    def set_condition(self, account: str, key: str, value: bool | None, at: datetime) -> None:
        with self._db.write(account) as conn:
            upsert(conn, condition_state, {"account": account, "key": key, "value": value, "at": to_utc(at)},
                   ["account", "key"])

    def score_histories_of(self, accounts: Sequence[str]) -> dict[tuple[str, str], list[tuple[datetime, ScoreState]]]:
        """Every score's history of many accounts in one read, by (account, score), oldest first."""
        found: dict[tuple[str, str], list[tuple[datetime, ScoreState]]] = {}
        names = sorted(set(accounts))
        with self._db.read() as conn:
            for first in range(0, len(names), CHUNK):
                for row in conn.execute(_HISTORIES_OF, {"accounts": names[first:first + CHUNK]}):
                    found.setdefault((row.account, row.score), []).append((row.at, _state(row)))
        return found

    def conditions_of(self, accounts: Sequence[str]) -> dict[tuple[str, str], tuple[bool | None, datetime]]:
        """Every stored condition state of many accounts in one read: (value, since) by (account, key)."""
        found: dict[tuple[str, str], tuple[bool | None, datetime]] = {}
        names = sorted(set(accounts))
        with self._db.read() as conn:
            for first in range(0, len(names), CHUNK):
                for row in conn.execute(_CONDITIONS_OF, {"accounts": names[first:first + CHUNK]}):
                    found[(row.account, row.key)] = (None if row.value is None else bool(row.value), row.at)
        return found
