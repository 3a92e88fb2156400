"""The evaluator: three-valued logic, percentages, scores, metrics, events, dates, reads and rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsl import ir
from engine.records import ScoreState, Snapshot
from engine.semantics.evaluator import UNKNOWN, describe, evaluate, evaluate_with_reads, truthy, why_not

AT = datetime(2026, 2, 4, 9, tzinfo=UTC)


def snap(**fields: Any) -> Snapshot:
    return Snapshot(account="techcorp", at=AT, fields=fields)


def field(*path: str) -> ir.FieldRef:
    return ir.FieldRef(path=path)


def num(value: float) -> ir.Literal_:
    return ir.Literal_(type="number", value=value)


def pct(value: float) -> ir.Literal_:
    return ir.Literal_(type="percent", value=value)


def text(value: str) -> ir.Literal_:
    return ir.Literal_(type="text", value=value)


def cmp(op: str, left: ir.Expr, right: ir.Expr) -> ir.Compare:
    return ir.Compare(op=op, left=left, right=right)


def both(*args: ir.Expr) -> ir.Logic:
    return ir.Logic(op="and", args=args)


def either(*args: ir.Expr) -> ir.Logic:
    return ir.Logic(op="or", args=args)


LOW_ADOPTION = cmp("<", field("feature_adoption"), pct(20))


def test_percent_fields_compare_as_0_to_100() -> None:
    assert evaluate(LOW_ADOPTION, snap(feature_adoption=15)) is True
    assert evaluate(LOW_ADOPTION, snap(feature_adoption=20)) is False


def test_missing_field_is_unknown_and_comparisons_with_it_are_unknown() -> None:
    assert evaluate(field("feature_adoption"), snap()) is UNKNOWN
    assert evaluate(field("feature_adoption"), snap(feature_adoption=None)) is UNKNOWN
    assert evaluate(LOW_ADOPTION, snap()) is UNKNOWN
    assert evaluate(cmp("!=", field("segment"), text("smb")), snap()) is UNKNOWN


def test_unknown_is_never_truthy() -> None:
    assert truthy(True)
    assert not truthy(UNKNOWN)
    assert not truthy(False)
    assert not truthy(1)


@pytest.mark.parametrize(
    ("left", "right", "conjunction", "disjunction"),
    [
        (True, True, True, True),
        (True, False, False, True),
        (False, False, False, False),
        (True, None, UNKNOWN, True),
        (False, None, False, UNKNOWN),
        (None, None, UNKNOWN, UNKNOWN),
    ],
)
def test_and_or_follow_kleene(left: Any, right: Any, conjunction: Any, disjunction: Any) -> None:
    values = snap(a=left, b=right)
    assert evaluate(both(field("a"), field("b")), values) is conjunction
    assert evaluate(either(field("a"), field("b")), values) is disjunction


def test_not_of_unknown_is_unknown() -> None:
    assert evaluate(ir.Not(arg=field("a")), snap()) is UNKNOWN
    assert evaluate(ir.Not(arg=field("a")), snap(a=False)) is True


def test_percent_of_a_field() -> None:
    seats = cmp(">=", field("seats_used"), ir.PercentOf(percent=pct(80), of=field("seats_licensed")))
    assert evaluate(seats, snap(seats_used=80, seats_licensed=100)) is True
    assert evaluate(seats, snap(seats_used=79, seats_licensed=100)) is False
    assert evaluate(seats, snap(seats_used=79)) is UNKNOWN


def test_arithmetic_and_division_by_zero() -> None:
    ratio = ir.Arith(op="/", left=field("a"), right=field("b"))
    assert evaluate(ratio, snap(a=6, b=3)) == 2
    assert evaluate(ratio, snap(a=6, b=0)) is UNKNOWN
    assert evaluate(ir.Arith(op="+", left=field("a"), right=num(1)), snap()) is UNKNOWN


def test_text_and_numbers_are_never_equal() -> None:
    assert evaluate(cmp("==", field("a"), num(5)), snap(a="5")) is False
    assert evaluate(cmp("==", field("a"), num(1)), snap(a=True)) is False
    assert evaluate(cmp("<", field("a"), num(5)), snap(a="x")) is UNKNOWN


def test_dates_compare_as_dates() -> None:
    before = cmp("<", field("renewal_date"), ir.Literal_(type="date", value="2026-04-15"))
    assert evaluate(before, snap(renewal_date="2026-04-01")) is True
    assert evaluate(before, snap(renewal_date="2026-05-01")) is False
    later = cmp(">", field("renewal_date"), field("signed_date"))
    assert evaluate(later, snap(renewal_date="2026-04-15", signed_date="2025-04-15")) is True


def test_field_paths_reach_into_owners() -> None:
    csm = {"email": "sam@vendor.example", "manager": {"email": "lee@vendor.example"}}
    assert evaluate(field("csm", "manager", "email"), snap(csm=csm)) == "lee@vendor.example"
    assert evaluate(field("csm", "manager", "name"), snap(csm=csm)) is UNKNOWN


def test_band_is_reads_the_snapshot_band_and_unscored_is_unknown() -> None:
    red = ir.BandIs(score="health", band="red")
    scored = Snapshot(account="a", at=AT, scores={"health": ScoreState(name="health", value=2, band="red")})
    unscored = Snapshot(account="a", at=AT, scores={"health": ScoreState(name="health", missing=["nps"])})
    assert evaluate(red, scored) is True
    assert evaluate(ir.BandIs(score="health", band="green"), scored) is False
    assert evaluate(red, unscored) is UNKNOWN
    assert evaluate(ir.Not(arg=red), unscored) is UNKNOWN
    assert evaluate(ir.ScoreRef(score="health"), scored) == 2
    assert evaluate(ir.ScoreRef(score="health", part="band"), scored) == "red"
    assert evaluate(ir.ScoreRef(score="health"), unscored) is UNKNOWN


def test_metrics_come_from_the_snapshot() -> None:
    values = Snapshot(account="a", at=AT, metrics={"weekly_logins": 3})
    assert evaluate(cmp(">=", ir.MetricRef(metric="weekly_logins"), num(3)), values) is True
    assert evaluate(ir.MetricRef(metric="monthly_logins"), values) is UNKNOWN


def test_seen_within_and_older_than_are_relative_to_the_snapshot_time() -> None:
    events = [
        ("signed", AT - timedelta(days=31)),
        ("login", AT - timedelta(days=2)),
        ("login", AT + timedelta(1)),
    ]
    values = Snapshot(account="a", at=AT, events=events)
    week = ir.Duration(amount=7, unit="days")
    month = ir.Duration(amount=30, unit="days")
    assert evaluate(ir.Seen(event="signed"), values) is True
    assert evaluate(ir.Seen(event="project_created"), values) is False
    assert evaluate(ir.Seen(event="signed", within=week), values) is False
    assert evaluate(ir.Seen(event="login", within=week), values) is True
    assert evaluate(ir.Seen(event="signed", older_than=month), values) is True
    assert evaluate(ir.Seen(event="login", older_than=month), values) is False
    # an event after the snapshot time has not been seen yet
    assert evaluate(ir.Seen(event="login", within=ir.Duration(amount=1, unit="days")), values) is False


def test_seen_since_entry_leaves_out_the_event_that_started_the_journey() -> None:
    entered = AT - timedelta(days=7)
    answered_at_entry = Snapshot(account="a", at=AT, events=[("nps_response", entered)])
    answered_again = Snapshot(account="a", at=AT, events=[("nps_response", entered),
                                                          ("nps_response", AT - timedelta(days=1))])
    since_entry = ir.Seen(event="nps_response", since_entry=True)
    assert evaluate(ir.Seen(event="nps_response", within=ir.Duration(amount=7, unit="days")),
                    answered_at_entry) is True  # the off-by-one `since entry` is for
    assert evaluate(since_entry, answered_at_entry, entered_at=entered) is False
    assert evaluate(since_entry, answered_again, entered_at=entered) is True
    assert evaluate(since_entry, answered_again) is UNKNOWN  # no journey, no entry to count from
    assert describe(since_entry) == "seen nps_response since entry"


def test_count_true_with_unknowns() -> None:
    flags = (field("a"), field("b"), field("c"))
    exactly_two = ir.CountTrue(op="exactly", count=2, args=flags)
    at_least_two = ir.CountTrue(op="at_least", count=2, args=flags)
    at_most_one = ir.CountTrue(op="at_most", count=1, args=flags)
    assert evaluate(exactly_two, snap(a=True, b=True, c=False)) is True
    assert evaluate(exactly_two, snap(a=True, b=True, c=True)) is False
    assert evaluate(exactly_two, snap(a=True, b=True)) is UNKNOWN
    assert evaluate(exactly_two, snap(a=False, b=False)) is False
    assert evaluate(at_least_two, snap(a=True, b=True)) is True
    assert evaluate(at_least_two, snap(a=False, b=False)) is False
    assert evaluate(at_most_one, snap(a=True, b=True)) is False
    assert evaluate(at_most_one, snap(a=True)) is UNKNOWN


def test_task_state_and_event_fields() -> None:
    assert evaluate(ir.TaskState(state="open"), snap(), task_state="open") is True
    assert evaluate(ir.TaskState(state="done"), snap(), task_state="open") is False
    assert evaluate(ir.TaskState(state="open"), snap()) is UNKNOWN
    promoter = cmp(">=", ir.EventField(name="score"), num(9))
    assert evaluate(promoter, snap(), event_data={"score": 10}) is True
    assert evaluate(promoter, snap(), event_data={"score": 7}) is False
    assert evaluate(promoter, snap(), event_data={}) is UNKNOWN


def test_reads_name_what_the_expression_looked_at() -> None:
    condition = either(LOW_ADOPTION, ir.BandIs(score="health", band="red"))
    values = Snapshot(
        account="a",
        at=AT,
        fields={"feature_adoption": 15},
        scores={"health": ScoreState(name="health", missing=["nps"])},
    )
    value, reads = evaluate_with_reads(condition, values)
    assert value is True
    assert reads == {"feature_adoption": 15, "health.band": None}


def test_score_models_fill_in_a_score_missing_from_the_snapshot() -> None:
    model = ir.ScoreModel(
        name="fit",
        components=(
            ir.Component(
                name="size",
                max_points=10,
                inputs=("seats_used",),
                rules=(
                    ir.PointRule(points=10, when=cmp(">", field("seats_used"), num(5))),
                    ir.PointRule(points=0),
                ),
            ),
        ),
        bands=(ir.Band(name="high", low=5, high=10), ir.Band(name="low", low=0, high=4)),
    )
    high = ir.BandIs(score="fit", band="high")
    assert evaluate(high, snap(seats_used=9)) is UNKNOWN
    assert evaluate(high, snap(seats_used=9), bundle_scores={"fit": model}) is True


def test_why_not_names_each_failing_conjunct() -> None:
    audience = both(cmp("==", field("segment"), text("smb")), LOW_ADOPTION)
    assert why_not(audience, snap(segment="enterprise", feature_adoption=10)) == 'segment == "smb" is false'
    assert why_not(audience, snap(segment="smb")) == "feature_adoption < 20% is unknown (feature_adoption missing)"
    assert why_not(audience, snap(segment="smb", feature_adoption=10)) == ""


@pytest.mark.parametrize(
    ("expr", "shown"),
    [
        (LOW_ADOPTION, "feature_adoption < 20%"),
        (cmp("==", field("segment"), text("smb")), 'segment == "smb"'),
        (
            cmp(">=", field("seats_used"), ir.PercentOf(percent=pct(80), of=field("seats_licensed"))),
            "seats_used >= 80% of seats_licensed",
        ),
        (
            both(field("engagement_high"), cmp(">=", field("referrals_90d"), num(3))),
            "engagement_high and referrals_90d >= 3",
        ),
        (both(either(field("a"), field("b")), field("c")), "(a or b) and c"),
        (either(both(field("a"), field("b")), field("c")), "a and b or c"),
        (ir.Not(arg=ir.BandIs(score="health", band="red")), "health is not red"),
        (ir.Not(arg=either(field("a"), field("b"))), "not (a or b)"),
        (ir.ScoreRef(score="health", part="band"), "health.band"),
        (
            ir.Seen(event="signed", older_than=ir.Duration(amount=30, unit="days")),
            "seen signed more than 30 days ago",
        ),
        (ir.Seen(event="login", within=ir.Duration(amount=1, unit="weeks")), "seen login within 1 week"),
        (
            ir.CountTrue(op="exactly", count=2, args=(field("a"), field("b"), field("c"))),
            "exactly 2 of (a, b, c)",
        ),
        (
            ir.Arith(op="-", left=field("a"), right=ir.Arith(op="-", left=field("b"), right=num(1))),
            "a - (b - 1)",
        ),
        (
            ir.Arith(op="*", left=ir.Arith(op="+", left=field("a"), right=num(1.5)), right=num(2)),
            "(a + 1.5) * 2",
        ),
        (ir.TaskState(state="open"), "task open"),
        (cmp(">=", ir.EventField(name="score"), num(9.0)), "score >= 9"),
        (field("csm", "manager", "email"), "csm.manager.email"),
    ],
)
def test_describe_renders_playbook_syntax(expr: ir.Expr, shown: str) -> None:
    assert describe(expr) == shown


TRUTHS = st.sampled_from([True, False, None])


@given(a=TRUTHS, b=TRUTHS)
def test_de_morgan_holds_in_three_valued_logic(a: Any, b: Any) -> None:
    values = snap(a=a, b=b)
    negated_and = ir.Not(arg=both(field("a"), field("b")))
    or_of_negations = either(ir.Not(arg=field("a")), ir.Not(arg=field("b")))
    assert evaluate(negated_and, values) is evaluate(or_of_negations, values)


@given(a=TRUTHS, b=TRUTHS, c=TRUTHS)
def test_count_true_agrees_with_the_logic_it_abbreviates(a: Any, b: Any, c: Any) -> None:
    values = snap(a=a, b=b, c=c)
    flags = (field("a"), field("b"), field("c"))
    assert evaluate(ir.CountTrue(op="at_least", count=1, args=flags), values) is evaluate(either(*flags), values)
    assert evaluate(ir.CountTrue(op="at_least", count=3, args=flags), values) is evaluate(both(*flags), values)
