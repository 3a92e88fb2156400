"""Remembered evaluation (`engine.semantics.expression_memo`): a condition is walked again only when
one of the values it reads changed, gives what evaluating it gives, and one that reads `seen` is
always evaluated; a score's components are remembered by the fields each reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dsl import ir
from engine.records import Snapshot
from engine.semantics.evaluator import compute_score, evaluate
from engine.semantics.expression_memo import ExpressionMemo, remembered_score
from engine.store.snapshots import snapshot_of
from tests.engine.test_router import BUNDLE, HEALTH, SEATS

AT = datetime(2026, 2, 4, 9, tzinfo=UTC)
RED = ir.BandIs(score="health", band="red")
LOGINS = ir.Compare(op=">=", left=ir.MetricRef(metric="weekly_logins"), right=ir.Literal_(type="number", value=2))
SEEN = ir.Seen(event="login", within=ir.Duration(amount=1, unit="days"))
VALUES = st.one_of(st.none(), st.integers(0, 120), st.floats(0, 120, allow_nan=False), st.sampled_from(["x", True]))


def _snap(fields: dict[str, Any], events: list[tuple[str, datetime]] | None = None, at: datetime = AT) -> Snapshot:
    return snapshot_of(BUNDLE, "acme", at, fields, events or [])


def test_a_condition_is_evaluated_again_only_when_a_value_it_reads_changed() -> None:
    memo = ExpressionMemo(BUNDLE.scores)
    assert memo.evaluate(SEATS, _snap({"seats_used": 9, "seats_licensed": 10})) is True
    assert memo.evaluate(SEATS, _snap({"seats_used": 9, "seats_licensed": 10, "nps": 3})) is True
    assert memo.evaluated == 1  # nps is not read
    assert memo.evaluate(SEATS, _snap({"seats_used": 2, "seats_licensed": 10})) is False
    assert memo.evaluated == 2
    red = _snap({"dau_pct": 10, "nps": 1})
    assert memo.evaluate(RED, red) is True
    assert memo.evaluate(RED, _snap({"dau_pct": 20, "nps": 2})) is True  # other inputs, the same score
    assert memo.evaluated == 3
    assert memo.evaluate(LOGINS, _snap({}, [("login", AT - timedelta(days=1)), ("login", AT)])) is True
    assert memo.evaluate(LOGINS, _snap({}, [("login", AT)])) is False
    assert memo.evaluated == 5


def test_a_condition_reading_seen_is_evaluated_every_time() -> None:
    memo = ExpressionMemo(BUNDLE.scores)
    events = [("login", AT)]
    assert memo.evaluate(SEEN, _snap({}, events)) is True
    assert memo.evaluate(SEEN, _snap({}, events, AT + timedelta(days=2))) is False  # the same events, later
    assert memo.evaluated == 2


@given(st.lists(st.tuples(VALUES, VALUES, VALUES, VALUES), min_size=1, max_size=8))
def test_remembered_values_are_those_evaluation_gives(rows: list[tuple[Any, Any, Any, Any]]) -> None:
    memo = ExpressionMemo(BUNDLE.scores)
    for used, licensed, dau, nps in rows + rows:
        snap = _snap({"seats_used": used, "seats_licensed": licensed, "dau_pct": dau, "nps": nps})
        for condition in (SEATS, RED):
            assert memo.evaluate(condition, snap) == evaluate(condition, snap, bundle_scores=BUNDLE.scores)
        fields = {"dau_pct": dau, "nps": nps}
        assert remembered_score(HEALTH, fields) == compute_score(HEALTH, fields)
