"""Recording score changes: the score history and the `score` actions of the action log.

A score is a pure function of the account's fields (`engine.semantics.scores`); what is stored is its
history, one row per change of value, band or missing inputs, and one `score` action per change
of value or band (becoming scored or unscored included). The action's key names the account,
the score and the origin of the recomputation (a change's sequence number, or a time), so
recording the same recomputation twice logs it once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dsl import ir
from engine.records import ActionRecord, ScoreState, Snapshot
from engine.semantics import scores

if TYPE_CHECKING:
    from engine.store.reads import RoutingReads

__all__ = ["record_scores"]


def _same(before: ScoreState, after: ScoreState) -> bool:
    def key(state: ScoreState) -> tuple[object, ...]:
        return state.value, state.band, sorted(state.missing)

    return key(before) == key(after)


def record_scores(store: RoutingReads, snap: Snapshot, models: Iterable[ir.ScoreModel],
                  origin: str) -> list[ActionRecord]:
    """Store the snapshot's scores of `models` where they moved; the `score` actions logged now."""
    logged = []
    for model in models:
        before = store.score_at(snap.account, model.name, snap.at)
        after = snap.scores.get(model.name) or scores.compute(model, snap.fields)
        if before is not None and _same(before, after):
            continue
        store.record_score(snap.account, after, snap.at)
        if scores.score_changed(before, after):
            action = ActionRecord(at=snap.at, account=snap.account, playbook=None, kind="score",
                                  data=scores.score_data(after), key=f"score/{snap.account}/{model.name}/{origin}")
            if store.log_action(action):
                logged.append(action)
    return logged
