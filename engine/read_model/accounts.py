"""Accounts as the readers show them: the list (one line per account: name, segment, the primary
score and its band) and one account in full (fields, every score, journeys, recent actions).

Both answer in the shapes of `GET /v1/accounts` and `GET /v1/accounts/{id}`; the primary score is
`engine.read_model.scores.primary_score`'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from dsl import ir
from engine.read_model.action_log import action_log
from engine.read_model.scores import ScoreDetail, account_scores, latest_score, primary_score, recorded_score_names
from engine.store import Store

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
    return account in store.account_ids() or bool(store.actions(account=account))


def account_summaries(store: Store, bundle: ir.Bundle | None, *, band: str | None = None,
                      segment: str | None = None) -> list[AccountSummary]:
    """Every account (only those in `band` of the primary score, of `segment`), by id."""
    every = store.all_fields()
    score = primary_score(bundle, () if bundle is not None else recorded_score_names(store, every))
    summaries: list[AccountSummary] = []
    for account, fields in every.items():
        updated, state, _ = latest_score(store, account, score)
        summaries.append(AccountSummary(id=account, name=text_field(fields.get("name")),
                                        segment=text_field(fields.get("segment")), score=state.value,
                                        band=state.band, updated=updated))
    return [summary for summary in summaries if band in (None, summary.band) and segment in (None, summary.segment)]


def account_detail(store: Store, bundle: ir.Bundle | None, account: str) -> AccountDetail | None:
    """The account in full; None when the store has no such account."""
    if account not in store.account_ids():
        return None
    fields = store.current_fields(account)
    scores = account_scores(store, bundle, account, fields)
    journeys = [JourneyOut(playbook=j.playbook, status=j.status, version=j.version, entered_at=j.entered_at,
                           ended_at=j.ended_at, reason=j.reason, workflow_id=j.workflow_id, run_id=j.run_id)
                for j in store.journeys(account=account)]
    return AccountDetail(id=account, fields=fields, scores=scores,
                         missing={name: detail.missing for name, detail in scores.items()},
                         journeys=journeys, recent_actions=action_log(store, account=account, last=RECENT_ACTIONS))
