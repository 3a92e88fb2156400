"""Scores as the readers show them: which one is primary, and an account's scores in full.

`primary_score` is the one rule every reader follows for "the score" of an account list: the
`health` score when there is one, else the first score by name. The candidates are the scores of
the bundle when one is loaded; without a bundle (a store read on its own), the scores recorded
in the store.

`account_scores` is every score of an account with its breakdown, missing inputs and history:
with a bundle, each score of the bundle (one never recorded is unscored, missing the inputs the
account lacks); without, each score recorded for the account.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from dsl import ir
from engine.records import ScoreState
from engine.store import Store

__all__ = ["PRIMARY", "ScoreDetail", "ScorePoint", "account_scores", "latest_score", "missing_inputs", "primary_score",
           "recorded_score_names"]

PRIMARY = "health"  # the primary score's name when there is one


class ScorePoint(BaseModel):
    at: datetime
    value: float | None
    band: str | None


class ScoreDetail(BaseModel):
    name: str
    value: float | None
    band: str | None
    breakdown: dict[str, float]
    missing: list[str]
    at: datetime | None
    history: list[ScorePoint]


def primary_score(bundle: ir.Bundle | None, recorded: Iterable[str] = ()) -> str | None:
    """`health` when it is a candidate, else the first candidate by name; None when there is none.
    The candidates: the bundle's scores, or `recorded` when there is no bundle."""
    names = set(bundle.scores) if bundle is not None else set(recorded)
    return PRIMARY if PRIMARY in names else min(names, default=None)


def recorded_score_names(store: Store, accounts: Iterable[str]) -> set[str]:
    """The names of every score recorded for any of `accounts`."""
    return {name for account in accounts for name in store.latest_scores(account)}


def latest_score(store: Store, account: str, name: str | None) -> tuple[datetime | None, ScoreState,
                                                                         list[tuple[datetime, ScoreState]]]:
    """The moment and state of the score's latest recording (None and unscored when there is none),
    and its whole history, oldest first."""
    history = store.score_history(account, name) if name else []
    if history:
        at, state = history[-1]
        return at, state, history
    return None, ScoreState(name=name or ""), history


def _detail(name: str, history: list[tuple[datetime, ScoreState]], missing_now: list[str]) -> ScoreDetail:
    if history:
        at: datetime | None
        at, latest = history[-1]
        missing = list(latest.missing)
    else:
        at, latest, missing = None, ScoreState(name=name), missing_now
    return ScoreDetail(name=name, value=latest.value, band=latest.band, breakdown=latest.breakdown,
                       missing=missing, at=at,
                       history=[ScorePoint(at=when, value=state.value, band=state.band) for when, state in history])


def missing_inputs(model: ir.ScoreModel, fields: dict[str, Any]) -> list[str]:
    """The inputs of the score the account's fields lack."""
    return [name for name in model.inputs if fields.get(name) is None]


def account_scores(store: Store, bundle: ir.Bundle | None, account: str,
                   fields: dict[str, Any] | None = None) -> dict[str, ScoreDetail]:
    """Every score of the account by name, in name order (see the module's docstring)."""
    if bundle is None:
        return {name: _detail(name, store.score_history(account, name), [])
                for name in sorted(store.latest_scores(account))}
    fields = store.current_fields(account) if fields is None else fields
    return {name: _detail(name, store.score_history(account, name), missing_inputs(model, fields))
            for name, model in sorted(bundle.scores.items())}
