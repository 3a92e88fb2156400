"""Account cards: one row per account with what the cockpit lists, sorts and filters accounts by
(name, segment, ARR, renewal date, CSM and their manager, the primary score and its band), kept
in step with the account's fields and scores in the same transactions that change them.

The accounts' fields are JSON; a list sorted by ARR or filtered by band over JSON would read every
account. The cards are plain columns with an index for each of the cockpit's reads
(`engine.read_model.account_pages`), so a page reads the rows it shows.

- `write_cards`: the trait batch (`engine.store.trait_batch`) writes the cards of the accounts it
  created or whose listed fields changed;
- `score_card`: `record_score` puts the latest recording of the card's score on it (`score_cards`:
  routing's recordings of a run at once, `engine.routing.account_cache`). The card's
  score is `health` once the account has one, else the first score recorded by name: the rule of
  the primary score (`engine.read_model.scores.primary_score`) applied to what is recorded;
- `rebuild_cards`: every card from the accounts and the score history (migration 0010, the bench).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from engine.records import ScoreState
from engine.store.driver import Driver
from engine.store.schema import account_cards, accounts, score_history
from engine.store.types import to_utc

__all__ = ["CARD_FIELDS", "PRIMARY_SCORE", "card_of", "csm_display_name", "rebuild_cards", "score_card",
           "score_cards", "write_cards"]

CARD_FIELDS = frozenset({"name", "segment", "arr", "renewal_date", "csm"})  # the fields a card shows
PRIMARY_SCORE = "health"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FACTS = ("name", "name_key", "segment", "arr", "renewal", "csm_email", "csm_name", "manager_email")
CHUNK = 500


def _text(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] or None if isinstance(value, str) else None


def _email(person: Any) -> str | None:
    if isinstance(person, dict):
        person = person.get("email")
    text = _text(person, 320)
    return text.lower() if text else None


def csm_display_name(person: Any) -> str | None:
    """An owner as people read them: the owner's name, else the address's local part (never the address)."""
    name = _text(person.get("name"), 200) if isinstance(person, dict) else None
    if name:
        return name
    email = _email(person)
    return email.split("@", 1)[0] if email else None


def card_of(account: str, traits: Mapping[str, Any]) -> dict[str, Any]:
    """The card's listed columns (not its score) for an account with these fields."""
    name = _text(traits.get("name"), 2000)
    arr = traits.get("arr")
    renewal = traits.get("renewal_date")
    csm = traits.get("csm")
    manager = csm.get("manager") if isinstance(csm, dict) else None
    return {
        "account": account, "name": name, "name_key": (name or account).lower()[:200],
        "segment": _text(traits.get("segment"), 200),
        "arr": float(arr) if isinstance(arr, int | float) and not isinstance(arr, bool) else None,
        "renewal": renewal[:10] if isinstance(renewal, str) and _DATE.match(renewal) else None,
        "csm_email": _email(csm), "csm_name": csm_display_name(csm), "manager_email": _email(manager),
    }


def _upsert(conn: Connection, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = module.insert(account_cards)
    statement = statement.on_conflict_do_update(index_elements=["account"],
                                                set_={name: statement.excluded[name] for name in columns})
    for first in range(0, len(rows), CHUNK):
        conn.execute(statement, rows[first:first + CHUNK])


def write_cards(conn: Connection, traits: Mapping[str, Mapping[str, Any]]) -> None:
    """Write the listed columns of these accounts' cards (their scores stay), in the caller's transaction."""
    if traits:
        _upsert(conn, [card_of(account, fields) for account, fields in traits.items()], _FACTS)


def _takes_over(current: str | None, new: str) -> bool:
    """Whether a recording of score `new` becomes the card's score, the card holding `current`."""
    if current is None or current == new or new == PRIMARY_SCORE:
        return True
    return current != PRIMARY_SCORE and new < current


def score_card(conn: Connection, account: str, state: ScoreState, at: datetime) -> None:
    """Put a new recording of a score on the account's card, when it is the card's score (see above)."""
    score_cards(conn, [(account, state, at)])


# On the driver's cursor (`engine.store.driver`): SQLAlchemy expands an `IN` of 500 names slowly.
_CARD_SCORES_SQL = "SELECT account, score_name, scored_at FROM account_cards WHERE account IN ({marks})"
_SET_CARD_SCORE_SQL = "UPDATE account_cards SET score_name = ?, score = ?, band = ?, scored_at = ? WHERE account = ?"


def score_cards(conn: Connection, recordings: Sequence[tuple[str, ScoreState, datetime]]) -> None:
    """`score_card` for many recordings, in the order they were recorded: the cards read in one
    query per `CHUNK` accounts and the changed ones written in one statement (routing puts a run's
    score changes on the cards once, at the end of its transaction)."""
    names = sorted({account for account, _, _ in recordings})
    driver = Driver(conn)
    cards: dict[str, dict[str, Any]] = {}
    for first in range(0, len(names), CHUNK):
        chunk = names[first:first + CHUNK]
        for account, score_name, scored_at in driver.execute(
                _CARD_SCORES_SQL.format(marks=", ".join("?" * len(chunk))), chunk).fetchall():
            cards[account] = {"score_name": score_name,
                              "scored_at": None if scored_at is None else driver.read_time(scored_at)}
    changed: dict[str, tuple[Any, ...]] = {}
    for account, state, at in recordings:
        card = cards.get(account)
        if card is None or not _takes_over(card["score_name"], state.name):
            continue
        when = to_utc(at)
        if card["score_name"] == state.name and card["scored_at"] is not None and when < card["scored_at"]:
            continue  # a late recording: the card keeps the latest
        card.update(score_name=state.name, scored_at=when)
        changed[account] = (state.name, state.value, state.band, driver.time(when), account)
    if changed:
        driver.cursor.executemany(driver.sql(_SET_CARD_SCORE_SQL), list(changed.values()))


def rebuild_cards(conn: Connection) -> int:
    """Every account's card anew, from its fields and its latest scores; how many cards."""
    conn.execute(delete(account_cards))
    ids = list(conn.execute(select(accounts.c.id).order_by(accounts.c.id)).scalars())
    for first in range(0, len(ids), CHUNK):
        chunk = ids[first:first + CHUNK]
        rows = {row.id: card_of(row.id, dict(row.traits or {}))
                for row in conn.execute(select(accounts.c.id, accounts.c.traits).where(accounts.c.id.in_(chunk)))}
        latest = (select(score_history.c.account, score_history.c.score, score_history.c.value, score_history.c.band,
                         score_history.c.at,
                         func.row_number().over(partition_by=(score_history.c.account, score_history.c.score),
                                                order_by=(score_history.c.at.desc(), score_history.c.id.desc()))
                         .label("rank"))
                  .where(score_history.c.account.in_(chunk)).subquery())
        for score in conn.execute(select(latest).where(latest.c.rank == 1).order_by(latest.c.account, latest.c.score)):
            card = rows.get(score.account)
            if card is not None and _takes_over(card.get("score_name"), score.score):
                card.update(score_name=score.score, score=score.value, band=score.band, scored_at=score.at)
        for card in rows.values():
            for name in ("score_name", "score", "band", "scored_at"):
                card.setdefault(name, None)
        if rows:
            conn.execute(account_cards.insert(), list(rows.values()))
    return len(ids)
