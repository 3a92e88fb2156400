"""Score history (every recomputation with its breakdown) and the state of edge-triggered
conditions (`X becomes true` fires only after X was false or unknown)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.records import ScoreState
from engine.store.account_cards import score_card, score_cards
from engine.store.database import StoreSection
from engine.store.driver import Driver
from engine.store.schema import condition_state, score_history
from engine.store.types import to_utc

__all__ = ["ScoreSection"]

CHUNK = 500  # accounts per `IN (…)` of a read about many accounts
# Read ahead for a run of routing, many accounts at once: on the driver's cursor (`engine.store.driver`).
_HISTORIES_SQL = ("SELECT account, score, at, value, band, breakdown, missing FROM score_history "
                  "WHERE account IN ({marks}) ORDER BY account, score, at, id")
# Routing's writes, once per change that moves a score or a condition
_RECORD_SQL = ("INSERT INTO score_history (account, score, at, value, band, breakdown, missing) "
               "VALUES (?, ?, ?, ?, ?, ?j, ?j)")
_SET_CONDITION_SQL = ("INSERT INTO condition_state (account, key, value, at) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (account, key) DO UPDATE SET value = excluded.value, at = excluded.at")
# PostgreSQL: a routing transaction's scores in one statement, in the order given (their ids)
_RECORD_MANY_PG = ("INSERT INTO score_history (account, score, at, value, band, breakdown, missing) "
                   "SELECT account, score, at, value, band, breakdown::jsonb, missing::jsonb FROM unnest("
                   "%s::text[], %s::text[], %s::timestamptz[], %s::float8[], %s::text[], %s::text[], %s::text[]) "
                   "AS r(account, score, at, value, band, breakdown, missing)")
# PostgreSQL: a routing transaction's states in one statement (keys distinct: a row is updated once)
_SET_CONDITIONS_PG = ("INSERT INTO condition_state (account, key, value, at) SELECT * FROM "
                      "unnest(%s::text[], %s::text[], %s::boolean[], %s::timestamptz[]) "
                      "ON CONFLICT (account, key) DO UPDATE SET value = excluded.value, at = excluded.at")
_LATEST_SQL = ("SELECT account, score, at, value, band, breakdown, missing FROM ("
               "SELECT account, score, at, value, band, breakdown, missing, row_number() OVER ("
               "PARTITION BY account, score ORDER BY at DESC, id DESC) AS rank FROM score_history "
               "WHERE account IN ({marks})) AS latest WHERE rank = 1")
_CONDITIONS_SQL = "SELECT account, key, value, at FROM condition_state WHERE account IN ({marks})"


def _state(row: Any) -> ScoreState:
    return ScoreState(name=row.score, value=row.value, band=row.band, breakdown=dict(row.breakdown),
                      missing=list(row.missing))


class ScoreSection(StoreSection):
    def record_score(self, account: str, state: ScoreState, at: datetime, *, card: bool = True) -> None:
        """Record a score; `card=False` leaves the account's card to the caller (`score_cards`)."""
        with self._db.write(account) as conn:
            driver = Driver(conn)
            driver.execute(_RECORD_SQL, (account, state.name, driver.time(at), state.value, state.band,
                                         driver.json(state.breakdown), driver.json(state.missing)))
            if card:
                score_card(conn, account, state, at)

    def record_scores(self, recordings: Sequence[tuple[str, ScoreState, datetime]]) -> None:
        """`record_score(..., card=False)` for many, in order, in one transaction and one round trip
        (a routing transaction's scores, written at its end)."""
        if not recordings:
            return
        with self._db.write(*{account for account, _, _ in recordings}) as conn:
            driver = Driver(conn)
            rows = [(account, state.name, driver.time(at), state.value, state.band, driver.json(state.breakdown),
                     driver.json(state.missing)) for account, state, at in recordings]
            if driver.sqlite:
                driver.executemany(_RECORD_SQL, rows)
            else:
                driver.cursor.execute(_RECORD_MANY_PG, tuple(list(column) for column in zip(*rows, strict=True)))

    def score_cards(self, recordings: Sequence[tuple[str, ScoreState, datetime]]) -> None:
        """Put recorded scores on the accounts' cards, in order, in one transaction (`account_cards.score_cards`)."""
        if recordings:
            with self._db.write(*{account for account, _, _ in recordings}) as conn:
                score_cards(conn, recordings)

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
            driver = Driver(conn)
            driver.execute(_SET_CONDITION_SQL, (account, key, value, driver.time(at)))

    def set_conditions(self, states: Sequence[tuple[str, str, bool | None, datetime]]) -> None:
        """`set_condition` for many (account, key, value, at), in order (the last of a key stays), in one
        transaction and one round trip (a routing transaction's condition states, written at its end)."""
        if not states:
            return
        with self._db.write(*{account for account, _, _, _ in states}) as conn:
            driver = Driver(conn)
            if driver.sqlite:
                driver.executemany(_SET_CONDITION_SQL, [(account, key, value, driver.time(at))
                                                        for account, key, value, at in states])
                return
            latest = {(account, key): (value, to_utc(at)) for account, key, value, at in states}
            driver.cursor.execute(_SET_CONDITIONS_PG, ([account for account, _ in latest], [key for _, key in latest],
                                                       [value for value, _ in latest.values()],
                                                       [at for _, at in latest.values()]))

    def score_histories_of(self, accounts: Sequence[str]) -> dict[tuple[str, str], list[tuple[datetime, ScoreState]]]:
        """Every score's history of many accounts in one read, by (account, score), oldest first."""
        found: dict[tuple[str, str], list[tuple[datetime, ScoreState]]] = {}
        names = sorted(set(accounts))
        with self._db.read() as conn:
            driver = Driver(conn)
            for first in range(0, len(names), CHUNK):
                chunk = names[first:first + CHUNK]
                cursor = driver.execute(_HISTORIES_SQL.format(marks=", ".join("?" * len(chunk))), chunk)
                for account, score, at, value, band, breakdown, missing in cursor.fetchall():
                    found.setdefault((account, score), []).append((driver.read_time(at), ScoreState.model_construct(
                        name=score, value=value, band=band, breakdown=dict(driver.read_json(breakdown)),
                        missing=list(driver.read_json(missing)))))  # as written: no validation again
        return found

    def latest_scores_of(self, accounts: Sequence[str]) -> dict[tuple[str, str], tuple[datetime, ScoreState]]:
        """Each score's latest recording of many accounts in one read, by (account, score): what
        routing in time order reads, however long the score's history."""
        found: dict[tuple[str, str], tuple[datetime, ScoreState]] = {}
        names = sorted(set(accounts))
        with self._db.read() as conn:
            driver = Driver(conn)
            for first in range(0, len(names), CHUNK):
                chunk = names[first:first + CHUNK]
                cursor = driver.execute(_LATEST_SQL.format(marks=", ".join("?" * len(chunk))), chunk)
                for account, score, at, value, band, breakdown, missing in cursor.fetchall():
                    found[(account, score)] = (driver.read_time(at), ScoreState.model_construct(
                        name=score, value=value, band=band, breakdown=dict(driver.read_json(breakdown)),
                        missing=list(driver.read_json(missing))))
        return found

    def conditions_of(self, accounts: Sequence[str]) -> dict[tuple[str, str], tuple[bool | None, datetime]]:
        """Every stored condition state of many accounts in one read: (value, since) by (account, key)."""
        found: dict[tuple[str, str], tuple[bool | None, datetime]] = {}
        names = sorted(set(accounts))
        with self._db.read() as conn:
            driver = Driver(conn)
            for first in range(0, len(names), CHUNK):
                chunk = names[first:first + CHUNK]
                cursor = driver.execute(_CONDITIONS_SQL.format(marks=", ".join("?" * len(chunk))), chunk)
                for account, key, value, at in cursor.fetchall():
                    found[(account, key)] = (None if value is None else bool(value), driver.read_time(at))
        return found
