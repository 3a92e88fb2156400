"""Accounts as the readers show them: the list (one line per account: name, segment, the primary
score and its band) and one account in full (fields, every score, journeys, recent actions).

Both answer in the shapes of `GET /v1/accounts` and `GET /v1/accounts/{id}`; the primary score is
`engine.read_model.scores.primary_score`'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import exists, select

from dsl import ir
from engine.read_model.action_log import action_log
from engine.read_model.scores import ScoreDetail, account_scores, primary_score
from engine.read_model.timeline import account_exists
from engine.store import Store
from engine.store.schema import account_cards, accounts, score_history

__all__ = ["RECENT_ACTIONS", "AccountDetail", "AccountSummary", "JourneyOut", "account_detail", "account_summaries",
           "known_account", "text_field"]

RECENT_ACTIONS = 50  # the newest actions of an account's record


class AccountSummary(BaseModel):
    id: str
    name: str | None
    segment: str | None
    score: float | None
    band: str | None
    updated: datetime | None  # when the score was last recorded


class JourneyOut(BaseModel):
    playbook: str
    status: str
    version: str
    entered_at: datetime
    ended_at: datetime | None
    reason: str | None
    workflow_id: str
    run_id: str


class AccountDetail(BaseModel):
    id: str
    fields: dict[str, Any]
    scores: dict[str, ScoreDetail]
    missing: dict[str, list[str]]  # by score: the inputs the account lacks
    journeys: list[JourneyOut]
    recent_actions: list[dict[str, Any]]  # newest last, in the action log's format


def text_field(value: Any) -> str | None:
    """A field's value when it is text, else None."""
    return value if isinstance(value, str) else None


def known_account(store: Store, account: str) -> bool:
    """The store knows the account: it has fields, or actions logged (an erased account may keep some)."""
    return account_exists(store, account)


def account_summaries(store: Store, bundle: ir.Bundle | None, *, band: str | None = None,
                      segment: str | None = None, after: str | None = None,
                      limit: int | None = None) -> list[AccountSummary]:
    """Every account (only those in `band` of the primary score, of `segment`), by id: one read of
    the account cards (`engine.store.account_cards`), whose score is the primary one; `after`: only
    the ids after it; `limit`: at most that many."""
    query = select(account_cards).order_by(account_cards.c.account)
    if after is not None:
        query = query.where(account_cards.c.account > after)
    if limit is not None:
        query = query.limit(limit)
    if segment is not None:
        query = query.where(account_cards.c.segment == segment)
    with store.database.read() as conn:
        recorded: list[str] = [] if bundle is not None else list(
            conn.execute(select(score_history.c.score).distinct()).scalars())
        primary = primary_score(bundle, recorded)
        if band is not None:
            query = query.where(account_cards.c.band == band, account_cards.c.score_name == primary)
        rows = conn.execute(query).all()
    summaries: list[AccountSummary] = []
    for row in rows:
        scored = row.score_name == primary
        summaries.append(AccountSummary(id=row.account, name=row.name, segment=row.segment,
                                        score=row.score if scored else None, band=row.band if scored else None,
                                        updated=row.scored_at if scored else None))
    return summaries


def account_detail(store: Store, bundle: ir.Bundle | None, account: str) -> AccountDetail | None:
    """The account in full; None when the store has no such account."""
    with store.database.read() as conn:
        if not conn.execute(select(exists().where(accounts.c.id == account))).scalar():
            return None
    fields = store.current_fields(account)
    scores = account_scores(store, bundle, account, fields)
    journeys = [JourneyOut(playbook=j.playbook, status=j.status, version=j.version, entered_at=j.entered_at,
                           ended_at=j.ended_at, reason=j.reason, workflow_id=j.workflow_id, run_id=j.run_id)
                for j in store.journeys(account=account)]
    return AccountDetail(id=account, fields=fields, scores=scores,
                         missing={name: detail.missing for name, detail in scores.items()},
                         journeys=journeys, recent_actions=action_log(store, account=account, last=RECENT_ACTIONS))
